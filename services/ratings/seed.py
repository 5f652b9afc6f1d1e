"""Reference data the ratings service starts with (loaded by `redprop migrate`): the platform's default credit rule
table, one of the shipped examples, for counties that have not published their own."""
import datetime as dt

from sqlalchemy import select

from kit.config import load
from services.ratings import models as m
from services.ratings.domain.rules import load_example


def seed(session, settings=None):
    if session.scalar(select(m.RuleTableVersion.id).where(m.RuleTableVersion.county_id.is_(None)).limit(1)):
        return
    table = load_example((settings or load())["ratings"]["default_rule_table"])
    session.add(m.RuleTableVersion(county_id=None, code=table.code, version=table.version, name=table.name,
                                   content=table.to_dict(), effective_from=dt.date(2000, 1, 1)))
