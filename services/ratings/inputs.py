"""What scores are made of, read from the ratings database in a few grouped queries.

Every reader takes `as_of`: only facts known at that moment count (records recorded by then and not yet revoked,
campaigns published by then, ticket outcomes reported by then). Star ratings store their `as_of`, so recomputing
one later reads the same inputs.
"""
import datetime as dt
from collections import defaultdict

from sqlalchemy import and_, case, func, or_, select, union

from kit.errors import NotFound
from services.ratings import models as m
from services.ratings.domain.credit import ItemSum, score_from_sums
from services.ratings.domain.evaluation import CompoundResult, company_results
from services.ratings.domain.rules import parse_rule_table
from services.ratings.domain.stars import TicketTally

SATISFIED = ("satisfied", "basically_satisfied")


def rule_table(session, county_id, on):
    """The rule table in force in a county on a date: the county's latest version effective by then, else the
    platform default. Returns (row, RuleTable)."""
    stmt = (select(m.RuleTableVersion).where(m.RuleTableVersion.effective_from <= on)
            .order_by(m.RuleTableVersion.county_id.is_(None), m.RuleTableVersion.effective_from.desc(),
                      m.RuleTableVersion.id.desc()).limit(1))
    row = session.scalar(stmt.where(or_(m.RuleTableVersion.county_id == county_id,
                                        m.RuleTableVersion.county_id.is_(None))))
    if row is None:
        row = session.scalar(select(m.RuleTableVersion).where(or_(m.RuleTableVersion.county_id == county_id,
                                                                  m.RuleTableVersion.county_id.is_(None)))
                             .order_by(m.RuleTableVersion.effective_from, m.RuleTableVersion.id).limit(1))
    if row is None:
        raise NotFound("no credit rule table is published for this county")
    return row, parsed(row)


_PARSED = {}


def parsed(row):
    """Rule tables never change once published (a change is a new version), so each is parsed once."""
    if row.id not in _PARSED:
        _PARSED[row.id] = parse_rule_table(row.content)
    return _PARSED[row.id]


def in_force(on, as_of):
    return and_(m.CreditRecord.occurred_on <= on, m.CreditRecord.valid_until > on,
                m.CreditRecord.recorded_at <= as_of,
                or_(m.CreditRecord.revoked_at.is_(None), m.CreditRecord.revoked_at > as_of))


def credit_sums(session, on, as_of, *where, per_project=False):
    """{company_id: [ItemSum]} of the records in force on `on`; keyed (company_id, compound_id) per project."""
    r = m.CreditRecord
    keys = (r.company_id, r.compound_id) if per_project else (r.company_id,)
    rows = session.execute(
        select(*keys, r.item_code, r.kind, func.sum(r.points), func.max(case((r.veto, 1), else_=0)), func.count())
        .where(in_force(on, as_of), *where).group_by(*keys, r.item_code, r.kind))
    sums = defaultdict(list)
    for row in rows:
        key = tuple(row[:len(keys)]) if per_project else row[0]
        item_code, kind, points, veto, count = row[len(keys):]
        sums[key].append(ItemSum(item_code=item_code, kind=kind, points=float(points), veto=bool(veto), count=count))
    return sums


def credit_scores(session, table, on, as_of, *where, per_project=False):
    """{company_id (or (company_id, compound_id)): CreditScore} for those with records in force; the rest stand at
    the base score."""
    return {key: score_from_sums(table, sums)
            for key, sums in credit_sums(session, on, as_of, *where, per_project=per_project).items()}


def evaluation_results(session, region_path, year, as_of):
    """{company_id: CompanyResult} over the campaigns of a year published by `as_of` inside a region."""
    rows = session.scalars(
        select(m.CampaignCompound).join(m.Campaign)
        .where(m.Campaign.year == year, m.Campaign.region_path.startswith(region_path),
               m.Campaign.published_at.is_not(None), m.Campaign.published_at <= as_of))
    return {r.company_id: r for r in company_results(compound_result_of(row) for row in rows)}


def compound_result_of(row):
    return CompoundResult(compound_id=row.compound_id, company_id=row.company_id, households=row.households,
                          votes=row.votes or 0, participation=row.participation or 0.0, valid=bool(row.valid),
                          score=row.score, dimension_scores=row.dimension_scores)


def ticket_tallies(session, region_path, year, as_of):
    """{company_id: TicketTally} of the tickets companies received in a region in a year, as reported by `as_of`."""
    t = m.TicketOutcome
    resolved = and_(t.resolved_at.is_not(None), t.resolved_at <= as_of)
    rated = and_(t.rated_at.is_not(None), t.rated_at <= as_of)
    rows = session.execute(
        select(t.company_id, func.count(),
               func.sum(case((resolved, 1), else_=0)),
               func.sum(case((and_(resolved, t.resolved_on_time.is_(True)), 1), else_=0)),
               func.sum(case((rated, 1), else_=0)),
               func.sum(case((and_(rated, t.satisfaction.in_(SATISFIED)), 1), else_=0)))
        .where(t.year == year, t.submitted_at <= as_of, t.compound_id.in_(
            select(m.CompoundCopy.id).where(m.CompoundCopy.region_path.startswith(region_path))))
        .group_by(t.company_id))
    return {company_id: TicketTally(received=received, resolved=int(res or 0), resolved_on_time=int(on_time or 0),
                                    rated=int(rat or 0), satisfied=int(sat or 0))
            for company_id, received, res, on_time, rat, sat in rows}


def companies_in(session, region_path, county_id, year):
    """Companies a region judges in a year: those serving its compounds now, and those with credit records or
    evaluation results there that year."""
    serving = select(m.CompoundCopy.company_id).distinct().where(m.CompoundCopy.region_path.startswith(region_path),
                                                      m.CompoundCopy.company_id.is_not(None))
    recorded = select(m.CreditRecord.company_id).distinct().where(m.CreditRecord.region_path.startswith(region_path))
    evaluated = (select(m.CampaignCompound.company_id).distinct().join(m.Campaign)
                 .where(m.Campaign.year == year, m.Campaign.region_path.startswith(region_path)))
    return sorted(session.scalars(select(union(serving, recorded, evaluated).subquery().c[0])))


def year_end(year, now):
    """The date a year's credit score is read on: 31 December, or today while the year runs."""
    end = dt.date(year, 12, 31)
    return min(end, now.date())
