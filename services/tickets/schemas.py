"""Request and response schemas of the tickets API."""
from marshmallow import ValidationError, fields, validate, validates_schema

from kit.schemas import InputSchema, OutputSchema, QuerySchema

CHANNELS = ("online", "hotline", "reception", "walk_in", "open311")
STAFF_CHANNELS = ("hotline", "reception", "walk_in")
CHANNEL_LABELS = {"online": "线上 online", "hotline": "12345热线 hotline", "reception": "市民接待日 reception day",
                  "walk_in": "来访 walk-in", "open311": "Open311 client"}
SATISFACTIONS = ("satisfied", "basically_satisfied", "dissatisfied")
NOTE = validate.Length(min=1, max=2000)


class TicketIn(InputSchema):
    compound_id = fields.Integer(load_default=None)  # residents: their own compound when omitted
    category_code = fields.String(required=True, validate=validate.Length(min=1, max=60))
    title = fields.String(required=True, validate=validate.Length(min=2, max=100))
    description = fields.String(required=True, validate=validate.Length(min=2, max=4000))
    location_detail = fields.String(load_default=None, validate=validate.Length(max=100))
    channel = fields.String(load_default="online", validate=validate.OneOf(CHANNELS))
    reporter_name = fields.String(load_default=None, validate=validate.Length(min=1, max=60))
    reporter_phone = fields.String(load_default=None, validate=validate.Regexp(r"^\+?[0-9-]{5,20}$"))
    private = fields.Boolean(load_default=None)

    @validates_schema
    def _staff_intake(self, data, **_):
        if data["channel"] in STAFF_CHANNELS and not data.get("reporter_phone"):
            raise ValidationError("a report taken by staff needs the reporter's phone", "reporter_phone")


class ActionIn(InputSchema):
    """The body of POST /tickets/{id}/{action}; which fields an action needs is checked by the desk."""
    note = fields.String(load_default=None, validate=NOTE)
    satisfaction = fields.String(load_default=None, validate=validate.OneOf(SATISFACTIONS))
    speed_score = fields.Integer(load_default=None, validate=validate.Range(min=1, max=5))
    attitude_score = fields.Integer(load_default=None, validate=validate.Range(min=1, max=5))
    handler_kind = fields.String(load_default=None)
    handler_id = fields.Integer(load_default=None)
    into_ticket_id = fields.Integer(load_default=None)
    deadline_hours = fields.Float(load_default=None, validate=validate.Range(min=0.5, max=720))


class SupervisionAnswerIn(InputSchema):
    answer = fields.String(required=True, validate=NOTE)


class TicketQuery(QuerySchema):
    status = fields.String()
    compound_id = fields.Integer()
    category_code = fields.String()
    region_id = fields.Integer()
    level = fields.String()
    mine = fields.Boolean()       # reported by me
    assigned = fields.Boolean()   # assigned to a body I work for
    overdue = fields.Boolean()
    q = fields.String(validate=validate.Length(max=50))


class ActionOut(OutputSchema):
    id = fields.Integer()
    at = fields.DateTime()
    actor_account_id = fields.Integer(allow_none=True)
    actor_party = fields.String()
    action = fields.String()
    from_status = fields.String(allow_none=True)
    to_status = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    data = fields.Dict()


class SupervisionOut(OutputSchema):
    id = fields.Integer()
    level = fields.String()
    note = fields.String()
    deadline = fields.DateTime()
    issued_at = fields.DateTime()
    answer = fields.String(allow_none=True)
    answered_at = fields.DateTime(allow_none=True)


class AttachmentOut(OutputSchema):
    id = fields.Integer()
    name = fields.String()
    kind = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    created_at = fields.DateTime()


