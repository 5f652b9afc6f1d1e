"""The yearly star rating (星级评定): draft → public notice with objections (公示) → final; rankings; demonstration
projects (红色物业示范项目)."""
import datetime as dt

from sqlalchemy import select

from kit import auth
from kit.db import page, page_of_list
from kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from services.ratings import inputs, models as m
from services.ratings.domain import credit, stars
from services.ratings.domain.ranking import ProjectCandidate, rank, select_demonstration
from services.ratings.ledger import Ledger
from services.ratings.office import GOVERNMENT, Office, county_path
from services.ratings.rectifications import Rectifications


def compute_entries(session, table, county_id, county_path, year, as_of):
    """Each company's components, composite and stars for a county's year, from the facts known at `as_of`.
    The one function behind drafts, their verification, rankings and the benchmark."""
    on = inputs.year_end(year, as_of)
    companies = inputs.companies_in(session, county_path, county_id, year)
    scores = inputs.credit_scores(session, table, on, as_of, m.CreditRecord.county_id == county_id)
    evaluations = inputs.evaluation_results(session, county_path, year, as_of)
    tallies = inputs.ticket_tallies(session, county_path, year, as_of)
    base = credit.score_from_sums(table, [])
    entries = []
    for company_id in companies:
        score = scores.get(company_id, base)
        result = evaluations.get(company_id)
        tally = tallies.get(company_id)
        components = stars.Components(
            evaluation=result.score if result and result.valid else None, credit=score.score,
            tickets=stars.ticket_score(tally) if tally else None, veto=score.veto)
        composite = stars.composite(table, components)
        computed = stars.stars_for(table, composite, score.veto)
        entries.append({"company_id": company_id, "evaluation_score": components.evaluation,
                        "credit_score": score.score, "credit_grade": score.grade, "ticket_score": components.tickets,
                        "veto": score.veto, "composite": composite, "computed_stars": computed})
    return entries


