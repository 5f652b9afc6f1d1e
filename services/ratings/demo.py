"""Last year's ratings for the demo county, made through the same use cases a live county uses, so a newcomer sees
credit records, an owner evaluation, a final star rating and the rectification orders it issued.

Deterministic (seeded); runs once, when ratings first copies a freshly loaded demo county (`demo.ratings_history`,
which `redprop up` sets when it loads the demo county)."""
import datetime as dt
import random

from sqlalchemy import insert, select

from kit import auth
from services.ratings import inputs, models as m
from services.ratings.campaigns import Campaigns
from services.ratings.domain.evaluation import ballot_score
from services.ratings.domain.rules import Dimension
from services.ratings.ledger import Ledger
from services.ratings.star_ratings import StarRatings

SYSTEM = auth.system_caller("ratings-demo")


def _moment(day, hour=2):
    return dt.datetime.combine(day, dt.time(hour, 0))


def generate_last_year(session, outbox, settings, today, seed=20261122):
    """Returns what it made: {"records", "ballots", "star_rating_id", "rectifications"}."""
    rng = random.Random(seed)
    year = today.year - 1
    county = session.scalar(select(m.RegionCopy).where(m.RegionCopy.level == "county").order_by(m.RegionCopy.id))
    compounds = session.scalars(select(m.CompoundCopy).where(m.CompoundCopy.company_id.is_not(None),
                                                             m.CompoundCopy.households > 0)
                                .order_by(m.CompoundCopy.id)).all()
    if county is None or not compounds:
        return None
    _, table = inputs.rule_table(session, county.id, dt.date(year, 12, 31))

    def use(cls, now):
        return cls(session, SYSTEM, outbox, settings, now=now)

    # credit records through the year: a few items per company, at one of its compounds
    manual = [item for item in table.items if not item.trigger and not item.veto]
    by_company = {}
    for compound in compounds:
        by_company.setdefault(compound.company_id, []).append(compound)
    deductions = [item for item in manual if item.kind == "deduction"]
    weak = set(rng.sample(sorted(by_company), min(3, len(by_company))))  # the companies owners complain about
    quality = {c: rng.uniform(2.0, 2.5) if c in weak else rng.uniform(3.2, 4.8) for c in by_company}
    records = 0
    for company_id, served in sorted(by_company.items()):
        for _ in range(rng.choice((3, 4)) if company_id in weak else rng.choice((0, 1, 1, 2, 3))):
            item = rng.choice(deductions if company_id in weak else manual)
            day = dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(0, 360))
            use(Ledger, _moment(day)).record({"company_id": company_id, "compound_id": rng.choice(served).id,
                                              "item_code": item.code, "occurred_on": day,
                                              "evidence_note": "演示记录 demo record"})
            records += 1

    # the autumn owner evaluation: every compound with a company; participation varies around the threshold
    opened_at = _moment(dt.date(year, 10, 8))
    campaign = use(Campaigns, opened_at).open({
        "title": f"{year}年度业主满意度评议 owner evaluation", "region_id": county.id, "year": year,
        "closes_at": opened_at + dt.timedelta(days=21)})
    dimensions = [Dimension(**d) for d in campaign["dimensions"]]
    ballots = []
    for place in campaign["compounds"]:
        served_well = quality[place["company_id"]] + rng.gauss(0, 0.3)
        voters = int(place["households"] * rng.uniform(0.3, 0.8))
        for room in range(voters):
            answers = {d.code: max(1, min(5, round(rng.gauss(served_well, 0.8)))) for d in dimensions}
            ballots.append({"campaign_id": campaign["id"], "compound_id": place["compound_id"],
                            "company_id": place["company_id"], "room": f"demo-{room + 1}", "account_id": 0,
                            "answers": answers, "score": ballot_score(dimensions, answers),
                            "cast_at": opened_at + dt.timedelta(days=rng.randrange(0, 21))})
    for start in range(0, len(ballots), 5000):
        session.execute(insert(m.Ballot), ballots[start:start + 5000])
    campaigns = use(Campaigns, opened_at + dt.timedelta(days=21))
    campaigns._publish(campaigns._campaign(campaign["id"]))

    # the star rating: drafted after the year, on notice, final once the notice ended (just before today, so its
    # rectification orders are still running)
    drafted_at = _moment(today - dt.timedelta(days=table.notice_days + 2))
    rating = use(StarRatings, drafted_at).draft({"year": year, "county_id": county.id})
    use(StarRatings, drafted_at).publish(rating["id"])
    finished = drafted_at + dt.timedelta(days=table.notice_days, hours=1)
    use(StarRatings, finished).finalize(rating["id"])
    orders = session.scalar(select(m.Rectification.id).where(m.Rectification.star_rating_id == rating["id"])
                            .limit(1))
    return {"records": records, "ballots": len(ballots), "star_rating_id": rating["id"],
            "rectifications": orders is not None}
