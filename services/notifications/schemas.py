"""Request and response schemas of the notifications API."""
from marshmallow import ValidationError, fields, validate, validates_schema

from kit.schemas import InputSchema, OutputSchema, QuerySchema, UtcDateTime
from services.notifications.domain import disclosure

EVENT_PATTERN = validate.Regexp(r"^(\*|[a-z]+\.(\*|[a-z_]+))$", error="use source.event_type, source.* or *")


class InboxQuery(QuerySchema):
    unread = fields.Boolean()


class MessageOut(OutputSchema):
    id = fields.Integer()
    event_type = fields.String()
    title = fields.String()
    body = fields.String()
    link = fields.String(allow_none=True)
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)


class InboxPageOut(OutputSchema):
    items = fields.List(fields.Nested(MessageOut))
    total = fields.Integer()
    page = fields.Integer()
    page_size = fields.Integer()
    unread = fields.Integer()


class UnreadOut(OutputSchema):
    unread = fields.Integer()
    marked = fields.Integer()


class PreferencesIn(InputSchema):
    inbox = fields.Boolean()
    email = fields.Boolean()
    sms = fields.Boolean()
    email_address = fields.Email(allow_none=True)
    phone = fields.String(allow_none=True, validate=validate.Regexp(r"^\+?[0-9]{6,20}$"))


class PreferencesOut(OutputSchema):
    inbox = fields.Boolean()
    email = fields.Boolean()
    sms = fields.Boolean()
    email_address = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)


class SubscriptionIn(InputSchema):
    name = fields.String(required=True, validate=validate.Length(min=2, max=100))
    url = fields.Url(required=True, schemes={"http", "https"}, require_tld=False)
    event_types = fields.List(fields.String(validate=EVENT_PATTERN), required=True,
                              validate=validate.Length(min=1, max=100))
    region_id = fields.Integer(metadata={"description": "default: the caller's region"})


class SubscriptionPatch(InputSchema):
    name = fields.String(validate=validate.Length(min=2, max=100))
    url = fields.Url(schemes={"http", "https"}, require_tld=False)
    event_types = fields.List(fields.String(validate=EVENT_PATTERN), validate=validate.Length(min=1, max=100))
    active = fields.Boolean()


class SubscriptionOut(OutputSchema):
    id = fields.Integer()
    name = fields.String()
    url = fields.String()
    event_types = fields.List(fields.String())
    region_id = fields.Integer()
    active = fields.Boolean()
    consecutive_failures = fields.Integer()
    disabled_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    secret = fields.String(metadata={"description": "only in the answer to the creation: keep it to verify "
                                                    "X-Redprop-Signature"})


class SubscriptionQuery(QuerySchema):
    pass


class DeliveryQuery(QuerySchema):
    status = fields.String(validate=validate.OneOf(["pending", "sent", "failed", "dropped"]))


class DeliveryOut(OutputSchema):
    id = fields.Integer()
    event_id = fields.String()
    event_type = fields.String()
    channel = fields.String()
    status = fields.String()
    attempts = fields.Integer()
    next_attempt_at = fields.DateTime(allow_none=True)
    last_error = fields.String(allow_none=True)
    last_status_code = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    sent_at = fields.DateTime(allow_none=True)


# ----- the disclosure board -----
ITEM_CODES = validate.OneOf([i.code for i in disclosure.ITEMS])


class DisclosureIn(InputSchema):
    compound_id = fields.Integer(required=True)
    item_code = fields.String(required=True, validate=ITEM_CODES)
    title = fields.String(required=True, validate=validate.Length(min=2, max=200))
    content = fields.String(required=True, validate=validate.Length(min=1, max=20000))
    period = fields.String(validate=validate.Length(max=40),
                           metadata={"description": "what it covers, e.g. 2026年第三季度"})


class DisclosureQuery(QuerySchema):
    compound_id = fields.Integer(required=True)
    item_code = fields.String(validate=ITEM_CODES)


class DisclosureFileOut(OutputSchema):
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    url = fields.String()


class DisclosureOut(OutputSchema):
    id = fields.Integer()
    compound_id = fields.Integer()
    item_code = fields.String()
    item_name = fields.String()
    publisher = fields.String()
    title = fields.String()
    content = fields.String()
    period = fields.String(allow_none=True)
    published_at = fields.DateTime()
    attachments = fields.List(fields.Nested(DisclosureFileOut))


