"""The disclosure board (公示栏): counties' freshness periods, publishing by the company or owners' organization,
the public board of a compound, the daily check that reminds and reports lapses, and the disclosure rate.

States come from `domain.disclosure.assess` alone, so the public board, the check and the rate always agree."""
import base64
import datetime as dt

from sqlalchemy import func, select

from kit import auth, media, metrics
from kit.db import page
from kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from kit.registry_copy import home_region, path_ids, region_in_reach
from services.notifications import models as m
from services.notifications.domain import disclosure as rules

POLICY_SETTERS = (auth.ADMIN, auth.BUREAU)
RATE_READERS = auth.GOVERNMENT_ROLES + (auth.INTEGRATION,)
MAX_ATTACHMENTS = 10


class Board:
    def __init__(self, session, caller, outbox, settings, now, upload_dir=None):
        self.session = session
        self.caller = caller
        self.outbox = outbox
        self.config = settings["notifications"]["disclosure"]
        self.now = now
        self.today = now.date()
        self.upload_dir = upload_dir

    # ----- places -----
    def compound(self, compound_id):
        compound = self.session.get(m.CompoundCopy, compound_id)
        if compound is None:
            raise NotFound(f"compound {compound_id} does not exist", details={"compound_id": compound_id})
        return compound

    def region(self, region_id, roles=RATE_READERS):
        return region_in_reach(self.session, m.RegionCopy, self.caller, region_id, roles)

    def home_region(self, roles=RATE_READERS):
        return home_region(self.session, m.RegionCopy, self.caller, roles)

    # ----- freshness periods per county -----
    def periods(self, county_id):
        own = dict(self.session.execute(select(m.DisclosurePeriod.item_code, m.DisclosurePeriod.freshness_days)
                                        .where(m.DisclosurePeriod.county_id == county_id)).all())
        return {item.code: own.get(item.code, item.freshness_days) for item in rules.ITEMS}

    def policy(self, query):
        region = self.region(query["region_id"], ()) if "region_id" in query else self.home_region(())
        county_id = path_ids(region.path)[0]
        periods = self.periods(county_id)
        return {"county_id": county_id, "grace_days": self.config["grace_days"],
                "warn_days": self.config["warn_days"],
                "items": [{"item_code": i.code, "name": i.name, "publisher": i.publisher,
                           "freshness_days": periods[i.code], "default_days": i.freshness_days} for i in rules.ITEMS]}

    def set_policy(self, data):
        """The county's housing bureau (or county IT) sets its own periods; unnamed items keep theirs."""
        self.caller.require(*POLICY_SETTERS)
        region = self.region(data["region_id"], POLICY_SETTERS)
        county_id = path_ids(region.path)[0]
        if not self.caller.reaches_path(f"/{county_id}/", POLICY_SETTERS):
            raise Forbidden("freshness periods are set for a whole county, by its bureau")
        unknown = sorted({i["item_code"] for i in data["items"]} - set(rules.BY_CODE))
        if unknown:
            raise ValidationFailed("unknown disclosure items", details={"items": {c: ["unknown item"] for c in unknown}})
        for entry in data["items"]:
            row = self.session.get(m.DisclosurePeriod, (county_id, entry["item_code"]))
            if row is None:
                row = m.DisclosurePeriod(county_id=county_id, item_code=entry["item_code"])
                self.session.add(row)
            row.freshness_days, row.updated_by, row.updated_at = (entry["freshness_days"], self.caller.account_id,
                                                                 self.now)
        self.session.flush()
        return self.policy({"region_id": county_id})

    # ----- publishing -----
    def _publisher(self, compound, item):
        """The body that owes this item here, and whether the caller speaks for it (403 otherwise)."""
        kind = item.publisher
        publisher_id = compound.company_id if kind == rules.COMPANY else compound.owner_organization_id
        body = "company" if kind == rules.COMPANY else "owners' organization"
        if publisher_id is None:
            raise Conflict(f"compound {compound.id} has no {body} to publish {item.code}",
                           details={"item_code": item.code, "publisher": kind})
        if self.caller.is_system:
            return kind, publisher_id
        holders = self.caller.ids("company_id", auth.COMPANY) if kind == rules.COMPANY else \
            self.caller.ids("organization_id", auth.OWNERS_ORG)
        if publisher_id not in holders:
            raise Forbidden(f"{item.code} is published by the compound's {body}", details={"publisher": kind})
        return kind, publisher_id

    def _item(self, code):
        item = rules.BY_CODE.get(code)
        if item is None:
            raise ValidationFailed("unknown disclosure item", details={"item_code": ["unknown item"],
                                                                       "items": sorted(rules.BY_CODE)})
        return item

    def publish(self, data, files=()):
        compound = self.compound(data["compound_id"])
        item = self._item(data["item_code"])
        kind, publisher_id = self._publisher(compound, item)
        uploads = [self._inspect(f) for f in files]
        if len(uploads) > MAX_ATTACHMENTS:
            raise ValidationFailed(f"at most {MAX_ATTACHMENTS} attachments", details={"files": ["too many"]})
        disclosure = m.Disclosure(compound_id=compound.id, item_code=item.code, publisher_kind=kind,
                                  publisher_id=publisher_id, title=data["title"], content=data["content"],
                                  period=data.get("period"), attachments=[], published_by=self.caller.account_id,
                                  published_at=self.now)
        disclosure.attachments = [self._store(upload, filename) for upload, filename in uploads]
        self.session.add(disclosure)
        self._owe(compound.id, item.code, kind, publisher_id)
        self.session.flush()
        freshness = self.periods(path_ids(compound.region_path)[0])[item.code]
        self.outbox.add(self.session, "disclosure_published", {
            "disclosure_id": disclosure.id, "compound_id": compound.id, "region_path": compound.region_path,
            "item_code": item.code, "item_name": item.name, "publisher_kind": kind, "publisher_id": publisher_id,
            "published_at": self.now,
            "next_due_on": self.today + dt.timedelta(days=freshness)})
        return self.disclosure_view(disclosure)

    def _inspect(self, file):
        content = base64.b64decode(file["content_base64"])
        return media.inspect_upload(content, kinds=("image", "document")), file.get("filename") or "attachment"

    def _store(self, upload, filename):
        name = media.store(self.upload_dir, upload)
        return {"name": name, "filename": filename[:120], "content_type": upload.content_type,
                "size": len(upload.data)}

    def add_attachment(self, disclosure_id, file):
        """Add a file to a publication: only its publisher, and only to the one in force (the newest)."""
        disclosure = self._disclosure(disclosure_id)
        compound = self.compound(disclosure.compound_id)
        kind, publisher_id = self._publisher(compound, self._item(disclosure.item_code))
        if (kind, publisher_id) != (disclosure.publisher_kind, disclosure.publisher_id):
            raise Forbidden("only the publisher adds files to its disclosure")
        if disclosure.id != self._newest_id(disclosure):
            raise Conflict("a newer publication of this item is in force; publish again instead")
        if len(disclosure.attachments) >= MAX_ATTACHMENTS:
            raise Conflict(f"a disclosure holds at most {MAX_ATTACHMENTS} files")
        disclosure.attachments = [*disclosure.attachments, self._store(*self._inspect(file))]
        return self.disclosure_view(disclosure)

    def _newest_id(self, disclosure):
        return self.session.scalar(select(func.max(m.Disclosure.id)).where(
            m.Disclosure.compound_id == disclosure.compound_id, m.Disclosure.item_code == disclosure.item_code,
            m.Disclosure.publisher_kind == disclosure.publisher_kind,
            m.Disclosure.publisher_id == disclosure.publisher_id))

    def _disclosure(self, disclosure_id):
        disclosure = self.session.get(m.Disclosure, disclosure_id)
        if disclosure is None:
            raise NotFound(f"disclosure {disclosure_id} does not exist")
        return disclosure

    def attachment(self, disclosure_id, name):
        """A file of a publication: public, like the board."""
        disclosure = self._disclosure(disclosure_id)
        found = next((a for a in disclosure.attachments if a["name"] == name), None)
        if found is None:
            raise NotFound("no such file on this disclosure")
        return {"content_type": found["content_type"], "filename": found["filename"],
                "body_base64": base64.b64encode(media.open_stored(self.upload_dir, name)).decode("ascii")}

    def disclosure_view(self, disclosure):
        """What anyone may see of a publication: never who pressed the button."""
        return {"id": disclosure.id, "compound_id": disclosure.compound_id, "item_code": disclosure.item_code,
                "item_name": rules.BY_CODE[disclosure.item_code].name, "publisher": disclosure.publisher_kind,
                "title": disclosure.title, "content": disclosure.content, "period": disclosure.period,
                "published_at": disclosure.published_at,
                "attachments": [{"filename": a["filename"], "content_type": a["content_type"], "size": a["size"],
                                 "url": f"/api/v1/public/disclosures/{disclosure.id}/attachments/{a['name']}"}
                                for a in disclosure.attachments]}

    def history(self, query):
        """Every publication of a compound's board (or one item of it), newest first."""
        self.compound(query["compound_id"])
        stmt = select(m.Disclosure).where(m.Disclosure.compound_id == query["compound_id"]) \
            .order_by(m.Disclosure.published_at.desc(), m.Disclosure.id.desc())
        if "item_code" in query:
            stmt = stmt.where(m.Disclosure.item_code == self._item(query["item_code"]).code)
        return page(self.session, stmt, query, self.disclosure_view)

    # ----- states -----
    def _owe(self, compound_id, item_code, kind, publisher_id, since=None):
        key = dict(compound_id=compound_id, item_code=item_code, publisher_kind=kind, publisher_id=publisher_id)
        row = self.session.scalars(select(m.DisclosureObligation).filter_by(**key)).first()
        if row is None:
            row = m.DisclosureObligation(since=since or self.today, **key)
            self.session.add(row)
        return row

    def _latest(self, compound_ids=None):
        """(compound, item, publisher kind, publisher id) → the newest publication's day."""
        stmt = select(m.Disclosure.compound_id, m.Disclosure.item_code, m.Disclosure.publisher_kind,
                      m.Disclosure.publisher_id, func.max(m.Disclosure.published_at)).group_by(
            m.Disclosure.compound_id, m.Disclosure.item_code, m.Disclosure.publisher_kind, m.Disclosure.publisher_id)
        if compound_ids is not None:
            stmt = stmt.where(m.Disclosure.compound_id.in_(compound_ids))
        return {tuple(row[:4]): _day(row[4]) for row in self.session.execute(stmt)}

    def _obligations(self, compound_ids=None):
        stmt = select(m.DisclosureObligation)
        if compound_ids is not None:
            stmt = stmt.where(m.DisclosureObligation.compound_id.in_(compound_ids))
        return {(o.compound_id, o.item_code, o.publisher_kind, o.publisher_id): o.since
                for o in self.session.scalars(stmt)}

    def assessments(self, compounds, owe=False):
        """Per compound, each owed item's (item, publisher kind, publisher id, assessment). With `owe`, obligations
        first seen now are recorded (the check); without, they count from today (a board read changes nothing)."""
        ids = [c.id for c in compounds]
        latest, owed = self._latest(ids), self._obligations(ids)
        periods = {}
        result = {}
        for compound in compounds:
            county_id = path_ids(compound.region_path)[0]
            if county_id not in periods:
                periods[county_id] = self.periods(county_id)
            rows = []
            for item, kind, publisher_id in rules.publishers(compound.company_id, compound.owner_organization_id):
                key = (compound.id, item.code, kind, publisher_id)
                since = owed.get(key)
                if since is None:
                    since = self.today
                    if owe:
                        self._owe(*key, since=since)
                rows.append((item, kind, publisher_id, rules.assess(
                    latest.get(key), since, self.today, periods[county_id][item.code], self.config["grace_days"],
                    self.config["warn_days"])))
            result[compound.id] = rows
        return result

    # ----- the public board -----
    def public_board(self, compound_id):
        """What a compound shows to anyone, without login: its items, their state and the disclosure in force.
        Ids, names of bodies and the publishers' own texts; no person."""
        compound = self.compound(compound_id)
        rows = self.assessments([compound])[compound.id]
        newest = self._newest_disclosures(compound.id)
        company = self.session.get(m.REGISTRY.company, compound.company_id) if compound.company_id else None
        county_id = path_ids(compound.region_path)[0]
        periods = self.periods(county_id)
        items = []
        for item, kind, publisher_id, assessment in rows:
            current = newest.get((item.code, kind, publisher_id))
            items.append({"item_code": item.code, "name": item.name, "publisher": kind,
                          "state": assessment.state, "state_label": rules.STATE_LABELS[assessment.state],
                          "due_on": assessment.due_on, "freshness_days": periods[item.code],
                          "current": self.disclosure_view(current) if current else None})
        return {"compound": {"id": compound.id, "code": compound.code, "name": compound.name},
                "company": {"id": company.id, "name": company.name} if company else None,
                "as_of": self.today, "rate": rules.rate(a.state for *_x, a in rows), "items": items}

    def _newest_disclosures(self, compound_id):
        newest = {}
        for disclosure in self.session.scalars(select(m.Disclosure).where(m.Disclosure.compound_id == compound_id)
                                               .order_by(m.Disclosure.published_at, m.Disclosure.id)):
            newest[(disclosure.item_code, disclosure.publisher_kind, disclosure.publisher_id)] = disclosure
        return newest

    # ----- the disclosure rate -----
    def rate(self, query):
        """Share of owed items disclosed and in date, for a region and each region directly under it."""
        region = self.region(query["region_id"]) if "region_id" in query else self.home_region()
        compounds = self.session.scalars(select(m.CompoundCopy).where(
            m.CompoundCopy.region_path.startswith(region.path))).all()
        assessed = self.assessments(compounds)
        children = self.session.scalars(select(m.RegionCopy).where(m.RegionCopy.parent_id == region.id)
                                        .order_by(m.RegionCopy.id)).all()
        by_item = {}
        for rows in assessed.values():
            for item, _kind, _id, assessment in rows:
                by_item.setdefault(item.code, []).append(assessment.state)

        def summary(selected):
            states = [a.state for c in selected for *_x, a in assessed[c.id]]
            complete = [c for c in selected if assessed[c.id] and rules.rate(a.state for *_x, a in assessed[c.id]) == 1]
            return {"compounds": len(selected), "owed_items": len(states),
                    "disclosed_items": sum(1 for s in states if s in (rules.CURRENT, rules.DUE_SOON)),
                    "lapsed_items": sum(1 for s in states if s in rules.LAPSED),
                    "compounds_fully_disclosed": len(complete), "rate": rules.rate(states)}

        return {"region_id": region.id, "name": region.name, "level": region.level, "as_of": self.today,
                **summary(compounds),
                "by_item": [{"item_code": item.code, "name": item.name, "owed": len(by_item.get(item.code, [])),
                             "rate": rules.rate(by_item.get(item.code, []))} for item in rules.ITEMS],
                "children": [{"region_id": child.id, "name": child.name, "level": child.level,
                              **summary([c for c in compounds if c.region_path.startswith(child.path)])}
                             for child in children]}

    # ----- the daily check -----
    def check(self):
        """Record new obligations, remind publishers of items falling due, and report each lapse once: the alert
        rows are unique per due date and kind, so running the check again (or twice a day) reports nothing new."""
        self.caller.require(auth.SYSTEM)
        compounds = self.session.scalars(select(m.CompoundCopy).order_by(m.CompoundCopy.id)).all()
        assessed = self.assessments(compounds, owe=True)
        raised = {(a.compound_id, a.item_code, a.publisher_kind, a.publisher_id, a.due_on, a.kind)
                  for a in self.session.scalars(select(m.DisclosureAlert))}
        self._measure(compounds, assessed)
        counts = {"compounds": len(compounds), "due_soon": 0, "overdue": 0}
        for compound in compounds:
            for item, kind, publisher_id, assessment in assessed[compound.id]:
                alert = rules.alert_kind(assessment, self.today, self.config["warn_days"])
                if alert is None or (compound.id, item.code, kind, publisher_id, assessment.due_on, alert) in raised:
                    continue
                self.session.add(m.DisclosureAlert(compound_id=compound.id, item_code=item.code, publisher_kind=kind,
                                                   publisher_id=publisher_id, due_on=assessment.due_on, kind=alert,
                                                   state=assessment.state, raised_at=self.now))
                data = {"compound_id": compound.id, "region_path": compound.region_path, "item_code": item.code,
                        "item_name": item.name, "due_on": assessment.due_on,
                        "company_id": publisher_id if kind == rules.COMPANY else None,
                        "owner_organization_id": publisher_id if kind == rules.OWNERS_ORG else None}
                if alert == rules.OVERDUE:
                    self.outbox.add(self.session, "disclosure_overdue", {**data, "state": assessment.state})
                else:
                    self.outbox.add(self.session, "disclosure_due_soon", data)
                counts[alert] += 1
        return counts


    @staticmethod
    def _measure(compounds, assessed):
        """The disclosure figures for Prometheus, per county and by state, as of this check."""
        by_county, by_state = {}, {state: 0 for state in rules.STATE_LABELS}
        for compound in compounds:
            states = [a.state for *_x, a in assessed[compound.id]]
            by_county.setdefault(path_ids(compound.region_path)[0], []).extend(states)
            for state in states:
                by_state[state] += 1
        metrics.set_gauge(metrics.DISCLOSURE_RATE, {county: rules.rate(states) or 0
                                                    for county, states in by_county.items()}, "county")
        metrics.set_gauge(metrics.DISCLOSURE_ITEMS, by_state, "state")


def _day(value):
    return value.date() if isinstance(value, dt.datetime) else dt.date.fromisoformat(str(value)[:10])
