"""Events published by the notifications service: the disclosure board (公示栏) and notices (公告). Ids, codes,
dates and the publisher's own titles only: no reader, signer-up or resident is ever named."""
from marshmallow import Schema, fields, validate

from kit.contracts import event_contract

SOURCE = "notifications"
PUBLISHER_KINDS = ["company", "owners_org", "party_branch", "community", "street", "bureau"]


@event_contract(SOURCE, "disclosure_overdue", 1,
                "A compound's required disclosure (公示 / 阳光物业) is missing or stale past its freshness period.")
class DisclosureOverdue(Schema):
    compound_id = fields.Integer(required=True)
    company_id = fields.Integer(allow_none=True)
    item_code = fields.String(required=True)
    state = fields.String(required=True, validate=validate.OneOf(["missing", "stale"]))
    due_on = fields.Date(required=True)


class DisclosureLapse(Schema):
    """Which item of which compound, who must publish it, and by when. `company_id` is set only when the item is the
    company's to publish (ratings deducts from it); `owner_organization_id` only when it is the owners'."""
    compound_id = fields.Integer(required=True)
    region_path = fields.String(required=True)
    item_code = fields.String(required=True)
    item_name = fields.String(required=True)
    company_id = fields.Integer(allow_none=True)
    owner_organization_id = fields.Integer(allow_none=True)
    due_on = fields.Date(required=True)


@event_contract(SOURCE, "disclosure_overdue", 2,
                "A compound's required disclosure is missing or stale past its freshness period: once per lapse. "
                "v2 names the owners' organization for its own items, and the place.")
class DisclosureOverdueV2(DisclosureLapse):
    state = fields.String(required=True, validate=validate.OneOf(["missing", "stale"]))


@event_contract(SOURCE, "disclosure_due_soon", 1,
                "A compound's required disclosure falls due soon: a reminder to its publisher, once per due date.")
class DisclosureDueSoon(DisclosureLapse):
    pass


@event_contract(SOURCE, "disclosure_published", 1, "A disclosure item was published on a compound's board.")
class DisclosurePublished(Schema):
    disclosure_id = fields.Integer(required=True)
    compound_id = fields.Integer(required=True)
    region_path = fields.String(required=True)
    item_code = fields.String(required=True)
    item_name = fields.String(required=True)
    publisher_kind = fields.String(required=True, validate=validate.OneOf(["company", "owners_org"]))
    publisher_id = fields.Integer(required=True)
    published_at = fields.DateTime(required=True)
    next_due_on = fields.Date(required=True)


class NoticeState(Schema):
    notice_id = fields.Integer(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(["notice", "activity"]))
    title = fields.String(required=True)
    compound_ids = fields.List(fields.Integer(), required=True)
    buildings = fields.List(fields.String(), required=True)  # empty: every building of the compounds
    region_path = fields.String(required=True)               # the narrowest region holding every compound
    publisher_kind = fields.String(required=True, validate=validate.OneOf(PUBLISHER_KINDS))
    publisher_id = fields.Integer(required=True)
    starts_at = fields.DateTime(allow_none=True)             # activities
    ends_at = fields.DateTime(allow_none=True)
    signup = fields.Boolean(required=True)


@event_contract(SOURCE, "notice_published", 1, "A notice (公告) or activity was published to compounds or buildings.")
class NoticePublished(NoticeState):
    pass


@event_contract(SOURCE, "notice_withdrawn", 1, "A notice or activity was withdrawn (an activity: cancelled).")
class NoticeWithdrawn(NoticeState):
    pass
