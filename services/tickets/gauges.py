"""Governance figures for Prometheus, read from the tickets database (every tickets process reports the same)."""
import datetime as dt

from sqlalchemy import and_, case, func, or_, select

from kit import metrics
from services.tickets import models as m
from services.tickets.domain.workflow import OPEN_STATUSES


def measure(session, now):
    metrics.set_gauge(metrics.TICKETS, dict(session.execute(
        select(m.Ticket.status, func.count()).group_by(m.Ticket.status)).all()), "status")
    metrics.TICKETS_OVERDUE.set(session.scalar(select(func.count()).select_from(m.Ticket).where(
        m.Ticket.status.in_(OPEN_STATUSES), or_(m.Ticket.overdue_since.is_not(None), m.Ticket.due_at < now))))
    since = now - dt.timedelta(days=30)
    metrics.set_gauge(metrics.TICKETS_ESCALATED_30D, dict(session.execute(
        select(m.Ticket.level, func.count()).where(m.Ticket.created_at >= since, m.Ticket.escalations > 0)
        .group_by(m.Ticket.level)).all()), "level")
    resolved, on_time = session.execute(select(func.count(), func.sum(case(
        (or_(m.Ticket.resolve_deadline.is_(None), m.Ticket.resolved_at <= m.Ticket.resolve_deadline), 1), else_=0)))
        .where(m.Ticket.resolved_at >= since)).one()
    metrics.TICKETS_ON_TIME_30D.set(round((on_time or 0) / resolved, 4) if resolved else 1)
    metrics.set_gauge(metrics.TICKETS_RATED_30D, dict(session.execute(
        select(m.Ticket.satisfaction, func.count()).where(and_(m.Ticket.rated_at >= since,
                                                               m.Ticket.satisfaction.is_not(None)))
        .group_by(m.Ticket.satisfaction)).all()), "satisfaction")
