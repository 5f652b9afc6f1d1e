"""Ticket statistics added up by the database (GROUP BY), for counties with a million tickets.

The on-time rules here are the SQL form of `TicketFacts.claimed_on_time` / `resolved_on_time` in
domain/statistics.py; `summary` turns the sums into rows exactly as for facts counted in Python, and
tests/test_tickets_statistics.py checks both ways agree.
"""
from sqlalchemy import and_, case, func, literal, or_, select

from services.tickets import models as m
from services.tickets.domain import statistics

T = m.Ticket
GROUP_COLUMNS = {"company": T.company_id, "compound": T.compound_id, "community": T.community_id,
                 "street": T.street_id, "county": literal("county")}


def _flag(condition):
    return func.sum(case((condition, 1), else_=0))


def grouped_statistics(session, where, by):
    key = GROUP_COLUMNS[by].label("key")
    claimed_on_time = and_(T.claimed_at.is_not(None), or_(T.claim_deadline.is_(None),
                                                          T.claimed_at <= T.claim_deadline))
    resolved_on_time = and_(T.resolved_at.is_not(None), or_(T.resolve_deadline.is_(None),
                                                            T.resolved_at <= T.resolve_deadline))
    with_hours = and_(T.resolved_at.is_not(None), T.handling_hours.is_not(None))
    columns = [
        key, func.count().label("received"), func.count(T.claimed_at).label("claimed"),
        _flag(claimed_on_time).label("claimed_on_time"), func.count(T.resolved_at).label("resolved"),
        _flag(resolved_on_time).label("resolved_on_time"),
        func.sum(case((with_hours, T.handling_hours), else_=0.0)).label("hours_sum"),
        _flag(with_hours).label("hours_count"),
        *[_flag(T.satisfaction == level).label(level) for level in statistics.SATISFACTION],
        _flag(T.escalations > 0).label("escalated"), func.sum(T.escalations).label("escalations"),
        *[_flag(and_(T.resolved_at.is_not(None), T.solved_level == level)).label(f"solved_{level}")
          for level in statistics.LEVELS],
    ]
    postgres = session.bind.dialect.name == "postgresql"
    if postgres:  # nearest-rank p90, the same as statistics.p90
        columns.append(func.percentile_disc(0.9).within_group(T.handling_hours)
                       .filter(with_hours).label("p90_hours"))
    rows = session.execute(select(*columns).where(where).group_by(key)).mappings().all()
    p90s = {} if postgres else _p90_in_python(session, where, key)
    counters = {}
    for row in rows:
        counters[row["key"]] = statistics.Counters(
            received=row["received"], claimed=row["claimed"], claimed_on_time=row["claimed_on_time"] or 0,
            resolved=row["resolved"], resolved_on_time=row["resolved_on_time"] or 0,
            hours_sum=float(row["hours_sum"] or 0), hours_count=row["hours_count"] or 0,
            p90_hours=row["p90_hours"] if postgres else p90s.get(row["key"]),
            satisfied=row["satisfied"] or 0, basically_satisfied=row["basically_satisfied"] or 0,
            dissatisfied=row["dissatisfied"] or 0, escalated=row["escalated"] or 0,
            escalations=row["escalations"] or 0,
            solved_at={level: row[f"solved_{level}"] or 0 for level in statistics.LEVELS})
    if by == "county" and not counters:  # a county with no tickets still has its row, of zeros
        counters["county"] = statistics.Counters()
    keys = sorted(counters, key=lambda k: (k is None, k if k is not None else 0) if by != "county" else 0)
    return [{"key": k, **statistics.summary(counters[k])} for k in keys]


def _p90_in_python(session, where, key):
    """SQLite has no percentile function: read only the handling hours, per group."""
    hours = {}
    stmt = select(key, T.handling_hours).where(where, T.resolved_at.is_not(None), T.handling_hours.is_not(None))
    for group, value in session.execute(stmt):
        hours.setdefault(group, []).append(value)
    return {group: statistics.p90(values) for group, values in hours.items()}
