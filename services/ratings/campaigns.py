"""Owner evaluation campaigns (业主评议): open, vote (one per household), publish results per compound and company."""
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from kit import auth
from kit.db import page
from kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from services.ratings import inputs, models as m
from services.ratings.domain import evaluation
from services.ratings.domain.rules import Dimension
from services.ratings.office import GOVERNMENT, NEIGHBOURS, READERS, Office

ORGANIZERS = (auth.STREET, auth.BUREAU)


class Campaigns(Office):
    def view(self, campaign, full=True):
        view = {c: getattr(campaign, c) for c in (
            "id", "title", "region_id", "year", "dimensions", "participation_threshold", "status", "closes_at",
            "created_at", "published_at")}
        view["open"] = self._is_open(campaign)
        if not full:
            return view
        names = self.company_names(c.company_id for c in campaign.compounds)
        compound_names = dict(self.session.execute(select(m.CompoundCopy.id, m.CompoundCopy.name).where(
            m.CompoundCopy.id.in_([c.compound_id for c in campaign.compounds]))).all())
        staff = self.caller.is_system or self.caller.reaches_path(campaign.region_path, GOVERNMENT)
        votes = dict(self.session.execute(select(m.Ballot.compound_id, func.count()).where(
            m.Ballot.campaign_id == campaign.id).group_by(m.Ballot.compound_id)).all()) if staff else {}
        published = campaign.published_at is not None
        view["compounds"] = [{
            "compound_id": c.compound_id, "compound_name": compound_names.get(c.compound_id),
            "company_id": c.company_id, "company_name": names.get(c.company_id), "households": c.households,
            # running counts only to the organizers; everyone sees the published result
            "votes": c.votes if published else votes.get(c.compound_id) if staff else None,
            "participation": c.participation, "valid": c.valid, "score": c.score,
            "dimension_scores": c.dimension_scores} for c in campaign.compounds]
        view["companies"] = [{**r.__dict__, "company_name": names.get(r.company_id)} for r in
                             evaluation.company_results(inputs.compound_result_of(c) for c in campaign.compounds)] \
            if published else []
        households = self._my_households(campaign)
        voted = set(self.session.execute(select(m.Ballot.compound_id, m.Ballot.room).where(
            m.Ballot.campaign_id == campaign.id)).all()) if households else set()
        view["my_households"] = [{"compound_id": c, "room": r, "voted": (c, r) in voted} for c, r in households]
        return view

    def _is_open(self, campaign):
        return campaign.status == "open" and self.now < campaign.closes_at

    def _my_households(self, campaign):
        compounds = {c.compound_id for c in campaign.compounds}
        return sorted({(ms.compound_id, ms.room) for ms in self.caller.memberships
                       if ms.role == auth.RESIDENT and ms.compound_id in compounds and ms.room})

    def _campaign(self, campaign_id, lock=False):
        campaign = self.session.get(m.Campaign, campaign_id, with_for_update=lock and self.on_postgresql)
        if campaign is None or not self._may_see(campaign):
            raise NotFound(f"evaluation {campaign_id} does not exist or is outside your reach")
        return campaign

    def _may_see(self, campaign):
        if self.caller.reaches_path(campaign.region_path):
            return True
        compounds = {c.compound_id for c in campaign.compounds}
        companies = {c.company_id for c in campaign.compounds}
        return bool(self.caller.ids("compound_id", *NEIGHBOURS) & compounds
                    or self.caller.ids("company_id", auth.COMPANY) & companies)

    def get(self, campaign_id):
        return self.view(self._campaign(campaign_id))

    def list(self, query):
        stmt = select(m.Campaign).order_by(m.Campaign.id.desc())
        if not self.caller.is_system:
            clauses = [m.Campaign.region_path.startswith(p) for p in self.caller.region_paths(*READERS)]
            compounds = self.caller.ids("compound_id", *NEIGHBOURS)
            companies = self.caller.ids("company_id", auth.COMPANY)
            if compounds or companies:
                inside = select(m.CampaignCompound.campaign_id).where(or_(
                    m.CampaignCompound.compound_id.in_(compounds), m.CampaignCompound.company_id.in_(companies)))
                clauses.append(m.Campaign.id.in_(inside))
            stmt = stmt.where(or_(*clauses)) if clauses else stmt.where(m.Campaign.id.is_(None))
        for key in ("year", "status"):
            if key in query:
                stmt = stmt.where(getattr(m.Campaign, key) == query[key])
        return page(self.session, stmt, query, lambda c: self.view(c, full=False))

    def open(self, data):
        """A street or the bureau opens a campaign over its compounds that have a company and households."""
        self.caller.require(*ORGANIZERS)
        region = self.region(data["region_id"], ORGANIZERS)
        if data["closes_at"] <= self.now:
            raise ValidationFailed("the campaign must close in the future", details={"closes_at": ["in the past"]})
        _, table = self.rule_table(self.county_of(region.path))
        dimensions = data.get("dimensions") or [d.__dict__ for d in table.dimensions]
        total = sum(d["weight"] for d in dimensions)
        if abs(total - 1) > 1e-6 or len({d["code"] for d in dimensions}) != len(dimensions):
            raise ValidationFailed("dimension codes must be unique and weights must add up to 1",
                                   details={"dimensions": [f"weights add up to {total:g}"]})
        stmt = select(m.CompoundCopy).where(m.CompoundCopy.region_path.startswith(region.path),
                                            m.CompoundCopy.company_id.is_not(None), m.CompoundCopy.households > 0)
        if data.get("compound_ids"):
            stmt = stmt.where(m.CompoundCopy.id.in_(data["compound_ids"]))
        compounds = self.session.scalars(stmt.order_by(m.CompoundCopy.id)).all()
        missing = set(data.get("compound_ids") or ()) - {c.id for c in compounds}
        if missing:
            raise ValidationFailed("some compounds are outside the region or have no company to evaluate",
                                   details={"compound_ids": sorted(missing)})
        if not compounds:
            raise ValidationFailed("no compound in this region has a company to evaluate")
        campaign = m.Campaign(
            title=data["title"], region_id=region.id, region_path=region.path, year=data.get("year") or self.today.year,
            dimensions=dimensions, participation_threshold=data.get("participation_threshold")
            or table.participation_threshold, status="open", closes_at=data["closes_at"],
            created_by=self.caller.account_id, created_at=self.now)
        campaign.compounds = [m.CampaignCompound(compound_id=c.id, company_id=c.company_id, households=c.households)
                              for c in compounds]
        self.session.add(campaign)
        self.session.flush()
        self.emit("evaluation_opened", {**self._state(campaign), "compounds": len(compounds)})
        return self.view(campaign)

    def _state(self, campaign):
        return {"campaign_id": campaign.id, "region_id": campaign.region_id, "region_path": campaign.region_path,
                "year": campaign.year, "closes_at": campaign.closes_at}

    def vote(self, campaign_id, data):
        """One vote per household (楼-单元-室) of a compound in the campaign, by a resident of that household."""
        campaign = self._campaign(campaign_id)
        if not self._is_open(campaign):
            raise Conflict("this evaluation is closed", details={"status": campaign.status})
        households = self._my_households(campaign)
        if not households:
            if self.caller.has_role(auth.RESIDENT):
                raise Forbidden("your household is not registered in a compound of this evaluation",
                                details={"room": ["a resident membership with a room is needed"]})
            raise Forbidden("only residents vote in owner evaluations")
        for position, key in enumerate(("compound_id", "room")):
            if key in data:
                households = [h for h in households if h[position] == data[key]]
                if not households:
                    raise Forbidden(f"you are not a resident of that {key.replace('_id', '')}")
        compound_id, room = households[0]
        place = next(c for c in campaign.compounds if c.compound_id == compound_id)
        dimensions = [Dimension(**d) for d in campaign.dimensions]
        score = evaluation.ballot_score(dimensions, data["answers"])
        ballot = m.Ballot(campaign_id=campaign.id, compound_id=compound_id, company_id=place.company_id, room=room,
                          account_id=self.caller.account_id, answers=data["answers"], score=score, cast_at=self.now)
        voted = Conflict("your household has already voted in this evaluation", details={"compound_id": compound_id})
        if self.session.scalar(select(m.Ballot.id).where(m.Ballot.campaign_id == campaign.id,
                                                         m.Ballot.compound_id == compound_id, m.Ballot.room == room)):
            raise voted
        self.session.add(ballot)
        try:
            self.session.flush()  # two members of one household racing: the unique key decides, the loser gets 409
        except IntegrityError:
            raise voted from None
        return {"campaign_id": campaign.id, "compound_id": compound_id, "score": score, "cast_at": self.now}

    def publish(self, campaign_id):
        campaign = self._campaign(campaign_id, lock=True)
        self.require_authority(campaign.region_path, "street", "bureau", what="publish this evaluation")
        if campaign.status != "open":
            raise Conflict("this evaluation is already published")
        return self.view(self._publish(campaign))

    def _publish(self, campaign):
        """Count the ballots per compound in one grouped query; a compound under the threshold is not valid."""
        codes = [d["code"] for d in campaign.dimensions]
        b = m.Ballot
        rows = self.session.execute(
            select(b.compound_id, func.count(), func.avg(b.score),
                   *[func.avg(b.answers[code].as_float()) for code in codes])
            .where(b.campaign_id == campaign.id).group_by(b.compound_id))
        counted = {row[0]: row[1:] for row in rows}
        results = []
        for place in campaign.compounds:
            votes, average, *dimension_averages = counted.get(place.compound_id, (0, None) + (None,) * len(codes))
            results.append(evaluation.compound_result(
                campaign.participation_threshold, place.compound_id, place.company_id, place.households, votes,
                average, dict(zip(codes, dimension_averages))))
        campaign.status = "published"
        campaign.published_at = self.now
        self._store_results(campaign, results)
        self.emit("evaluation_published", {
            **self._state(campaign), "participation_threshold": campaign.participation_threshold,
            "compounds": [r.__dict__ for r in results],
            "companies": [r.__dict__ for r in evaluation.company_results(results)]})
        return campaign

    def _store_results(self, campaign, results):
        """The campaign's rows again, with their results, in multi-row INSERTs: one UPDATE per compound would be a
        round trip each (10,000 compounds: seconds). The rows' ORM objects are refreshed afterwards."""
        self.session.flush()
        table = m.CampaignCompound.__table__
        self.session.execute(table.delete().where(table.c.campaign_id == campaign.id))
        self.session.execute(table.insert(), [{
            "campaign_id": campaign.id, "compound_id": r.compound_id, "company_id": r.company_id,
            "households": r.households, "votes": r.votes, "participation": r.participation, "valid": r.valid,
            "score": r.score, "dimension_scores": r.dimension_scores} for r in results])
        for place in campaign.compounds:
            self.session.expire(place)

    def publish_due(self, batch=50):
        """Campaigns past their closing time publish themselves."""
        due = self.session.scalars(self.skip_locked(select(m.Campaign).where(
            m.Campaign.status == "open", m.Campaign.closes_at <= self.now).limit(batch))).all()
        for campaign in due:
            self._publish(campaign)
        return len(due)
