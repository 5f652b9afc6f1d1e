"""Open311 GeoReport v2 on top of categories and tickets (see docs/OPEN311.md).

GeoReport speaks of services (our leaf categories, `service_code` = category code) and service requests (our
tickets, `service_request_id` = ticket code). The jurisdiction's own address ids (`address_id`) are compound codes
from the registry copy, since tickets are routed by compound.

The mapping is plain functions at module level, unit-tested without a broker; `Open311Endpoints` holds the thin
RPC entry points that `TicketsService` inherits. Reads are public: they query the tables directly, only non-private
tickets, and never return reporter data. Writing needs an API client's token (integration role) as `api_key`.
"""
from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import exists, select
from sqlalchemy.orm import aliased

from kit.errors import AppError, BadRequest, NotFound, ValidationFailed
from kit.rpc import rpc
from kit.schemas import load
from services.tickets import models as m, schemas as s
from services.tickets.domain.workflow import STATUS_LABELS, Status

CHANNEL = "open311"
CLOSED_STATUSES = frozenset({Status.CLOSED, Status.CANCELLED, Status.MERGED})
DEFAULT_WINDOW = dt.timedelta(days=90)
MAX_WINDOW = dt.timedelta(days=90)
MAX_RESULTS = 1000
TITLE_LENGTH = 30
MAX_MEDIA_FILES = 3

# Query parameters of GET requests.json; jurisdiction_id and api_key are accepted and ignored (one jurisdiction,
# public reads).
QUERY_PARAMETERS = ("service_request_id", "service_code", "start_date", "end_date", "status")
IGNORED_PARAMETERS = ("jurisdiction_id", "api_key")
# Fields of POST requests.json (GeoReport v2). Accepted but not stored: lat/long (we route by compound), email,
# device_id, account_id (no place for them; personal data we do not need), media_url (never fetched: send a file
# in the multipart field `media` instead). attribute[...] fields are accepted and ignored (no attributes defined).
FORM_FIELDS = ("api_key", "jurisdiction_id", "service_code", "address_id", "lat", "long", "address_string",
               "email", "device_id", "account_id", "first_name", "last_name", "phone", "description", "media_url")
# Our field names in errors, told back in GeoReport's.
GEOREPORT_FIELD = {"category_code": "service_code", "compound_id": "address_id", "title": "description",
                   "description": "description", "location_detail": "address_string",
                   "reporter_name": "first_name/last_name", "reporter_phone": "phone", "photos": "media"}
_CJK = re.compile(r"[\u3400-\u9fff]")
_PHONE_NOISE = re.compile(r"[\s().]")


# ----- pure mapping ---------------------------------------------------------------------------------------------

def georeport_status(status: str) -> str:
    """GeoReport knows two statuses: a request is closed once nothing will happen to it any more."""
    return "closed" if status in CLOSED_STATUSES else "open"


def status_notes(status: str) -> str:
    label = STATUS_LABELS.get(status)
    return f"{label['zh']} {label['en']}" if label else status


