"""Events published by the notifications service (the disclosure board). Declared here, with their version, before
the service that publishes them exists, so ratings can subscribe against a fixed contract."""
from marshmallow import Schema, fields, validate

from kit.contracts import event_contract

SOURCE = "notifications"


@event_contract(SOURCE, "disclosure_overdue", 1,
                "A compound's required disclosure (公示 / 阳光物业) is missing or stale past its freshness period.")
class DisclosureOverdue(Schema):
    compound_id = fields.Integer(required=True)
    company_id = fields.Integer(allow_none=True)
    item_code = fields.String(required=True)
    state = fields.String(required=True, validate=validate.OneOf(["missing", "stale"]))
    due_on = fields.Date(required=True)
