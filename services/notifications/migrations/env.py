from alembic import context

from kit.migrations import run_env
from services.notifications.models import Base

run_env(context, Base.metadata)
