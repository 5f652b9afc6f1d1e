"""The tickets use cases: intake, the workflow, deadlines and escalation, supervision, urging, satisfaction.

Entry points in service.py validate input and call these. The transition table, the calendar and the routing rule
live in `domain/`; this module applies them to the database and writes every change to the timeline and, as an
event, to the outbox in the same transaction.
"""
import base64
import datetime as dt
import json

from sqlalchemy import and_, false, or_, select, true

from kit import auth
from kit.db import page
from kit.errors import Conflict, Forbidden, NotFound, TooManyRequests, ValidationFailed
from kit.privacy import mask_phone
from kit import media
from services.tickets import models as m
from services.tickets.domain import statistics
from services.tickets.domain.routing import Assignment, HandlerKind, Level, escalate, route
from services.tickets.domain.workflow import STATUS_LABELS, TRANSITIONS, Action, Party, Status, allowed_actions, apply
from services.tickets.registry_copy import compound_facts, department_id, path_ids
from services.tickets.stats_query import grouped_statistics

SUPERVISING_ROLES = (auth.COMMUNITY, auth.STREET, auth.BUREAU, auth.ADMIN)
READING_ROLES = SUPERVISING_ROLES + (auth.INTEGRATION,)
LEVEL_OF_ROLE = {auth.COMMUNITY: Level.COMMUNITY, auth.STREET: Level.STREET, auth.BUREAU: Level.BUREAU,
                 auth.ADMIN: Level.BUREAU}
KIND_LEVEL = {HandlerKind.COMPANY: Level.COMPOUND, HandlerKind.OWNERS_ORG: Level.COMPOUND,
              HandlerKind.COMMUNITY: Level.COMMUNITY, HandlerKind.STREET: Level.STREET,
              HandlerKind.BUREAU: Level.BUREAU, HandlerKind.DEPARTMENT: Level.DEPARTMENT}
# The membership that makes a caller staff of each kind of handling body, and which id it is held on.
HANDLER_MEMBERSHIP = {HandlerKind.COMPANY: (auth.COMPANY, "company_id"),
                      HandlerKind.OWNERS_ORG: (auth.OWNERS_ORG, "organization_id"),
                      HandlerKind.COMMUNITY: (auth.COMMUNITY, "region_id"),
                      HandlerKind.STREET: (auth.STREET, "region_id"),
                      HandlerKind.BUREAU: (auth.BUREAU, "region_id"),
                      HandlerKind.DEPARTMENT: (auth.DEPARTMENT, "department_id")}


