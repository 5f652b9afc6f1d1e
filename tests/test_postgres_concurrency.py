"""pg8000 under eventlet: slow queries from green threads run at the same time, not one after another."""
import eventlet
import pytest
from sqlalchemy import text

from kit.db import make_engine
from kit.testing import temporary_database

pytestmark = pytest.mark.integration


def test_concurrent_queries_are_not_serialized(tmp_path):
    with temporary_database("postgresql", tmp_path, "concurrency") as url:
        engine = make_engine(url, pool_size=6)
        observer = make_engine(url, pool_size=1)
        seen = []

        def slow_query():
            with engine.connect() as conn:
                conn.execute(text("SELECT pg_sleep(1.5)"))

        def count_sleepers():
            with observer.connect() as conn:
                return conn.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(1.5)' "
                    "AND state = 'active'")).scalar()
        pool = eventlet.GreenPool()
        for _ in range(5):
            pool.spawn_n(slow_query)
        eventlet.sleep(0.5)  # all five have had the chance to start
        seen.append(count_sleepers())
        pool.waitall()
        engine.dispose()
        observer.dispose()
        # With a blocking driver the observer could not even run until every sleeper had finished one by one.
        assert seen == [5]
