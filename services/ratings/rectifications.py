"""Rectification orders (责令整改): order → response → re-inspection → closed, or again one level up; repeated
failure recommends the compound's owners' organization to replace the company (末位淘汰)."""
import datetime as dt

from sqlalchemy import or_, select

from kit import auth
from kit.db import page
from kit.errors import Forbidden, NotFound, ValidationFailed
from services.ratings import models as m
from services.ratings.domain import rectification as flow
from services.ratings.domain.stars import STAR_LABELS
from services.ratings.office import GOVERNMENT, NEIGHBOURS, Office

LEVELS = ("street", "bureau")


class Rectifications(Office):
    def view(self, order, full=True):
        view = {c: getattr(order, c) for c in ("id", "company_id", "compound_id", "star_rating_id", "items",
                                               "deadline", "status", "level", "failures", "response", "issued_at")}
        view["status_label"] = "{zh} {en}".format(**flow.STATE_LABELS[order.status])
        view["company_name"] = self.company_names([order.company_id]).get(order.company_id)
        if full:
            view["steps"] = [{c: getattr(s, c) for c in ("at", "actor_account_id", "action", "status", "note")}
                             for s in order.steps]
            view["eliminations"] = [self.recommendation_view(r) for r in self.session.scalars(
                select(m.EliminationRecommendation).where(m.EliminationRecommendation.rectification_id == order.id))]
        return view

    def _visible(self):
        if self.caller.is_system:
            return None
        clauses = self.places_clauses(m.Rectification.region_path, GOVERNMENT)
        own = self.caller.ids("company_id", auth.COMPANY)
        if own:
            clauses.append(m.Rectification.company_id.in_(own))
        return or_(*clauses) if clauses else m.Rectification.id.is_(None)

    def _order(self, order_id, lock=False):
        stmt = select(m.Rectification).where(m.Rectification.id == order_id)
        visible = self._visible()
        if visible is not None:
            stmt = stmt.where(visible)
        order = self.session.scalar(self.locked(stmt, lock))
        if order is None:
            raise NotFound(f"rectification {order_id} does not exist or is outside your reach")
        return order

    def get(self, order_id):
        return self.view(self._order(order_id))

    def list(self, query):
        stmt = select(m.Rectification).order_by(m.Rectification.id.desc())
        visible = self._visible()
        if visible is not None:
            stmt = stmt.where(visible)
        for key in ("company_id", "status", "star_rating_id"):
            if key in query:
                stmt = stmt.where(getattr(m.Rectification, key) == query[key])
        return page(self.session, stmt, query, lambda o: self.view(o, full=False))

    # ----- issuing -----
    def _state(self, order):
        return {"rectification_id": order.id, **{c: getattr(order, c) for c in (
            "company_id", "compound_id", "status", "deadline", "failures", "level", "star_rating_id")}}

    def _step(self, order, action, note=None):
        order.steps.append(m.RectificationStep(at=self.now, actor_account_id=self.caller.account_id,
                                               action=action, status=order.status, note=note))

    def _issue(self, *, company_id, compound, county_id, items, level, deadline, star_rating_id=None):
        order = m.Rectification(
            company_id=company_id, compound_id=compound.id if compound else None, county_id=county_id,
            region_path=compound.region_path if compound else f"/{county_id}/", star_rating_id=star_rating_id,
            items=items, deadline=deadline, status=flow.State.ISSUED, level=level, failures=0,
            issued_by=self.caller.account_id, issued_at=self.now)
        self.session.add(order)
        self._step(order, "issue", "; ".join(items))
        self.session.flush()
        self.emit("rectification_ordered", self._state(order))
        return order

    def order(self, data):
        """A street or the bureau orders a company to rectify, at a compound or company-wide (bureau)."""
        self.company(data["company_id"])
        compound = self.compound(data["compound_id"]) if data.get("compound_id") else None
        if compound is not None and not self.caller.reaches_path(compound.region_path):
            raise NotFound(f"compound {compound.id} does not exist or is outside your jurisdiction")
        if data.get("deadline") and data["deadline"] <= self.today:
            raise ValidationFailed("the deadline must be in the future", details={"deadline": ["not after today"]})
        if compound is not None:
            held = self.authorities_over(compound.region_path) & set(LEVELS)
            county_id = self.county_of(compound.region_path)
        else:
            bureaus = self.caller.region_paths(auth.BUREAU)
            held = {"bureau"} if bureaus else set()
            county_id = self.county_of(bureaus[0]) if bureaus else None
        if not held:
            raise Forbidden("only the street or the housing bureau orders rectification here")
        _, table = self.rule_table(county_id)
        deadline = data.get("deadline") or self.today + dt.timedelta(days=table.response_days)
        order = self._issue(company_id=data["company_id"], compound=compound, county_id=county_id,
                            items=data["items"], level=max(held, key=LEVELS.index), deadline=deadline)
        return self.view(order)

    def order_for_stars(self, rating, entry, table):
        """Final low stars: a company-wide order that the bureau re-inspects."""
        items = [f"{rating.year}年度星级评定为{STAR_LABELS.get(entry.stars, entry.stars)}：对照评分项逐项整改 "
                 f"rectify against the rating items"]
        if entry.evaluation_score is not None:
            items.append(f"业主评议得分 owner evaluation {entry.evaluation_score}")
        if entry.ticket_score is not None:
            items.append(f"报修投诉处置得分 ticket handling {entry.ticket_score}")
        return self._issue(company_id=entry.company_id, compound=None, county_id=rating.county_id, items=items,
                           level="bureau", deadline=self.today + dt.timedelta(days=table.response_days),
                           star_rating_id=rating.id)

    # ----- the company answers, the authority re-inspects -----
    def respond(self, order_id, response):
        order = self._order(order_id, lock=True)
        if not self.is_company_staff(order.company_id):
            raise Forbidden("the company's own staff report its rectification")
        outcome = flow.after_response(order.status, order.failures)
        order.status, order.response = outcome.state, response
        self._step(order, "respond", response)
        self.emit("rectification_responded", self._state(order))
        return self.view(order)

    def reinspect(self, order_id, passed, note):
        order = self._order(order_id, lock=True)
        allowed = LEVELS[LEVELS.index(order.level):]  # the level that re-inspects, or one above it
        self.require_authority(order.region_path, *allowed, what="re-inspect this rectification")
        _, table = self.rule_table(order.county_id)
        outcome = flow.after_reinspection(order.status, order.failures, passed, table.max_failures)
        self._apply(order, outcome, table, "reinspect", note, passed=passed)
        return self.view(order)

    def _apply(self, order, outcome, table, action, note, passed):
        order.status, order.failures = outcome.state, outcome.failures
        if outcome.escalate:
            order.level = LEVELS[min(LEVELS.index(order.level) + 1, len(LEVELS) - 1)]
        if order.status == flow.State.ISSUED:  # failed: a new deadline, re-inspected one level up
            order.deadline = self.today + dt.timedelta(days=table.response_days)
        self._step(order, action, note)
        self.emit("rectification_reinspected", {**self._state(order), "passed": passed})
        if outcome.recommend_elimination:
            self._recommend_elimination(order)

    def _recommend_elimination(self, order):
        """To the owners' organization of every compound the company serves where the order applies."""
        compounds = self.session.scalars(select(m.CompoundCopy).where(
            m.CompoundCopy.company_id == order.company_id,
            m.CompoundCopy.id == order.compound_id if order.compound_id else
            m.CompoundCopy.region_path.startswith(order.region_path))).all()
        for compound in compounds:
            recommendation = m.EliminationRecommendation(
                rectification_id=order.id, company_id=order.company_id, compound_id=compound.id,
                owner_organization_id=compound.owner_organization_id, region_path=compound.region_path,
                created_at=self.now)
            self.session.add(recommendation)
            self.session.flush()
            self.emit("elimination_recommended", {
                "recommendation_id": recommendation.id, "rectification_id": order.id,
                "company_id": order.company_id, "compound_id": compound.id,
                "owner_organization_id": compound.owner_organization_id})

    def miss_deadlines(self, batch=100):
        """Orders nobody answered by their deadline count as a failed re-inspection."""
        due = self.session.scalars(self.skip_locked(select(m.Rectification).where(
            m.Rectification.status == flow.State.ISSUED, m.Rectification.deadline < self.today).limit(batch))).all()
        for order in due:
            _, table = self.rule_table(order.county_id)
            outcome = flow.after_deadline_missed(order.status, order.failures, table.max_failures)
            self._apply(order, outcome, table, "deadline_missed", f"no response by {order.deadline}", passed=False)
        return len(due)

    # ----- elimination recommendations -----
    def recommendation_view(self, r):
        return {c: getattr(r, c) for c in ("id", "rectification_id", "company_id", "compound_id",
                                           "owner_organization_id", "created_at")}

    def recommendations(self, query):
        """For the owners' organizations and party branches of the compounds concerned, and for government."""
        r = m.EliminationRecommendation
        stmt = select(r).order_by(r.id.desc())
        if not self.caller.is_system:
            clauses = [r.region_path.startswith(p) for p in self.caller.region_paths(*GOVERNMENT)]
            compounds = self.caller.ids("compound_id", *NEIGHBOURS)
            if compounds:
                clauses.append(r.compound_id.in_(compounds))
            own = self.caller.ids("company_id", auth.COMPANY)
            if own:
                clauses.append(r.company_id.in_(own))
            stmt = stmt.where(or_(*clauses) if clauses else r.id.is_(None))
        if "compound_id" in query:
            stmt = stmt.where(r.compound_id == query["compound_id"])
        return page(self.session, stmt, query, self.recommendation_view)