def iso(value: dt.datetime | None) -> str | None:
    """ISO 8601 with the time zone, as GeoReport requires; our times are naive UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def parse_datetime(text: str, field: str) -> dt.datetime:
    """An ISO 8601 date or date-time (time zone optional, UTC if absent) as naive UTC."""
    try:
        value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except (AttributeError, ValueError):
        raise ValidationFailed(f"{field} must be an ISO 8601 date-time, e.g. 2024-05-01T08:00:00+08:00",
                               details={field: [str(text)[:40]]}) from None
    return value.astimezone(dt.timezone.utc).replace(tzinfo=None) if value.tzinfo else value


def agency_responsible(handler_kind: str, level: str) -> str:
    return f"{handler_kind} ({level})"


def service_description(category) -> str:
    """What a client needs to know about a category, in one line: deadlines, visibility, photo."""
    parts = [category.name]
    if category.claim_hours is not None and category.resolve_hours is not None:
        parts.append(f"认领时限 claimed within {category.claim_hours:g} working hours, "
                     f"办结时限 resolved within {category.resolve_hours:g} working hours")
    parts.append("公开 public: listed in requests.json" if category.public
                 else "不公开 private: never listed in requests.json")
    if category.photo_required:
        parts.append("需要照片 photo required: send it as the multipart file field `media`")
    return "; ".join(parts)


def service_of(category, group=None) -> dict:
    """A leaf category as a GeoReport service."""
    keywords = category.code.split(".") + [category.priority]
    if not category.public:
        keywords.append("private")
    if category.photo_required:
        keywords.append("photo_required")
    return {"service_code": category.code, "service_name": category.name,
            "description": service_description(category), "metadata": False, "type": "realtime",
            "keywords": ", ".join(keywords), "group": group.name if group is not None else None}


def service_definition(code: str) -> dict:
    """We define no extra attributes: the place is `address_id` (the compound code), the rest is standard."""
    return {"service_code": code, "attributes": []}


def request_of(ticket, compound_name: str | None = None, compound_code: str | None = None) -> dict:
    """A ticket as a GeoReport service request: public fields only, never the reporter."""
    return {
        "service_request_id": ticket.code,
        "status": georeport_status(ticket.status),
        "status_notes": status_notes(ticket.status),
        "service_name": ticket.category.name,
        "service_code": ticket.category.code,
        "description": ticket.description,
        "agency_responsible": agency_responsible(ticket.handler_kind, ticket.level),
        "service_notice": None,
        "requested_datetime": iso(ticket.created_at),
        "updated_datetime": iso(ticket.updated_at),
        "expected_datetime": iso(ticket.resolve_deadline),
        "address": compound_name,
        "address_id": compound_code,
        "zipcode": None,
        "lat": None,
        "long": None,
        "media_url": None,
    }


def reporter_name(first: str | None, last: str | None) -> str | None:
    """Chinese names are family name first without a space (王 + 小明 → 王小明), others "first last"."""
    first, last = (first or "").strip(), (last or "").strip()
    if not (first or last):
        return None
    if _CJK.search(first + last):
        return (last + first)[:60]
    return " ".join(p for p in (first, last) if p)[:60]


def normalize_phone(phone: str | None) -> str | None:
    """Drop the spaces, brackets and dots people type; our schema then checks digits, '+' and '-'."""
    if phone is None or not phone.strip():
        return None
    return _PHONE_NOISE.sub("", phone.strip())


def title_of(description: str) -> str:
    """The first 30 characters of the description, on one line."""
    return " ".join(description.split())[:TITLE_LENGTH]


def _text(form: dict, key: str) -> str | None:
    value = form.get(key)
    if isinstance(value, list):
        value = value[0] if value else None
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def form_to_ticket(form: dict) -> tuple[str, dict]:
    """(address_id, TicketIn data without compound_id) from a GeoReport POST; missing essentials are a 400."""
    missing = [k for k in ("service_code", "address_id", "description") if not _text(form, k)]
    if missing:
        raise BadRequest(f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} required"
                         + (" (address_id is the compound code: requests are routed by compound)"
                            if "address_id" in missing else ""),
                         details={k: ["required"] for k in missing})
    unknown = sorted(k for k in form if k not in FORM_FIELDS and not k.startswith("attribute["))
    if unknown:
        raise BadRequest(f"unknown field(s): {', '.join(unknown)}", details={k: ["unknown field"] for k in unknown})
    description = _text(form, "description")
    data = {"category_code": _text(form, "service_code"), "title": title_of(description),
            "description": description, "channel": CHANNEL,
            "reporter_name": reporter_name(_text(form, "first_name"), _text(form, "last_name")),
            "reporter_phone": normalize_phone(_text(form, "phone"))}
    address = _text(form, "address_string")
    if address:
        data["location_detail"] = address[:100]
    return _text(form, "address_id"), {k: v for k, v in data.items() if v is not None}


def parse_query(query: dict | None, now: dt.datetime) -> dict:
    """Filters of GET requests.json. `service_request_id` alone wins (the spec ignores other parameters then);
    otherwise a window of at most 90 days (the last 90 days by default), optional service codes and statuses."""
    query = {k: _text(query or {}, k) for k in (query or {})}
    unknown = sorted(k for k in query if k not in QUERY_PARAMETERS + IGNORED_PARAMETERS)
    if unknown:
        raise BadRequest(f"unknown parameter(s): {', '.join(unknown)}; use {', '.join(QUERY_PARAMETERS)}",
                         details={k: ["unknown parameter"] for k in unknown})
    if query.get("service_request_id"):
        codes = [c.strip() for c in query["service_request_id"].split(",") if c.strip()]
        if len(codes) > MAX_RESULTS:
            raise BadRequest(f"at most {MAX_RESULTS} service_request_id values")
        return {"codes": codes}
    start = parse_datetime(query["start_date"], "start_date") if query.get("start_date") else None
    end = parse_datetime(query["end_date"], "end_date") if query.get("end_date") else None
    if start is None and end is None:
        start, end = now - DEFAULT_WINDOW, None
    elif start is None:
        start = end - DEFAULT_WINDOW
    elif end is None:
        end = start + MAX_WINDOW
    if end is not None and end < start:
        raise BadRequest("end_date is before start_date")
    if end is not None and end - start > MAX_WINDOW:
        raise BadRequest("start_date and end_date may not span more than 90 days")
    filters = {"start": start, "end": end}
    if query.get("service_code"):
        filters["service_codes"] = [c.strip() for c in query["service_code"].split(",") if c.strip()]
    if query.get("status"):
        statuses = {v.strip().lower() for v in query["status"].split(",") if v.strip()}
        if not statuses <= {"open", "closed"}:
            raise BadRequest("status is open, closed or open,closed", details={"status": [query["status"]]})
        filters["statuses"] = statuses
    return filters


def georeport_error(error: AppError) -> AppError:
    """Our field names in an error's details and message, told in GeoReport's."""
    if isinstance(error.details, dict):
        details = {GEOREPORT_FIELD.get(k, k): v for k, v in error.details.items()}
        return type(error)(error.message, details=details, code=error.code)
    return error


# ----- the RPC entry points -------------------------------------------------------------------------------------

class Open311Endpoints:
    """RPC entry points behind /open311/v2/ (mixed into TicketsService, which brings db, caller and _desk)."""

    @rpc
    def open311_services(self):
        with self.db.transaction() as session:
            return [service_of(c, g) for c, g in _leaf_categories(session)]

    @rpc
    def open311_service(self, code):
        with self.db.transaction() as session:
            if not any(c.code == code for c, _g in _leaf_categories(session, code)):
                raise NotFound(f"no service {code!r}; GET services.json lists them")
        return service_definition(code)

    @rpc
    def open311_submit(self, form, files=None):
        address_id, data = form_to_ticket(form or {})
        files = list(files or ())[:MAX_MEDIA_FILES]
        with self.db.transaction() as session:
            self.caller()  # 401 before anything else when there is no valid api_key
            compounds = session.scalars(select(m.CompoundCopy).where(m.CompoundCopy.code == address_id)
                                        .limit(2)).all()
            if len(compounds) != 1:
                raise BadRequest(f"address_id {address_id!r} is not a compound code of this jurisdiction",
                                 details={"address_id": ["unknown compound code"]})
            try:
                ticket_in = load(s.TicketIn, {**data, "compound_id": compounds[0].id})
                ticket = self._desk(session).submit(ticket_in, files)
            except ValidationFailed as exc:
                raise georeport_error(exc) from None
            except NotFound:
                raise BadRequest(f"address_id {address_id!r} is outside this api_key's jurisdiction",
                                 details={"address_id": ["outside your jurisdiction"]}) from None
            notice = (f"已受理，由 {agency_responsible(ticket.handler_kind, ticket.level)} 处理，"
                      f"预计办结 {iso(ticket.resolve_deadline)}. Received; handled by "
                      f"{agency_responsible(ticket.handler_kind, ticket.level)}, expected by "
                      f"{iso(ticket.resolve_deadline)}.")
            return [{"service_request_id": ticket.code, "service_notice": notice, "account_id": None}]

    @rpc
    def open311_requests(self, query=None):
        now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        filters = parse_query(query, now)
        with self.db.transaction() as session:
            return [request_of(*row) for row in session.execute(_public_requests(filters))]

    @rpc
    def open311_request(self, code):
        with self.db.transaction() as session:
            row = session.execute(_public_requests({"codes": [code]})).first()
            if row is None:
                raise NotFound(f"no public service request {code!r}")
            return [request_of(*row)]


def _leaf_categories(session, code=None):
    """(category, group) of every active category that is not itself a group."""
    child = aliased(m.Category)
    group = aliased(m.Category)
    stmt = (select(m.Category, group).outerjoin(group, group.id == m.Category.parent_id)
            .where(m.Category.active.is_(True), ~exists().where(child.parent_id == m.Category.id))
            .order_by(m.Category.code))
    if code is not None:
        stmt = stmt.where(m.Category.code == code)
    return session.execute(stmt).all()


def _public_requests(filters):
    """Non-private tickets with their compound's name and code, newest first, at most 1000."""
    stmt = (select(m.Ticket, m.CompoundCopy.name, m.CompoundCopy.code)
            .outerjoin(m.CompoundCopy, m.CompoundCopy.id == m.Ticket.compound_id)
            .where(m.Ticket.private.is_(False))
            .order_by(m.Ticket.created_at.desc(), m.Ticket.id.desc()).limit(MAX_RESULTS))
    if "codes" in filters:
        return stmt.where(m.Ticket.code.in_(filters["codes"] or [""]))
    stmt = stmt.where(m.Ticket.created_at >= filters["start"])
    if filters.get("end") is not None:
        stmt = stmt.where(m.Ticket.created_at <= filters["end"])
    if filters.get("service_codes"):
        stmt = stmt.where(m.Ticket.category.has(m.Category.code.in_(filters["service_codes"])))
    statuses = filters.get("statuses")
    if statuses and statuses != {"open", "closed"}:
        closed = m.Ticket.status.in_(sorted(CLOSED_STATUSES))
        stmt = stmt.where(closed if statuses == {"closed"} else ~closed)
    return stmt