class TicketOut(OutputSchema):
    id = fields.Integer()
    code = fields.String()
    compound_id = fields.Integer()
    compound_name = fields.String(allow_none=True)
    community_id = fields.Integer()
    category_code = fields.String()
    category_name = fields.String()
    title = fields.String()
    description = fields.String()
    location_detail = fields.String(allow_none=True)
    channel = fields.String()
    reporter_account_id = fields.Integer(allow_none=True)
    reporter_name = fields.String(allow_none=True)
    reporter_phone = fields.String(allow_none=True)
    private = fields.Boolean()
    priority = fields.String()
    status = fields.String()
    status_label = fields.String()
    level = fields.String()
    handler_kind = fields.String()
    handler_id = fields.Integer()
    claim_deadline = fields.DateTime(allow_none=True)
    resolve_deadline = fields.DateTime(allow_none=True)
    due_at = fields.DateTime(allow_none=True)
    overdue = fields.Boolean()
    claimed_at = fields.DateTime(allow_none=True)
    resolved_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    solved_level = fields.String(allow_none=True)
    escalations = fields.Integer()
    urges = fields.Integer()
    reopen_count = fields.Integer()
    satisfaction = fields.String(allow_none=True)
    speed_score = fields.Integer(allow_none=True)
    attitude_score = fields.Integer(allow_none=True)
    rating_comment = fields.String(allow_none=True)
    merged_into_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    allowed_actions = fields.List(fields.String())
    timeline = fields.List(fields.Nested(ActionOut))
    supervisions = fields.List(fields.Nested(SupervisionOut))
    attachments = fields.List(fields.Nested(AttachmentOut))


class TicketSummaryOut(OutputSchema):
    id = fields.Integer()
    code = fields.String()
    compound_id = fields.Integer()
    category_code = fields.String()
    title = fields.String()
    status = fields.String()
    status_label = fields.String()
    level = fields.String()
    handler_kind = fields.String()
    handler_id = fields.Integer()
    priority = fields.String()
    due_at = fields.DateTime(allow_none=True)
    overdue = fields.Boolean()
    created_at = fields.DateTime()


class CategoryIn(InputSchema):
    code = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9_.-]{2,60}$"))
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    parent_code = fields.String(load_default=None)
    responsible = fields.String(required=True, validate=validate.OneOf(
        ["company", "owners_org", "community", "department"]))
    department_code = fields.String(load_default=None)
    claim_hours = fields.Float(required=True, validate=validate.Range(min=0.5, max=720))
    resolve_hours = fields.Float(required=True, validate=validate.Range(min=0.5, max=2000))
    photo_required = fields.Boolean(load_default=False)
    public = fields.Boolean(load_default=True)
    priority = fields.String(load_default="normal", validate=validate.OneOf(["urgent", "high", "normal", "low"]))


class CategoryPatch(InputSchema):
    name = fields.String(validate=validate.Length(min=1, max=100))
    responsible = fields.String(validate=validate.OneOf(["company", "owners_org", "community", "department"]))
    department_code = fields.String(allow_none=True)
    claim_hours = fields.Float(validate=validate.Range(min=0.5, max=720))
    resolve_hours = fields.Float(validate=validate.Range(min=0.5, max=2000))
    photo_required = fields.Boolean()
    public = fields.Boolean()
    priority = fields.String(validate=validate.OneOf(["urgent", "high", "normal", "low"]))
    active = fields.Boolean()


class CategoryOut(OutputSchema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    parent_code = fields.String(allow_none=True)
    responsible = fields.String(allow_none=True)
    department_code = fields.String(allow_none=True)
    claim_hours = fields.Float(allow_none=True)
    resolve_hours = fields.Float(allow_none=True)
    photo_required = fields.Boolean()
    public = fields.Boolean()
    priority = fields.String()
    active = fields.Boolean()


class CategoryQuery(QuerySchema):
    page_size = fields.Integer(load_default=500, validate=validate.Range(min=1, max=500))
    active = fields.Boolean()


class StatsQuery(QuerySchema):
    by = fields.String(load_default="company",
                       validate=validate.OneOf(["company", "compound", "community", "street", "county"]))
    region_id = fields.Integer()
    since = fields.Date()
    until = fields.Date()
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]))
