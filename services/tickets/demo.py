"""A year of demo tickets for the demo county: deterministic, with realistic outcomes.

Written straight into the tickets database as history (no events: consumers that start later see only what
happens from then on). Each ticket follows the rules a live one would: routed by its category, deadlines on the
working calendar, late claims escalated one level, most resolved and rated. Returns the plain records it wrote,
so a test can count them independently of the statistics code.
"""
import datetime as dt
import random

from sqlalchemy import select

from services.tickets import models as m
from services.tickets.domain.routing import escalate, route
from services.tickets.domain.workflow import Status
from services.tickets.registry_copy import compound_facts, department_id, path_ids

CHANNELS = ("online",) * 6 + ("hotline",) * 2 + ("reception", "walk_in")
SATISFACTION_WEIGHTS = (("satisfied", 70), ("basically_satisfied", 20), ("dissatisfied", 10))


def _working_instant(calendar, rng, day):
    start = calendar.add_working_hours(dt.datetime.combine(day, dt.time(0, 0)), 0)
    return start + dt.timedelta(minutes=rng.randrange(0, int(calendar.workday_hours * 60) - 30))


def generate_year(session, calendar, first_day, count, seed=20261122):
    rng = random.Random(seed)
    compounds = session.scalars(select(m.CompoundCopy).order_by(m.CompoundCopy.id)).all()
    categories = [c for c in session.scalars(select(m.Category).order_by(m.Category.code))
                  if c.responsible is not None]
    if not compounds or not categories:
        raise RuntimeError("the registry copy and the categories must be there before demo tickets")
    records = []
    workdays = [first_day + dt.timedelta(days=d) for d in range(365)
                if calendar.is_workday(first_day + dt.timedelta(days=d))]
    for n in range(count):
        compound, category = rng.choice(compounds), rng.choice(categories)
        facts = compound_facts(compound)
        created = _working_instant(calendar, rng, rng.choice(workdays))
        assignment = route(category.responsible, facts, department_id(session, category.department_code))
        level_start = created  # when the current body got the ticket
        escalations = 0
        while True:  # each body took `delay` working hours to claim; too slow and the ticket moves up
            delay = category.claim_hours * rng.choice((0.2, 0.5, 0.8, 0.9, 1.5))
            upper = escalate(assignment, facts) if delay > category.claim_hours and escalations < 2 else None
            if upper is None:
                break
            level_start = calendar.add_working_hours(level_start, category.claim_hours)
            assignment, escalations = upper, escalations + 1
        claim_deadline = calendar.add_working_hours(level_start, category.claim_hours)
        resolve_deadline = calendar.add_working_hours(level_start, category.resolve_hours)
        roll = rng.random()
        claimed_at = resolved_at = satisfaction = None
        status = Status.SUBMITTED
        if roll < 0.97:
            claimed_at = calendar.add_working_hours(level_start, delay)
            status = Status.IN_PROGRESS
        if roll < 0.92:
            resolved_at = calendar.add_working_hours(
                claimed_at, category.resolve_hours * rng.choice((0.2, 0.4, 0.7, 0.9, 1.3)))
            status = Status.RESOLVED
        if roll < 0.85:
            satisfaction = rng.choices([s for s, _w in SATISFACTION_WEIGHTS], [w for _s, w in SATISFACTION_WEIGHTS])[0]
            status = Status.REOPEN_REQUESTED if satisfaction == "dissatisfied" else Status.CLOSED
        records.append(_write(session, calendar, n, compound, category, assignment, created, claim_deadline,
                              resolve_deadline, claimed_at, resolved_at, status, satisfaction, escalations, rng))
    session.flush()
    return records


def _write(session, calendar, n, compound, category, assignment, created, claim_deadline, resolve_deadline,
           claimed_at, resolved_at, status, satisfaction, escalations, rng):
    ids = path_ids(compound.region_path)
    ticket = m.Ticket(
        code=f"D{created:%Y%m%d}-{n:06d}", compound_id=compound.id, community_id=compound.community_id,
        street_id=ids[1] if len(ids) > 1 else None, region_path=compound.region_path, company_id=compound.company_id,
        category=category, title=category.name.split(" ")[0], description="演示工单 demo ticket",
        channel=rng.choice(CHANNELS), private=not category.public, priority=category.priority, status=status,
        level=assignment.level, handler_kind=assignment.kind, handler_id=assignment.target_id,
        claim_deadline=claim_deadline, resolve_deadline=resolve_deadline, claimed_at=claimed_at,
        resolved_at=resolved_at, solved_level=assignment.level if resolved_at else None,
        handling_hours=round(calendar.working_hours_between(created, resolved_at), 2) if resolved_at else None,
        escalations=escalations, satisfaction=satisfaction, created_at=created,
        closed_at=resolved_at if status == Status.CLOSED else None,
        due_at=None)  # history: its clocks have stopped
    session.add(ticket)
    return {"compound_id": compound.id, "community_id": compound.community_id, "company_id": compound.company_id,
            "created_at": created, "claimed_at": claimed_at, "resolved_at": resolved_at,
            "claim_deadline": claim_deadline, "resolve_deadline": resolve_deadline, "satisfaction": satisfaction,
            "escalations": escalations, "solved_level": assignment.level if resolved_at else None}

