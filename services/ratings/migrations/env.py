from alembic import context

from kit.migrations import run_env
from services.ratings.models import Base

run_env(context, Base.metadata)
