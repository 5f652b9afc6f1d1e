"""Request and response schemas of the notifications API."""
from marshmallow import fields, validate

from kit.schemas import InputSchema, OutputSchema, QuerySchema

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