class Desk:
    def __init__(self, session, caller, outbox, calendar, settings, now=None, upload_dir=None):
        self.session = session
        self.caller = caller
        self.outbox = outbox
        self.calendar = calendar
        self.config = settings["tickets"]
        self.now = now or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        self.upload_dir = upload_dir

    # ----- who the caller is to a ticket -----
    def parties(self, ticket):
        caller = self.caller
        found = set()
        if caller.is_system:
            found.add(Party.SYSTEM)
        account = caller.account_id
        if account is not None and account in (ticket.reporter_account_id, ticket.entered_by_account_id):
            found.add(Party.REPORTER)
        role, attribute = HANDLER_MEMBERSHIP[ticket.handler_kind]
        if ticket.handler_id in caller.ids(attribute, role):
            found.add(Party.HANDLER)
        if ticket.community_id in caller.ids("region_id", auth.COMMUNITY):
            found.add(Party.COMMUNITY)
        if caller.reaches_path(ticket.region_path, SUPERVISING_ROLES) and not caller.is_system:
            found.add(Party.SUPERVISOR)
        return found

    def visible_clause(self):
        caller = self.caller
        if caller.is_system:
            return true()
        clauses = [m.Ticket.region_path.startswith(p) for p in caller.region_paths(*SUPERVISING_ROLES)]
        clauses += [and_(m.Ticket.region_path.startswith(p), m.Ticket.private.is_(False))
                    for p in caller.region_paths(auth.INTEGRATION)]  # other systems see public tickets only
        if caller.account_id is not None:
            clauses += [m.Ticket.reporter_account_id == caller.account_id,
                        m.Ticket.entered_by_account_id == caller.account_id]
        for kind, (role, attribute) in HANDLER_MEMBERSHIP.items():
            ids = caller.ids(attribute, role)
            if ids and kind not in (HandlerKind.COMMUNITY, HandlerKind.STREET, HandlerKind.BUREAU):
                clauses.append(and_(m.Ticket.handler_kind == kind, m.Ticket.handler_id.in_(ids)))
        neighbours = caller.ids("compound_id", auth.RESIDENT, auth.OWNERS_ORG, auth.PARTY_BRANCH)
        if neighbours:  # public tickets of one's own compound
            clauses.append(and_(m.Ticket.compound_id.in_(neighbours), m.Ticket.private.is_(False)))
        return or_(*clauses) if clauses else false()

    def _ticket(self, ticket_id, lock=False):
        stmt = select(m.Ticket).where(m.Ticket.id == ticket_id, self.visible_clause())
        if lock and self.session.bind.dialect.name == "postgresql":
            stmt = stmt.with_for_update(of=m.Ticket)  # not the eagerly joined category
        ticket = self.session.scalar(stmt)
        if ticket is None:
            raise NotFound(f"ticket {ticket_id} does not exist or is outside your reach", details={"id": ticket_id})
        return ticket

    # ----- views -----
    def view(self, ticket, full=True):
        parties = self.parties(ticket)
        chain = parties & {Party.REPORTER, Party.HANDLER, Party.COMMUNITY, Party.SUPERVISOR, Party.SYSTEM}
        own = Party.REPORTER in parties
        compound = self.session.get(m.CompoundCopy, ticket.compound_id)
        view = {c: getattr(ticket, c) for c in (
            "id", "code", "compound_id", "community_id", "title", "description", "location_detail", "channel",
            "reporter_account_id", "private", "priority", "status", "level", "handler_kind", "handler_id",
            "claim_deadline", "resolve_deadline", "due_at", "claimed_at", "resolved_at", "closed_at",
            "solved_level", "escalations", "urges", "reopen_count", "satisfaction", "speed_score",
            "attitude_score", "rating_comment", "merged_into_id", "created_at")}
        view.update({
            "compound_name": compound.name if compound else None,
            "category_code": ticket.category.code, "category_name": ticket.category.name,
            "status_label": "{zh} {en}".format(**STATUS_LABELS[ticket.status]),
            "overdue": ticket.overdue_since is not None or (ticket.due_at is not None and ticket.due_at <= self.now),
            # the handling chain may call the reporter back; the number stays masked except for the reporter
            "reporter_name": ticket.reporter_name if chain else None,
            "reporter_phone": ticket.reporter_phone if own else mask_phone(ticket.reporter_phone) if chain else None,
        })
        if full:
            view["allowed_actions"] = allowed_actions(ticket.status, parties)
            view["timeline"] = [{c: getattr(a, c) for c in ("id", "at", "actor_account_id", "actor_party", "action",
                                                            "from_status", "to_status", "note", "data")}
                                for a in ticket.actions]
            view["supervisions"] = [{c: getattr(s, c) for c in ("id", "level", "note", "deadline", "issued_at",
                                                                "answer", "answered_at")}
                                    for s in ticket.supervisions]
            view["attachments"] = [{"id": a.id, "name": a.stored_name, "kind": a.kind,
                                    "content_type": a.content_type, "size": a.size, "created_at": a.created_at}
                                   for a in ticket.attachments]
        return view

    def get(self, ticket_id):
        return self.view(self._ticket(ticket_id))

    def list(self, query):
        stmt = select(m.Ticket).where(self.visible_clause()).order_by(m.Ticket.id.desc())
        for key in ("status", "compound_id", "level"):
            if key in query:
                stmt = stmt.where(getattr(m.Ticket, key) == query[key])
        if "category_code" in query:
            stmt = stmt.join(m.Category).where(m.Category.code == query["category_code"])
        if "region_id" in query:
            region = self.session.get(m.RegionCopy, query["region_id"])
            if region is None:
                raise NotFound(f"region {query['region_id']} does not exist")
            stmt = stmt.where(m.Ticket.region_path.startswith(region.path))
        if query.get("mine"):
            stmt = stmt.where(or_(m.Ticket.reporter_account_id == self.caller.account_id,
                                  m.Ticket.entered_by_account_id == self.caller.account_id))
        if query.get("assigned"):
            stmt = stmt.where(or_(false(), *[and_(m.Ticket.handler_kind == kind, m.Ticket.handler_id.in_(ids))
                                             for kind, (role, attr) in HANDLER_MEMBERSHIP.items()
                                             if (ids := self.caller.ids(attr, role))]))
        if "overdue" in query:
            clause = or_(m.Ticket.overdue_since.is_not(None), and_(m.Ticket.due_at.is_not(None),
                                                                   m.Ticket.due_at <= self.now))
            stmt = stmt.where(clause if query["overdue"] else ~clause)
        if "q" in query:
            stmt = stmt.where(or_(m.Ticket.title.contains(query["q"]), m.Ticket.code == query["q"]))
        return page(self.session, stmt, query, lambda ticket: self.view(ticket, full=False))

    # ----- events and timeline -----
    def _event(self, ticket, event_type, **extra):
        self.outbox.add(self.session, event_type, {
            **{c: getattr(ticket, c) for c in ("code", "compound_id", "community_id", "region_path", "channel",
                                                "status", "level", "handler_kind", "handler_id", "company_id",
                                                "priority", "private", "reporter_account_id", "claim_deadline",
                                                "resolve_deadline", "escalations")},
            "ticket_id": ticket.id, "category_code": ticket.category.code,
            "actor_account_id": self.caller.account_id if self.caller else None, **extra})

    def _record(self, ticket, action, party, from_status, note=None, **data):
        self.session.add(m.TicketAction(ticket=ticket, at=self.now, actor_account_id=self.caller.account_id,
                                        actor_party=party, action=action, from_status=from_status,
                                        to_status=ticket.status, note=note, data=data))

    # ----- deadlines -----
    def _clock(self, start, hours):
        return self.calendar.add_working_hours(start, hours), \
            self.calendar.add_working_hours(start, hours * self.config["warn_fraction"])

    def _start_claim_clock(self, ticket):
        category = ticket.category
        ticket.claim_deadline, ticket.warn_at = self._clock(self.now, category.claim_hours)
        ticket.resolve_deadline, _ = self._clock(self.now, category.resolve_hours)
        ticket.due_at = ticket.claim_deadline
        ticket.overdue_since = None

    def _start_resolve_clock(self, ticket):
        ticket.due_at = ticket.resolve_deadline
        ticket.overdue_since = None
        hours_left = self.calendar.working_hours_between(self.now, ticket.resolve_deadline)
        ticket.warn_at = self.calendar.add_working_hours(self.now, hours_left * self.config["warn_fraction"]) \
            if hours_left > 0 else None

    @staticmethod
    def _stop_clock(ticket):
        ticket.due_at = None
        ticket.warn_at = None

    # ----- intake -----
    def _compound_for_submission(self, data, staff):
        caller = self.caller
        compound_id = data.get("compound_id")
        if not staff:
            own = caller.ids("compound_id", auth.RESIDENT, auth.OWNERS_ORG, auth.PARTY_BRANCH)
            if not own:
                raise Forbidden("only residents report online; staff take reports by hotline, reception or walk-in")
            compound_id = compound_id or min(own)
            if compound_id not in own:
                raise Forbidden("residents report about their own compound", details={"compound_id": compound_id})
        elif compound_id is None:
            raise ValidationFailed("name the compound", details={"compound_id": ["required for staff intake"]})
        compound = self.session.get(m.CompoundCopy, compound_id)
        if compound is None or (staff and not caller.reaches_path(compound.region_path, READING_ROLES)):
            raise NotFound(f"compound {compound_id} does not exist or is outside your jurisdiction")
        return compound

    def _category(self, code):
        category = self.session.scalar(select(m.Category).where(m.Category.code == code,
                                                                m.Category.active.is_(True)))
        if category is None:
            raise ValidationFailed("unknown category", details={"category_code": [f"no active category {code!r}"]})
        if self.session.scalar(select(m.Category.id).where(m.Category.parent_id == category.id).limit(1)):
            raise ValidationFailed("choose a specific category, not a group",
                                   details={"category_code": ["this is a group of categories"]})
        return category

    def submit(self, data, files=()):
        staff = data["channel"] in ("hotline", "reception", "walk_in")
        if staff:
            self.caller.require(auth.COMMUNITY, auth.STREET, auth.BUREAU, auth.ADMIN)
        elif data["channel"] == "open311":
            self.caller.require(auth.INTEGRATION)
            staff = True
        compound = self._compound_for_submission(data, staff)
        category = self._category(data["category_code"])
        uploads = [media.inspect_upload(base64.b64decode(f["content_base64"])) for f in files]
        if category.photo_required and not any(u.kind == "image" for u in uploads):
            raise ValidationFailed("this category needs a photo", details={"photos": ["at least one image"]})
        assignment = route(category.responsible, compound_facts(compound),
                           department_id(self.session, category.department_code))
        ticket = m.Ticket(
            code="pending", compound_id=compound.id, community_id=compound.community_id,
            street_id=(path_ids(compound.region_path) + [None, None])[1], region_path=compound.region_path,
            company_id=compound.company_id, category=category, title=data["title"],
            description=data["description"], location_detail=data.get("location_detail"), channel=data["channel"],
            reporter_account_id=None if staff else self.caller.account_id,
            entered_by_account_id=self.caller.account_id if staff else None,
            reporter_name=data.get("reporter_name"), reporter_phone=data.get("reporter_phone"),
            private=(not category.public) if data.get("private") is None else data["private"],
            priority=category.priority, status=Status.SUBMITTED, level=assignment.level,
            handler_kind=assignment.kind, handler_id=assignment.target_id, created_at=self.now)
        self._start_claim_clock(ticket)
        self.session.add(ticket)
        self.session.flush()
        ticket.code = f"T{self.now:%Y%m%d}-{ticket.id:06d}"
        for upload in uploads:
            self._attach(ticket, upload)
        self._record(ticket, "submit", Party.REPORTER, None, data.get("channel"))
        self._event(ticket, "ticket_submitted")
        return ticket

    def _attach(self, ticket, upload):
        name = media.store(self.upload_dir, upload)
        self.session.add(m.Attachment(ticket=ticket, stored_name=name, kind=upload.kind,
                                      content_type=upload.content_type, size=len(upload.data),
                                      uploaded_by=self.caller.account_id, created_at=self.now))
        return name

    def add_attachment(self, ticket_id, file):
        ticket = self._ticket(ticket_id, lock=True)
        parties = self.parties(ticket)
        if not parties & {Party.REPORTER, Party.HANDLER, Party.COMMUNITY}:
            raise Forbidden("only the reporter, the handler or the community add photos")
        if ticket.status in (Status.CLOSED, Status.CANCELLED, Status.MERGED):
            raise Conflict("the ticket is finished", details={"status": ticket.status})
        name = self._attach(ticket, media.inspect_upload(base64.b64decode(file["content_base64"])))
        self._record(ticket, "attach", sorted(parties)[0], ticket.status, data_name=name)
        return self.view(ticket)

    def attachment(self, ticket_id, name):
        ticket = self._ticket(ticket_id)
        found = next((a for a in ticket.attachments if a.stored_name == name), None)
        if found is None:
            raise NotFound("no such attachment")
        return {"content_type": found.content_type,
                "body_base64": base64.b64encode(media.open_stored(self.upload_dir, name)).decode("ascii")}

    # ----- the workflow -----
    def act(self, ticket_id, action, data):
        if action not in TRANSITIONS:
            raise NotFound(f"no action {action!r}", details={"actions": sorted(TRANSITIONS)})
        ticket = self._ticket(ticket_id, lock=True)
        parties = self.parties(ticket)
        before = ticket.status
        after = apply(before, action, parties)
        party = _acting_party(action, parties)
        outcome = getattr(self, f"_do_{action}")(ticket, data, after) or {}
        ticket.status = after
        self._record(ticket, action, party, before, outcome.get("note", data.get("note")), **outcome.get("data", {}))
        return self.view(ticket)

    def _need(self, data, *fields):
        missing = {f: ["required for this action"] for f in fields if data.get(f) in (None, "")}
        if missing:
            raise ValidationFailed("missing fields for this action", details=missing)

    def _do_claim(self, ticket, data, after):
        ticket.claimed_at = self.now
        self._start_resolve_clock(ticket)
        ticket.status = after
        self._event(ticket, "ticket_claimed")

    def _do_start(self, ticket, data, after):
        ticket.status = after
        self._event(ticket, "ticket_started")

    def _do_pause(self, ticket, data, after):
        self._need(data, "note")
        ticket.paused_hours_left = max(0.0, self.calendar.working_hours_between(self.now, ticket.resolve_deadline))
        self._stop_clock(ticket)
        ticket.status = after
        self._event(ticket, "ticket_paused")

    def _do_resume(self, ticket, data, after):
        ticket.resolve_deadline = self.calendar.add_working_hours(self.now, ticket.paused_hours_left or 0)
        ticket.paused_hours_left = None
        self._start_resolve_clock(ticket)
        ticket.status = after
        self._event(ticket, "ticket_resumed")

    def _do_resolve(self, ticket, data, after):
        self._need(data, "note")
        on_time = ticket.resolve_deadline is None or self.now <= ticket.resolve_deadline
        ticket.resolved_at = self.now
        ticket.solved_level = ticket.level
        ticket.handling_hours = round(self.calendar.working_hours_between(ticket.created_at, self.now), 2)
        ticket.overdue_since = None
        self._stop_clock(ticket)
        ticket.status = after
        self._event(ticket, "ticket_resolved", solved_level=ticket.level, on_time=on_time)

    def _do_return(self, ticket, data, after):
        self._need(data, "note")
        self._stop_clock(ticket)
        ticket.status = after
        self._event(ticket, "ticket_returned")

    def _do_reassign(self, ticket, data, after):
        self._need(data, "handler_kind", "handler_id")
        assignment = self._assignment(data["handler_kind"], data["handler_id"], ticket)
        ticket.handler_kind, ticket.handler_id, ticket.level = assignment.kind, assignment.target_id, assignment.level
        ticket.claimed_at = None
        ticket.status = after
        self._start_claim_clock(ticket)
        self._event(ticket, "ticket_reassigned")

    def _assignment(self, kind, target_id, ticket):
        compound = self.session.get(m.CompoundCopy, ticket.compound_id)
        valid = {
            HandlerKind.COMPANY: lambda: compound.company_id == target_id,
            HandlerKind.OWNERS_ORG: lambda: compound.owner_organization_id == target_id,
            HandlerKind.COMMUNITY: lambda: compound.community_id == target_id,
            HandlerKind.STREET: lambda: target_id in path_ids(compound.region_path)[1:2],
            HandlerKind.BUREAU: lambda: target_id in path_ids(compound.region_path)[:1],
            HandlerKind.DEPARTMENT: lambda: self.session.get(m.DepartmentCopy, target_id) is not None,
        }
        if kind not in valid or not valid[kind]():
            raise ValidationFailed("that body cannot take this ticket",
                                   details={"handler": [f"{kind} {target_id} does not serve this compound"]})
        return Assignment(kind=kind, target_id=target_id, level=KIND_LEVEL[kind])

    def _do_accept(self, ticket, data, after):
        self._need(data, "satisfaction")
        if data["satisfaction"] == "dissatisfied":
            raise ValidationFailed("不满意 asks for a reopen: use the reject action",
                                   details={"satisfaction": ["use reject for dissatisfied"]})
        self._rate(ticket, data)
        ticket.status = after
        ticket.closed_at = self.now
        self._event(ticket, "ticket_closed", satisfaction=ticket.satisfaction, reason="rated")

    def _do_reject(self, ticket, data, after):
        self._need(data, "note")
        self._rate(ticket, {**data, "satisfaction": "dissatisfied"})
        ticket.status = after
        self._event(ticket, "ticket_reopen_requested")

    def _rate(self, ticket, data):
        ticket.satisfaction = data["satisfaction"]
        ticket.speed_score = data.get("speed_score")
        ticket.attitude_score = data.get("attitude_score")
        ticket.rating_comment = data.get("note")
        ticket.rated_at = self.now
        self._event(ticket, "ticket_rated", satisfaction=ticket.satisfaction, speed_score=ticket.speed_score,
                    attitude_score=ticket.attitude_score)

    def _do_approve_reopen(self, ticket, data, after):
        ticket.reopen_count += 1
        ticket.resolved_at = None
        ticket.solved_level = None
        ticket.claimed_at = None
        ticket.status = after
        self._start_claim_clock(ticket)
        self._event(ticket, "ticket_reopened")

    def _do_deny_reopen(self, ticket, data, after):
        self._need(data, "note")
        ticket.status = after
        ticket.closed_at = self.now
        self._event(ticket, "ticket_closed", satisfaction=ticket.satisfaction, reason="reopen_denied")

    def _do_cancel(self, ticket, data, after):
        self._stop_clock(ticket)
        ticket.status = after
        ticket.closed_at = self.now
        self._event(ticket, "ticket_cancelled")

    def _do_merge(self, ticket, data, after):
        self._need(data, "into_ticket_id")
        target = self._ticket(data["into_ticket_id"])
        if target.id == ticket.id or target.compound_id != ticket.compound_id or \
                target.status in (Status.CLOSED, Status.CANCELLED, Status.MERGED):
            raise Conflict("merge into an open ticket of the same compound", details={"into_ticket_id": target.id})
        ticket.merged_into_id = target.id
        self._stop_clock(ticket)
        ticket.status = after
        ticket.closed_at = self.now
        self._record(target, "absorb", Party.COMMUNITY, target.status,
                     f"merged {ticket.code}", merged_ticket_id=ticket.id)
        self._event(ticket, "ticket_merged", merged_into_id=target.id)

    def _do_comment(self, ticket, data, after):
        self._need(data, "note")

    def _do_return_visit(self, ticket, data, after):
        self._need(data, "note")
        self._event(ticket, "return_visit_recorded", satisfaction=data.get("satisfaction"))
        return {"data": {"satisfaction": data.get("satisfaction")}}

    def _do_supervise(self, ticket, data, after):
        self._need(data, "note")
        levels = [LEVEL_OF_ROLE[m_.role] for m_ in self.caller.memberships
                  if m_.role in LEVEL_OF_ROLE and m_.region_path and ticket.region_path.startswith(m_.region_path)]
        order = [Level.COMMUNITY, Level.STREET, Level.BUREAU]
        level = max(levels, key=order.index)
        deadline = self.calendar.add_working_hours(
            self.now, data.get("deadline_hours") or self.config["supervision_hours"])
        supervision = m.Supervision(ticket=ticket, level=level, issued_by=self.caller.account_id,
                                    note=data["note"], deadline=deadline, issued_at=self.now)
        self.session.add(supervision)
        self.session.flush()
        self._event(ticket, "supervision_issued", supervision_id=supervision.id, supervision_level=level,
                    supervision_deadline=deadline)
        return {"note": f"督办 supervision {supervision.id}: {data['note']}", "data": {"supervision_id": supervision.id}}

    def _do_urge(self, ticket, data, after):
        interval = dt.timedelta(hours=self.config["urge_interval_hours"])
        if ticket.last_urged_at is not None and self.now - ticket.last_urged_at < interval:
            wait = int((ticket.last_urged_at + interval - self.now).total_seconds()) + 1
            raise TooManyRequests("this ticket was urged recently", details={"retry_after": wait})
        ticket.urges += 1
        ticket.last_urged_at = self.now
        self._event(ticket, "ticket_urged", urges=ticket.urges)
        if ticket.urges % self.config["urge_escalate_after"] == 0:
            self._escalate(ticket, "urged")

    def answer_supervision(self, ticket_id, supervision_id, answer):
        ticket = self._ticket(ticket_id, lock=True)
        parties = self.parties(ticket)
        if Party.HANDLER not in parties:
            raise Forbidden("the handler answers supervision orders")
        supervision = next((s for s in ticket.supervisions if s.id == supervision_id), None)
        if supervision is None:
            raise NotFound(f"no supervision order {supervision_id} on this ticket")
        if supervision.answered_at is not None:
            raise Conflict("this supervision order was already answered")
        supervision.answer = answer
        supervision.answered_by = self.caller.account_id
        supervision.answered_at = self.now
        self._record(ticket, "answer_supervision", Party.HANDLER, ticket.status, answer,
                     supervision_id=supervision.id)
        self._event(ticket, "supervision_answered", supervision_id=supervision.id,
                    on_time=self.now <= supervision.deadline)
        return self.view(ticket)

    # ----- escalation and the deadline sweep -----
    def _escalate(self, ticket, reason):
        compound = self.session.get(m.CompoundCopy, ticket.compound_id)
        current = Assignment(kind=ticket.handler_kind, target_id=ticket.handler_id, level=ticket.level)
        upper = escalate(current, compound_facts(compound))
        if upper is None:  # nobody above: an overdue ticket stays flagged overdue; an urge changes nothing
            if reason == "overdue":
                ticket.overdue_since = ticket.overdue_since or self.now
                self._stop_clock(ticket)  # reported once, not on every sweep
            return False
        before, from_level = ticket.status, ticket.level
        ticket.status = apply(before, Action.ESCALATE, {Party.SYSTEM})
        ticket.handler_kind, ticket.handler_id, ticket.level = upper.kind, upper.target_id, upper.level
        ticket.escalations += 1
        ticket.claimed_at = None
        ticket.paused_hours_left = None
        self._start_claim_clock(ticket)
        self._record(ticket, Action.ESCALATE, Party.SYSTEM, before, reason, from_level=from_level,
                     to_level=upper.level)
        self._event(ticket, "ticket_escalated", from_level=from_level, reason=reason)
        return True

    def _due(self, stmt):
        if self.session.bind.dialect.name == "postgresql":  # concurrent sweepers take different tickets
            stmt = stmt.with_for_update(skip_locked=True, of=m.Ticket)
        return self.session.scalars(stmt)

    def sweep(self, batch=500):
        """Warn before deadlines, escalate overdue tickets, report unanswered supervision, close unrated tickets.
        Each query walks an index on its time column, so the cost follows the tickets that are due."""
        counts = {"warned": 0, "overdue": 0, "escalated": 0, "supervisions_overdue": 0, "auto_closed": 0}
        with self.session.no_autoflush:  # one flush at commit instead of one per looked-up compound
            self._sweep(counts, batch)
        return counts

    def _sweep(self, counts, batch):
        for ticket in self._due(select(m.Ticket).where(m.Ticket.warn_at <= self.now)
                                .order_by(m.Ticket.warn_at).limit(batch)):
            self._event(ticket, "ticket_deadline_warning", due_at=ticket.due_at or ticket.resolve_deadline)
            ticket.warn_at = None
            counts["warned"] += 1
        for ticket in self._due(select(m.Ticket).where(m.Ticket.due_at <= self.now)
                                .order_by(m.Ticket.due_at).limit(batch)):
            missed = "claim" if ticket.claimed_at is None else "resolve"
            self._event(ticket, "ticket_overdue", missed=missed, overdue_handler_kind=ticket.handler_kind,
                        overdue_handler_id=ticket.handler_id)
            counts["overdue"] += 1
            counts["escalated"] += self._escalate(ticket, "overdue")
        for supervision in self.session.scalars(
                select(m.Supervision).where(m.Supervision.deadline <= self.now, m.Supervision.answered_at.is_(None),
                                            m.Supervision.overdue_reported.is_(False)).limit(batch)):
            supervision.overdue_reported = True
            self._event(supervision.ticket, "supervision_overdue", supervision_id=supervision.id)
            counts["supervisions_overdue"] += 1
        cutoff = self.now - dt.timedelta(days=self.config["auto_close_days"])
        for ticket in self._due(select(m.Ticket).where(m.Ticket.status == Status.RESOLVED,
                                                       m.Ticket.resolved_at <= cutoff).limit(batch)):
            before = ticket.status
            ticket.status = apply(before, Action.AUTO_CLOSE, {Party.SYSTEM})
            ticket.closed_at = self.now
            self._record(ticket, Action.AUTO_CLOSE, Party.SYSTEM, before, "not rated in time")
            self._event(ticket, "ticket_closed", satisfaction=None, reason="not_rated")
            counts["auto_closed"] += 1

    # ----- duplicates -----
    def duplicates(self, ticket_id):
        ticket = self._ticket(ticket_id)
        stmt = select(m.Ticket).where(m.Ticket.compound_id == ticket.compound_id,
                                      m.Ticket.category_id == ticket.category_id, m.Ticket.id != ticket.id,
                                      m.Ticket.status.not_in([Status.CLOSED, Status.CANCELLED, Status.MERGED]),
                                      self.visible_clause()).order_by(m.Ticket.id).limit(20)
        return [self.view(t, full=False) for t in self.session.scalars(stmt)]

    # ----- categories -----
    def category_view(self, category):
        parent = self.session.get(m.Category, category.parent_id) if category.parent_id else None
        return {**{c: getattr(category, c) for c in ("id", "code", "name", "responsible", "department_code",
                                                     "claim_hours", "resolve_hours", "photo_required", "public",
                                                     "priority", "active")},
                "parent_code": parent.code if parent else None}

    def list_categories(self, query):
        stmt = select(m.Category).order_by(m.Category.code)
        if "active" in query:
            stmt = stmt.where(m.Category.active.is_(query["active"]))
        items = [self.category_view(c) for c in self.session.scalars(stmt)]
        return {"items": items, "total": len(items), "page": 1, "page_size": len(items) or 1}

    def create_category(self, data):
        self.caller.require(auth.BUREAU, auth.ADMIN)
        if self.session.scalar(select(m.Category.id).where(m.Category.code == data["code"])):
            raise Conflict("this category code exists", details={"code": ["already exists"]})
        parent_code = data.pop("parent_code", None)
        parent = None
        if parent_code:
            parent = self.session.scalar(select(m.Category).where(m.Category.code == parent_code))
            if parent is None:
                raise ValidationFailed("unknown parent", details={"parent_code": ["no such category"]})
        category = m.Category(**data, parent_id=parent.id if parent else None)
        self.session.add(category)
        self.session.flush()
        return self.category_view(category)

    def update_category(self, category_id, data):
        self.caller.require(auth.BUREAU, auth.ADMIN)
        category = self.session.get(m.Category, category_id)
        if category is None:
            raise NotFound(f"category {category_id} does not exist")
        for key, value in data.items():
            setattr(category, key, value)
        self.session.flush()
        return self.category_view(category)

    # ----- statistics -----
    def statistics(self, query):
        if not (self.caller.is_system or self.caller.has_role(*READING_ROLES, auth.COMPANY)):
            raise Forbidden("statistics are for government staff, companies and integrations")
        where = [self.visible_clause()]
        if "region_id" in query:
            region = self.session.get(m.RegionCopy, query["region_id"])
            if region is None or not (self.caller.is_system or self.caller.reaches_path(region.path, READING_ROLES)):
                raise NotFound(f"region {query['region_id']} does not exist or is outside your jurisdiction")
            where.append(m.Ticket.region_path.startswith(region.path))
        if "since" in query:
            where.append(m.Ticket.created_at >= dt.datetime.combine(query["since"], dt.time()))
        if "until" in query:
            where.append(m.Ticket.created_at < dt.datetime.combine(query["until"], dt.time()) + dt.timedelta(days=1))
        rows = grouped_statistics(self.session, and_(*where), query["by"])
        if query["format"] == "csv":
            return {"content_type": "text/csv; charset=utf-8", "body": statistics.to_csv(rows),
                    "filename": f"ticket-statistics-by-{query['by']}.csv"}
        return {"content_type": "application/json",
                "body": json.dumps({"by": query["by"], "rows": rows}, ensure_ascii=False, default=str)}


def fact_of(ticket):
    return statistics.TicketFacts(
        ticket_id=ticket.id, compound_id=ticket.compound_id, community_id=ticket.community_id,
        street_id=ticket.street_id, company_id=ticket.company_id, created_at=ticket.created_at,
        claimed_at=ticket.claimed_at, resolved_at=ticket.resolved_at, claim_deadline=ticket.claim_deadline,
        resolve_deadline=ticket.resolve_deadline, status=ticket.status, satisfaction=ticket.satisfaction,
        escalations=ticket.escalations, solved_level=ticket.solved_level, handling_hours=ticket.handling_hours)


def _acting_party(action, parties):
    allowed = TRANSITIONS[action].parties & set(parties)
    for party in (Party.HANDLER, Party.REPORTER, Party.COMMUNITY, Party.SUPERVISOR, Party.SYSTEM):
        if party in allowed:
            return party
    return sorted(parties)[0]
