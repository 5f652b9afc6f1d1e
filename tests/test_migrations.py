"""Each service's Alembic migrations build exactly the schema its models declare."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from kit.migrations import upgrade
from services.organizations.models import Base as OrganizationsBase
from services.notifications.models import Base as NotificationsBase
from services.ratings.models import Base as RatingsBase
from services.tickets.models import Base as TicketsBase

MODELS = {"organizations": OrganizationsBase.metadata, "tickets": TicketsBase.metadata,
          "ratings": RatingsBase.metadata, "notifications": NotificationsBase.metadata}


@pytest.mark.parametrize("service", sorted(MODELS))
def test_migrations_match_the_models(service, tmp_path):
    url = f"sqlite:///{tmp_path / 'schema.db'}"
    upgrade(service, url)
    engine = create_engine(url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), MODELS[service])
    engine.dispose()
    assert differences == [], "models changed without a migration: run alembic revision --autogenerate"
