"""Credit: rule tables, records (manual and automatic), objections and decisions, scores, grades and lists."""
import datetime as dt

from sqlalchemy import or_, select

from kit import auth
from kit.db import page, page_of_list
from kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from services.ratings import inputs, models as m
from services.ratings.domain import credit
from services.ratings.domain.ranking import rank
from services.ratings.domain.rules import parse_rule_table
from services.ratings.office import AUTHORITY_ROLES, READERS, Office


class Ledger(Office):
    # ----- rule tables -----
    def rule_table_view(self, row):
        return {"id": row.id, "county_id": row.county_id, "code": row.code, "version": row.version,
                "name": row.name, "effective_from": row.effective_from, "published_at": row.published_at,
                "content": row.content}

    def list_rule_tables(self, query):
        stmt = select(m.RuleTableVersion).order_by(m.RuleTableVersion.effective_from.desc(),
                                                   m.RuleTableVersion.id.desc())
        if "county_id" in query:
            stmt = stmt.where(m.RuleTableVersion.county_id == query["county_id"])
        return page(self.session, stmt, query, self.rule_table_view)

    def get_rule_table(self, rule_table_id):
        row = self.session.get(m.RuleTableVersion, rule_table_id)
        if row is None:
            raise NotFound(f"rule table {rule_table_id} does not exist")
        return self.rule_table_view(row)

    def rule_table_in_force(self, query):
        """Rule tables are public rules: anyone signed in reads the one in force in their county (or any)."""
        if "county_id" in query:
            county_id = query["county_id"]
            county = self.session.get(m.RegionCopy, county_id)
            if county is None or county.level != "county":
                raise NotFound(f"county {county_id} does not exist")
        else:
            paths = self.caller.region_paths()
            county_id = self.county_of(paths[0]) if paths else self.session.scalar(
                select(m.RegionCopy.id).where(m.RegionCopy.level == "county").order_by(m.RegionCopy.id).limit(1))
        row, _ = self.rule_table(county_id, query.get("on"))
        return self.rule_table_view(row)

    def publish_rule_table(self, data):
        """A new version of a county's table; it is in force from `effective_from`. Earlier records keep the points
        they were recorded with."""
        self.caller.require(auth.BUREAU, auth.ADMIN)
        county = self.region(data["county_id"], (auth.BUREAU, auth.ADMIN))
        if county.level != "county":
            raise ValidationFailed("rule tables belong to a county", details={"county_id": ["not a county"]})
        table = parse_rule_table(data["table"])
        latest = self.session.scalar(select(m.RuleTableVersion).where(
            m.RuleTableVersion.county_id == county.id, m.RuleTableVersion.code == table.code)
            .order_by(m.RuleTableVersion.version.desc()).limit(1))
        if latest is not None and table.version <= latest.version:
            raise Conflict(f"version {table.version} of {table.code} is not newer than {latest.version}",
                           details={"version": latest.version})
        if data["effective_from"] < self.today:
            raise ValidationFailed("a rule table cannot take effect in the past",
                                   details={"effective_from": ["today or later"]})
        row = m.RuleTableVersion(county_id=county.id, code=table.code, version=table.version, name=table.name,
                                 content=table.to_dict(), effective_from=data["effective_from"],
                                 published_by=self.caller.account_id, published_at=self.now)
        self.session.add(row)
        self.session.flush()
        self.emit("rule_table_published", {"rule_table_id": row.id, "county_id": row.county_id, "code": row.code,
                                           "version": row.version, "effective_from": row.effective_from})
        return self.rule_table_view(row)

    # ----- records -----
    def record_view(self, record):
        view = {c: getattr(record, c) for c in (
            "id", "company_id", "compound_id", "county_id", "rule_table_id", "item_code", "item_name", "kind",
            "points", "veto", "occurred_on", "valid_until", "source", "authority", "evidence_kind", "evidence_ref",
            "evidence_note", "status", "recorded_at", "objection", "objected_at", "decision", "decision_note",
            "decided_at")}
        view["in_force"] = record.status != "revoked" and record.occurred_on <= self.today < record.valid_until
        return view

    def _event_data(self, record):
        return {"record_id": record.id, **{c: getattr(record, c) for c in (
            "company_id", "compound_id", "item_code", "kind", "points", "veto", "occurred_on", "valid_until",
            "source", "status", "evidence_kind", "evidence_ref")}}

    def add_record(self, *, company_id, compound, item, table_row, occurred_on, authority, source, evidence_kind=None,
                   evidence_ref=None, evidence_note=None, source_event_id=None, county_id=None):
        """Write one record and its event. Automatic items come here from events, manual ones from `record`."""
        county_id = county_id or self.county_of(compound.region_path)
        record = m.CreditRecord(
            company_id=company_id, compound_id=compound.id if compound else None, county_id=county_id,
            region_path=compound.region_path if compound else f"/{county_id}/", rule_table_id=table_row.id,
            item_code=item.code, item_name=item.name, kind=item.kind, points=item.points, veto=item.veto,
            occurred_on=occurred_on, valid_until=credit.valid_until(item, occurred_on), source=source,
            authority=authority, evidence_kind=evidence_kind, evidence_ref=evidence_ref,
            evidence_note=evidence_note, source_event_id=source_event_id, status="active",
            recorded_by=self.caller.account_id, recorded_at=self.now)
        self.session.add(record)
        self.session.flush()
        self.emit("credit_record_added", self._event_data(record))
        return record

    def record(self, data):
        """A manual item, by the authority the item names, with evidence when the item asks for it."""
        self.caller.require(*AUTHORITY_ROLES.values())
        self.company(data["company_id"])
        compound = self.compound(data["compound_id"]) if data.get("compound_id") else None
        if compound is not None and not self.caller.reaches_path(compound.region_path, READERS):
            raise NotFound(f"compound {compound.id} does not exist or is outside your jurisdiction")
        if compound is None:
            bureaus = self.caller.region_paths(auth.BUREAU)
            if not bureaus:
                raise ValidationFailed("name the compound where it happened",
                                       details={"compound_id": ["required unless the housing bureau records"]})
            county_id = self.county_of(bureaus[0])
        else:
            county_id = self.county_of(compound.region_path)
        occurred_on = data.get("occurred_on") or self.today
        if occurred_on > self.today:
            raise ValidationFailed("a record cannot be about the future", details={"occurred_on": ["in the future"]})
        table_row, table = self.rule_table(county_id, occurred_on)
        try:
            item = table.item(data["item_code"])
        except KeyError:
            raise ValidationFailed("no such item in the county's rule table",
                                   details={"item_code": [f"{data['item_code']!r} is not in {table.code} "
                                                          f"v{table.version}"]}) from None
        people = [a for a in item.authorities if a != "system"]
        if not people:
            raise ValidationFailed("this item is recorded automatically from events",
                                   details={"item_code": [f"triggered by {item.trigger}"]})
        path = compound.region_path if compound else f"/{county_id}/"
        held = self.authorities_over(path) & set(people)
        if not held:
            raise Forbidden(f"only the {' or '.join(people)} may record {item.code}", details={"authorities": people})
        if credit.valid_until(item, occurred_on) <= self.today:
            raise ValidationFailed("this record would already have expired",
                                   details={"occurred_on": [f"items of {item.code} count {item.validity_days} days"]})
        if item.evidence_required and not (data.get("evidence_note") or data.get("evidence_ref")):
            raise ValidationFailed("this item needs evidence", details={"evidence_note": ["required for this item"]})
        authority = max(held, key=["community", "street", "bureau"].index)
        record = self.add_record(company_id=data["company_id"], compound=compound, item=item, table_row=table_row,
                                 occurred_on=occurred_on, authority=authority, source="manual",
                                 evidence_kind=data.get("evidence_kind") or "document",
                                 evidence_ref=data.get("evidence_ref"), evidence_note=data.get("evidence_note"),
                                 county_id=county_id)
        return self.record_view(record)

    def _record(self, record_id):
        record = self.session.get(m.CreditRecord, record_id)
        if record is None or not self.may_read_company(record.company_id, record.region_path):
            raise NotFound(f"credit record {record_id} does not exist or is outside your reach")
        return record

    def get_record(self, record_id):
        return self.record_view(self._record(record_id))

    def list_records(self, query):
        r = m.CreditRecord
        stmt = select(r).order_by(r.id.desc())
        if not self.caller.is_system:
            visible = self.places_clauses(r.region_path, READERS)
            own = self.caller.ids("company_id", auth.COMPANY)
            if own:
                visible.append(r.company_id.in_(own))
            if not visible:
                raise Forbidden("credit records are for government staff, integrations and the company itself")
            stmt = stmt.where(or_(*visible))
        for key in ("company_id", "compound_id", "item_code", "kind", "status", "source"):
            if key in query:
                stmt = stmt.where(getattr(r, key) == query[key])
        if "in_force_on" in query:
            on = query["in_force_on"]
            stmt = stmt.where(r.occurred_on <= on, r.valid_until > on, r.status != "revoked")
        return page(self.session, stmt, query, self.record_view)

    def object(self, record_id, reason):
        """The company objects (异议) within the table's objection period; the record counts until decided."""
        record = self._record(record_id)
        if not self.is_company_staff(record.company_id):
            raise Forbidden("only the company's own staff object to its records")
        if record.status != "active" or record.objected_at is not None:
            raise Conflict("this record was already objected to", details={"status": record.status})
        table = inputs.parsed(self.session.get(m.RuleTableVersion, record.rule_table_id))
        deadline = record.recorded_at + dt.timedelta(days=table.objection_days)
        if self.now > deadline:
            raise Conflict("the objection period has passed", details={"objection_deadline": deadline.isoformat()})
        record.status, record.objection = "objected", reason
        record.objected_by, record.objected_at = self.caller.account_id, self.now
        self.emit("credit_record_objected", self._event_data(record))
        return self.record_view(record)

    def decide(self, record_id, decision, note):
        """The authority the item names decides; a revoked record stops counting from now on."""
        record = self._record(record_id)
        table = inputs.parsed(self.session.get(m.RuleTableVersion, record.rule_table_id))
        try:
            authorities = [a for a in table.item(record.item_code).authorities if a != "system"]
        except KeyError:
            authorities = []
        self.require_authority(record.region_path, *(authorities or ["street", "bureau"]),
                               what="decide objections to this item")
        if record.status != "objected":
            raise Conflict("there is no open objection to decide", details={"status": record.status})
        record.decision, record.decision_note = decision, note
        record.decided_by, record.decided_at = self.caller.account_id, self.now
        record.status = "revoked" if decision == "revoked" else "active"
        record.revoked_at = self.now if decision == "revoked" else None
        self.emit("credit_record_decided", {**self._event_data(record), "decision": decision})
        return self.record_view(record)

    # ----- scores -----
    def _score_row(self, table, company_id, name, score):
        return {"company_id": company_id, "company_name": name, "score": score.score, "grade": score.grade,
                "bonus": score.bonus, "deduction": score.deduction, "veto": score.veto,
                "standing": credit.standing(table, score), "records": score.records}

    def scores(self, query):
        """Every company a region judges, scored on a date, best first; `standing` filters the red or black list."""
        region = self.region(query["region_id"]) if "region_id" in query else self.home_region()
        on = query.get("on") or self.today
        county_id = self.county_of(region.path)
        _, table = self.rule_table(county_id, on)
        companies = inputs.companies_in(self.session, region.path, county_id, on.year)
        scores = inputs.credit_scores(self.session, table, on, self.now, m.CreditRecord.county_id == county_id,
                                      m.CreditRecord.company_id.in_(companies))
        base = credit.score_from_sums(table, [])
        names = self.company_names(companies)
        rows = rank([self._score_row(table, c, names.get(c), scores.get(c, base)) for c in companies], "score")
        if "standing" in query:
            rows = [r for r in rows if r["standing"] == query["standing"]]
        return page_of_list(rows, query, on=on, rule_table=f"{table.code} v{table.version}", region_id=region.id)

    def company_score(self, company_id, query):
        """One company's (or one project's, with compound_id) score on a date, with the items that make it."""
        company = self.company(company_id)
        compound = self.compound(query["compound_id"]) if "compound_id" in query else None
        where = [m.CreditRecord.company_id == company_id]
        if compound is not None:
            where.append(m.CreditRecord.compound_id == compound.id)
        county_id = self._county_for_company(company_id, compound)
        if not self.may_read_company(company_id, compound.region_path if compound else None):
            raise NotFound(f"company {company_id} does not exist or is outside your reach")
        on = query.get("on") or self.today
        table_row, table = self.rule_table(county_id, on)
        sums = inputs.credit_sums(self.session, on, self.now, m.CreditRecord.county_id == county_id, *where)
        score = credit.score_from_sums(table, sums.get(company_id, []))
        records = self.session.scalars(select(m.CreditRecord).where(inputs.in_force(on, self.now),
                                                                    m.CreditRecord.county_id == county_id, *where)
                                       .order_by(m.CreditRecord.occurred_on, m.CreditRecord.id))
        return {**self._score_row(table, company_id, company.name, score), "on": on,
                "compound_id": compound.id if compound else None, "items": score.items,
                "rule_table": {"id": table_row.id, "code": table.code, "version": table.version},
                "records_in_force": [self.record_view(r) for r in records]}

    def history(self, company_id, query):
        """Month-end scores over a year: how the company got where it is."""
        year = query.get("year") or self.today.year
        ends = [min(dt.date(year, month, 1) + dt.timedelta(days=32), dt.date(year + 1, 1, 1)).replace(day=1)
                - dt.timedelta(days=1) for month in range(1, 13)]
        points = []
        for end in ends:
            if end > self.today:
                break
            score = self.company_score(company_id, {**query, "on": end})
            points.append({"on": end, "score": score["score"], "grade": score["grade"],
                           "standing": score["standing"]})
        return {"company_id": company_id, "year": year, "points": points}

    def _county_for_company(self, company_id, compound):
        if compound is not None:
            return self.county_of(compound.region_path)
        served = self.session.scalar(select(m.CompoundCopy.region_path).where(
            m.CompoundCopy.company_id == company_id).order_by(m.CompoundCopy.id).limit(1))
        if served is None:
            served = self.session.scalar(select(m.CreditRecord.region_path).where(
                m.CreditRecord.company_id == company_id).order_by(m.CreditRecord.id).limit(1))
        if served is None:
            paths = self.caller.region_paths(*READERS)
            if not paths:
                raise NotFound(f"company {company_id} serves no compound in the registry")
            served = paths[0]
        return self.county_of(served)