class StarRatings(Office):
    # ----- views -----
    def entry_view(self, entry, names):
        view = {c: getattr(entry, c) for c in (
            "company_id", "evaluation_score", "credit_score", "credit_grade", "ticket_score", "veto", "composite",
            "computed_stars", "stars", "objection", "objection_status", "objected_at", "decision_note",
            "decided_at")}
        view["company_name"] = names.get(entry.company_id)
        view["stars_label"] = stars.STAR_LABELS.get(entry.stars)
        return view

    def view(self, rating, full=True):
        view = {c: getattr(rating, c) for c in ("id", "county_id", "year", "rule_table_id", "status", "as_of",
                                                "notice_until", "created_at", "noticed_at", "finalized_at")}
        if full:
            names = self.company_names(e.company_id for e in rating.entries)
            entries = [self.entry_view(e, names) for e in rating.entries]
            view["entries"] = rank(entries, "composite")
        return view

    def _rating(self, rating_id, lock=False):
        rating = self.session.scalar(self.locked(select(m.StarRating).where(m.StarRating.id == rating_id), lock))
        if rating is None or not self._may_see(rating):
            raise NotFound(f"star rating {rating_id} does not exist or is outside your reach")
        return rating

    def _may_see(self, rating):
        """Drafts are the bureau's working papers; on notice and final the rating is public (公示)."""
        return rating.status != "draft" or self.caller.reaches_path(rating.county_path, GOVERNMENT)

    def get(self, rating_id):
        return self.view(self._rating(rating_id))

    def list(self, query):
        stmt = select(m.StarRating).order_by(m.StarRating.year.desc(), m.StarRating.id.desc())
        if not self.caller.is_system:
            counties = [p for p in self.caller.region_paths(*GOVERNMENT) if p == county_path(p)]  # county staff
            stmt = stmt.where((m.StarRating.status != "draft") | m.StarRating.county_path.in_(counties or [""]))
        for key in ("year", "status", "county_id"):
            if key in query:
                stmt = stmt.where(getattr(m.StarRating, key) == query[key])
        return page(self.session, stmt, query, lambda r: self.view(r, full=False))

    # ----- draft -----
    def draft(self, data):
        self.caller.require(auth.BUREAU)
        county = self.region(data["county_id"], (auth.BUREAU,)) if "county_id" in data else \
            self.home_region((auth.BUREAU,))
        if county.level != "county":
            raise ValidationFailed("star ratings are made for a county", details={"county_id": ["not a county"]})
        if data["year"] > self.today.year:
            raise ValidationFailed("that year has not begun", details={"year": [str(data["year"])]})
        existing = self.session.scalar(select(m.StarRating).where(m.StarRating.county_id == county.id,
                                                                  m.StarRating.year == data["year"]))
        if existing is not None:
            raise Conflict(f"the {data['year']} star rating exists; recompute its draft instead",
                           details={"star_rating_id": existing.id, "status": existing.status})
        table_row, _ = self.rule_table(county.id, inputs.year_end(data["year"], self.now))
        rating = m.StarRating(county_id=county.id, county_path=county.path, year=data["year"],
                              rule_table_id=table_row.id, status="draft", as_of=self.now,
                              created_by=self.caller.account_id, created_at=self.now)
        self.session.add(rating)
        self._fill(rating)
        self.session.flush()
        return self.view(rating)

    def _fill(self, rating):
        table = inputs.parsed(self.session.get(m.RuleTableVersion, rating.rule_table_id))
        rating.entries = [m.StarRatingEntry(**entry, stars=entry["computed_stars"]) for entry in compute_entries(
            self.session, table, rating.county_id, rating.county_path, rating.year, rating.as_of)]

    def recompute(self, rating_id):
        """Refresh a draft with what is known now."""
        rating = self._rating(rating_id, lock=True)
        self.require_authority(rating.county_path, "bureau", what="recompute star ratings")
        if rating.status != "draft":
            raise Conflict("only a draft is recomputed", details={"status": rating.status})
        for entry in list(rating.entries):
            self.session.delete(entry)
        self.session.flush()
        rating.as_of = self.now
        self._fill(rating)
        self.session.flush()
        return self.view(rating)

    def verify(self, rating_id):
        """Compute the rating again from the stored records as of its `as_of` and compare with what is stored."""
        rating = self._rating(rating_id)
        table = inputs.parsed(self.session.get(m.RuleTableVersion, rating.rule_table_id))
        again = {e["company_id"]: e for e in compute_entries(self.session, table, rating.county_id,
                                                             rating.county_path, rating.year, rating.as_of)}
        fields = ("evaluation_score", "credit_score", "credit_grade", "ticket_score", "veto", "composite",
                  "computed_stars")
        differences = []
        for entry in rating.entries:
            computed = again.pop(entry.company_id, None)
            for field in fields:
                if computed is None or computed[field] != getattr(entry, field):
                    differences.append({"company_id": entry.company_id, "field": field,
                                        "stored": getattr(entry, field),
                                        "recomputed": computed[field] if computed else None})
        differences += [{"company_id": c, "field": "entry", "stored": None, "recomputed": "present"} for c in again]
        return {"star_rating_id": rating.id, "as_of": rating.as_of, "entries": len(rating.entries),
                "matches": not differences, "differences": differences}

    def adjust(self, rating_id, company_id, data):
        """The bureau may adjust a draft with a reason; on notice only an objection's decision changes stars."""
        rating = self._rating(rating_id, lock=True)
        self.require_authority(rating.county_path, "bureau", what="adjust star ratings")
        if rating.status == "final":
            raise Conflict("the star rating is final and cannot be edited", details={"status": rating.status})
        if rating.status == "notice":
            raise Conflict("during the public notice stars change only by deciding an objection",
                           details={"status": rating.status})
        entry = self._entry(rating, company_id)
        entry.stars = data["stars"]
        entry.decision_note = data["note"]
        entry.decided_by, entry.decided_at = self.caller.account_id, self.now
        return self.view(rating)

    def _entry(self, rating, company_id):
        entry = next((e for e in rating.entries if e.company_id == company_id), None)
        if entry is None:
            raise NotFound(f"company {company_id} is not in this star rating")
        return entry

    # ----- notice, objections, final -----
    def _round_state(self, rating):
        return {"star_rating_id": rating.id, "county_id": rating.county_id, "year": rating.year,
                "status": rating.status}

    def _entries_state(self, rating):
        return [{"company_id": e.company_id, "stars": e.stars, "composite": e.composite} for e in rating.entries]

    def publish(self, rating_id):
        rating = self._rating(rating_id, lock=True)
        self.require_authority(rating.county_path, "bureau", what="publish star ratings")
        if rating.status != "draft":
            raise Conflict("only a draft goes on public notice", details={"status": rating.status})
        table = inputs.parsed(self.session.get(m.RuleTableVersion, rating.rule_table_id))
        rating.status = "notice"
        rating.noticed_at = self.now
        rating.notice_until = self.now + dt.timedelta(days=table.notice_days)
        self.emit("star_rating_noticed", {**self._round_state(rating), "notice_until": rating.notice_until,
                                          "entries": self._entries_state(rating)})
        return self.view(rating)

    def object(self, rating_id, company_id, reason):
        rating = self._rating(rating_id, lock=True)
        if not self.is_company_staff(company_id):
            raise Forbidden("only the company's own staff object to its stars")
        if rating.status != "notice" or self.now >= rating.notice_until:
            raise Conflict("objections are taken only during the public notice",
                           details={"status": rating.status, "notice_until": rating.notice_until})
        entry = self._entry(rating, company_id)
        if entry.objection_status is not None:
            raise Conflict("this company has already objected", details={"objection_status": entry.objection_status})
        entry.objection, entry.objection_status = reason, "pending"
        entry.objected_by, entry.objected_at = self.caller.account_id, self.now
        self.emit("star_rating_objection_filed", {**self._round_state(rating), "company_id": company_id})
        return self.view(rating)

    def decide(self, rating_id, company_id, data):
        """Upheld: the stars become what the bureau decides; rejected: they stay."""
        rating = self._rating(rating_id, lock=True)
        self.require_authority(rating.county_path, "bureau", what="decide objections to star ratings")
        if rating.status != "notice":
            raise Conflict("objections are decided while the rating is on notice", details={"status": rating.status})
        entry = self._entry(rating, company_id)
        if entry.objection_status != "pending":
            raise Conflict("there is no pending objection", details={"objection_status": entry.objection_status})
        if data["decision"] == "upheld":
            if data.get("stars") is None:
                raise ValidationFailed("an upheld objection names the stars", details={"stars": ["required"]})
            entry.stars = data["stars"]
        entry.objection_status = data["decision"]
        entry.decision_note = data["note"]
        entry.decided_by, entry.decided_at = self.caller.account_id, self.now
        self.emit("star_rating_objection_decided", {**self._round_state(rating), "company_id": company_id,
                                                    "decision": data["decision"], "stars": entry.stars})
        return self.view(rating)

    def finalize(self, rating_id):
        rating = self._rating(rating_id, lock=True)
        self.require_authority(rating.county_path, "bureau", what="finalize star ratings")
        self._check_finalizable(rating)
        return self.view(self._finalize(rating))

    def _check_finalizable(self, rating):
        if rating.status != "notice":
            raise Conflict("only a rating on notice becomes final", details={"status": rating.status})
        if self.now < rating.notice_until:
            raise Conflict("the public notice has not ended", details={"notice_until": rating.notice_until})
        pending = [e.company_id for e in rating.entries if e.objection_status == "pending"]
        if pending:
            raise Conflict("objections are still pending", details={"company_ids": pending})

    def _finalize(self, rating):
        table = inputs.parsed(self.session.get(m.RuleTableVersion, rating.rule_table_id))
        rating.status = "final"
        rating.finalized_at = self.now
        self.emit("star_rating_finalized", {**self._round_state(rating), "entries": self._entries_state(rating)})
        orders = Rectifications(self.session, self.caller, self.outbox, self.settings, now=self.now)
        for entry in rating.entries:
            if stars.needs_rectification(table, entry.stars):
                orders.order_for_stars(rating, entry, table)
        return rating

    def finalize_due(self):
        """Ratings whose notice ended with every objection decided become final by themselves (公示期满)."""
        done = 0
        for rating in self.session.scalars(self.skip_locked(select(m.StarRating).where(
                m.StarRating.status == "notice", m.StarRating.notice_until <= self.now))).all():
            if not any(e.objection_status == "pending" for e in rating.entries):
                self._finalize(rating)
                done += 1
        return done

    # ----- rankings -----
    def rankings(self, query):
        """Companies of a region ranked by a measure: from the year's published rating when there is one, else
        computed live (marked provisional)."""
        region = self.region(query["region_id"]) if "region_id" in query else self.home_region()
        year = query.get("year") or self.today.year
        county_id = self.county_of(region.path)
        rating = self.session.scalar(select(m.StarRating).where(
            m.StarRating.county_id == county_id, m.StarRating.year == year, m.StarRating.status != "draft"))
        if rating is not None:
            rows = [{c: getattr(e, c) for c in ("company_id", "evaluation_score", "credit_score", "credit_grade",
                                               "ticket_score", "veto", "composite", "stars")}
                    for e in rating.entries]
        else:
            _, table = self.rule_table(county_id, inputs.year_end(year, self.now))
            rows = [{**{k: v for k, v in e.items() if k != "computed_stars"}, "stars": e["computed_stars"]}
                    for e in compute_entries(self.session, table, county_id, f"/{county_id}/", year, self.now)]
        if region.level != "county":
            serving = set(inputs.companies_in(self.session, region.path, county_id, year))
            rows = [r for r in rows if r["company_id"] in serving]
        names = self.company_names(r["company_id"] for r in rows)
        for row in rows:
            row["company_name"] = names.get(row["company_id"])
        return {"region_id": region.id, "year": year, "by": query["by"],
                "source": f"star rating {rating.id} ({rating.status})" if rating else "provisional",
                "items": rank(rows, query["by"])}

    # ----- demonstration projects -----
    def select_demonstration(self, data):
        self.caller.require(auth.BUREAU)
        county = self.region(data["county_id"], (auth.BUREAU,)) if "county_id" in data else \
            self.home_region((auth.BUREAU,))
        year = data["year"]
        rating = self.session.scalar(select(m.StarRating).where(
            m.StarRating.county_id == county.id, m.StarRating.year == year, m.StarRating.status == "final"))
        if rating is None:
            raise Conflict("demonstration projects are chosen from a final star rating of that year")
        if self.session.scalar(select(m.DemonstrationProject.id).where(
                m.DemonstrationProject.county_id == county.id, m.DemonstrationProject.year == year).limit(1)):
            raise Conflict(f"the {year} demonstration projects are already selected")
        table_row = self.session.get(m.RuleTableVersion, rating.rule_table_id)  # the rating's own table
        table = inputs.parsed(table_row)
        company_stars = {e.company_id: e for e in rating.entries}
        on = inputs.year_end(year, self.now)
        projects = inputs.credit_scores(self.session, table, on, self.now, m.CreditRecord.county_id == county.id,
                                        m.CreditRecord.compound_id.is_not(None), per_project=True)
        results = self.session.scalars(select(m.CampaignCompound).join(m.Campaign).where(
            m.Campaign.year == year, m.Campaign.region_path.startswith(county.path),
            m.Campaign.published_at.is_not(None)).order_by(m.Campaign.published_at)).all()
        latest = {(r.company_id, r.compound_id): r for r in results}  # the latest campaign's result wins
        base = credit.score_from_sums(table, [])
        candidates = []
        for (company_id, compound_id), result in latest.items():
            entry = company_stars.get(company_id)
            project = projects.get((company_id, compound_id), base)
            candidates.append(ProjectCandidate(
                compound_id=compound_id, company_id=company_id, stars=entry.stars if entry else None,
                evaluation=result.score if result.valid else None, credit=project.score,
                veto=project.veto or bool(entry and entry.veto)))
        chosen = select_demonstration(table, candidates)
        items = table.items_for_trigger("demonstration_award")
        ledger = Ledger(self.session, self.caller, self.outbox, self.settings, now=self.now)
        selected = []
        for position, candidate in enumerate(chosen, start=1):
            compound = self.compound(candidate.compound_id)
            records = [ledger.add_record(company_id=candidate.company_id, compound=compound, item=item,
                                         table_row=table_row, occurred_on=self.today, authority="system",
                                         source="automatic", evidence_kind="demonstration", evidence_ref=str(year))
                       for item in items]
            project = m.DemonstrationProject(
                county_id=county.id, year=year, compound_id=candidate.compound_id, company_id=candidate.company_id,
                rank=position, stars=candidate.stars, evaluation_score=candidate.evaluation,
                credit_score=candidate.credit, credit_record_id=records[0].id if records else None,
                selected_by=self.caller.account_id, selected_at=self.now)
            self.session.add(project)
            selected.append(project)
        self.session.flush()
        self.emit("demonstration_projects_selected", {
            "county_id": county.id, "year": year,
            "projects": [{"compound_id": p.compound_id, "company_id": p.company_id, "rank": p.rank}
                         for p in selected]})
        return self._projects_page(selected, {"page": 1, "page_size": max(1, len(selected))})

    def list_demonstration(self, query):
        stmt = select(m.DemonstrationProject).order_by(m.DemonstrationProject.year.desc(),
                                                       m.DemonstrationProject.rank)
        for key in ("year", "county_id"):
            if key in query:
                stmt = stmt.where(getattr(m.DemonstrationProject, key) == query[key])
        rows = self.session.scalars(stmt).all()
        return self._projects_page(rows, query)

    def _projects_page(self, rows, query):
        names = self.company_names(r.company_id for r in rows)
        compounds = dict(self.session.execute(select(m.CompoundCopy.id, m.CompoundCopy.name).where(
            m.CompoundCopy.id.in_([r.compound_id for r in rows]))).all())
        items = [{**{c: getattr(r, c) for c in ("id", "county_id", "year", "compound_id", "company_id", "rank",
                                                 "stars", "evaluation_score", "credit_score", "selected_at")},
                  "compound_name": compounds.get(r.compound_id), "company_name": names.get(r.company_id)}
                 for r in rows]
        return page_of_list(items, query)