class BoardItemOut(OutputSchema):
    item_code = fields.String()
    name = fields.String()
    publisher = fields.String()
    state = fields.String(metadata={"description": "current, due_soon, stale, pending or missing"})
    state_label = fields.String()
    due_on = fields.Date()
    freshness_days = fields.Integer()
    current = fields.Nested(DisclosureOut, allow_none=True)


class NamedOut(OutputSchema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()


class BoardOut(OutputSchema):
    compound = fields.Nested(NamedOut)
    company = fields.Nested(NamedOut, allow_none=True)
    as_of = fields.Date()
    rate = fields.Float(allow_none=True)
    items = fields.List(fields.Nested(BoardItemOut))


class PeriodIn(InputSchema):
    item_code = fields.String(required=True, validate=ITEM_CODES)
    freshness_days = fields.Integer(required=True, validate=validate.Range(min=7, max=3650))


class PolicyIn(InputSchema):
    region_id = fields.Integer(required=True, metadata={"description": "the county, or any region in it"})
    items = fields.List(fields.Nested(PeriodIn), required=True, validate=validate.Length(min=1))


class RegionQuery(QuerySchema):
    region_id = fields.Integer()


class PolicyItemOut(OutputSchema):
    item_code = fields.String()
    name = fields.String()
    publisher = fields.String()
    freshness_days = fields.Integer()
    default_days = fields.Integer()


class PolicyOut(OutputSchema):
    county_id = fields.Integer()
    grace_days = fields.Integer()
    warn_days = fields.Integer()
    items = fields.List(fields.Nested(PolicyItemOut))


class RateFigures(OutputSchema):
    region_id = fields.Integer()
    name = fields.String()
    level = fields.String()
    compounds = fields.Integer()
    owed_items = fields.Integer()
    disclosed_items = fields.Integer()
    lapsed_items = fields.Integer()
    compounds_fully_disclosed = fields.Integer()
    rate = fields.Float(allow_none=True)


class ItemRateOut(OutputSchema):
    item_code = fields.String()
    name = fields.String()
    owed = fields.Integer()
    rate = fields.Float(allow_none=True)


class RateOut(RateFigures):
    as_of = fields.Date()
    by_item = fields.List(fields.Nested(ItemRateOut))
    children = fields.List(fields.Nested(RateFigures))


class CheckOut(OutputSchema):
    compounds = fields.Integer()
    due_soon = fields.Integer()
    overdue = fields.Integer()


# ----- notices and activities -----
class NoticeIn(InputSchema):
    kind = fields.String(load_default="notice", validate=validate.OneOf(["notice", "activity"]))
    title = fields.String(required=True, validate=validate.Length(min=2, max=200))
    body = fields.String(required=True, validate=validate.Length(min=1, max=20000))
    compound_ids = fields.List(fields.Integer(), validate=validate.Length(min=1, max=5000))
    region_id = fields.Integer(metadata={"description": "every compound of a community or street (government)"})
    buildings = fields.List(fields.String(validate=validate.Length(min=1, max=20)), validate=validate.Length(max=200),
                            metadata={"description": "buildings (楼) of the one compound named; none: all"})
    expires_at = UtcDateTime()
    starts_at = UtcDateTime(metadata={"description": "required for an activity"})
    ends_at = UtcDateTime()
    location = fields.String(validate=validate.Length(max=200))
    signup = fields.Boolean(load_default=False)
    capacity = fields.Integer(validate=validate.Range(min=1, max=100000))

    @validates_schema
    def one_target(self, data, **_kwargs):
        if ("compound_ids" in data) == ("region_id" in data):
            raise ValidationError("name compound_ids or a region_id", field_name="compound_ids")


class NoticeQuery(QuerySchema):
    kind = fields.String(validate=validate.OneOf(["notice", "activity"]))
    compound_id = fields.Integer()
    include_past = fields.Boolean(metadata={"description": "also withdrawn, expired and ended ones"})


class NoticeOut(OutputSchema):
    id = fields.Integer()
    kind = fields.String()
    title = fields.String()
    body = fields.String()
    compound_ids = fields.List(fields.Integer())
    buildings = fields.List(fields.String())
    publisher_kind = fields.String()
    publisher_id = fields.Integer()
    published_at = fields.DateTime()
    expires_at = fields.DateTime(allow_none=True)
    starts_at = fields.DateTime(allow_none=True)
    ends_at = fields.DateTime(allow_none=True)
    location = fields.String(allow_none=True)
    signup = fields.Boolean()
    capacity = fields.Integer(allow_none=True)
    signups = fields.Integer()
    signed_up = fields.Boolean(metadata={"description": "whether you signed up (activities with sign-up)"})
    withdrawn_at = fields.DateTime(allow_none=True)
