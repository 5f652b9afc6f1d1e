"""Alembic per service: each service keeps its migrations in `services/<name>/migrations`."""
import importlib

from alembic import command
from sqlalchemy.orm import Session
from alembic.config import Config

from kit.config import ROOT
from kit.db import make_engine, normalize_url


def alembic_config(service_name, db_url):
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "services" / service_name / "migrations"))
    cfg.set_main_option("sqlalchemy.url", normalize_url(db_url).replace("%", "%%"))
    return cfg


def upgrade(service_name, db_url, revision="head"):
    """Migrate, then load the reference data the service needs from its first start (idempotently)."""
    command.upgrade(alembic_config(service_name, db_url), revision)
    seed(service_name, db_url)


def seed(service_name, db_url):
    try:
        module = importlib.import_module(f"services.{service_name}.seed")
    except ModuleNotFoundError:
        return
    engine = make_engine(db_url)
    with Session(engine) as session:
        module.seed(session)
        session.commit()
    engine.dispose()


def run_env(context, target_metadata):
    """The body of every service's migrations/env.py."""
    url = context.config.get_main_option("sqlalchemy.url")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                          compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()

