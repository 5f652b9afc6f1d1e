"""Events published by the ratings service: ids, codes, points and results; never a voter or a name."""
from marshmallow import Schema, fields, validate

from kit.contracts import event_contract

SOURCE = "ratings"


@event_contract(SOURCE, "rule_table_published", 1,
                "A county published a version of its credit rule table (加分减分表); it is in force from its date.")
class RuleTablePublished(Schema):
    rule_table_id = fields.Integer(required=True)
    county_id = fields.Integer(allow_none=True)   # none: the platform default for counties without their own
    code = fields.String(required=True)
    version = fields.Integer(required=True)
    effective_from = fields.Date(required=True)


class CampaignState(Schema):
    campaign_id = fields.Integer(required=True)
    region_id = fields.Integer(required=True)
    region_path = fields.String(required=True)
    year = fields.Integer(required=True)
    closes_at = fields.DateTime(required=True)


@event_contract(SOURCE, "evaluation_opened", 1, "An owner evaluation campaign (业主评议) opened for voting.")
class EvaluationOpened(CampaignState):
    compounds = fields.Integer(required=True)


class CompoundResult(Schema):
    compound_id = fields.Integer(required=True)
    company_id = fields.Integer(required=True)
    households = fields.Integer(required=True)
    votes = fields.Integer(required=True)
    participation = fields.Float(required=True)
    valid = fields.Boolean(required=True)
    score = fields.Float(allow_none=True)   # none when fewer households voted than the threshold asks


class CompanyResult(Schema):
    company_id = fields.Integer(required=True)
    votes = fields.Integer(required=True)
    participation = fields.Float(required=True)
    valid = fields.Boolean(required=True)
    score = fields.Float(allow_none=True)


@event_contract(SOURCE, "evaluation_published", 1,
                "A campaign closed and its results were published: per compound and per company, valid or not.")
class EvaluationPublished(CampaignState):
    participation_threshold = fields.Float(required=True)
    compounds = fields.List(fields.Nested(CompoundResult), required=True)
    companies = fields.List(fields.Nested(CompanyResult), required=True)


class CreditRecordState(Schema):
    record_id = fields.Integer(required=True)
    company_id = fields.Integer(required=True)
    compound_id = fields.Integer(allow_none=True)
    item_code = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(["bonus", "deduction"]))
    points = fields.Float(required=True)
    veto = fields.Boolean(required=True)
    occurred_on = fields.Date(required=True)
    valid_until = fields.Date(required=True)
    source = fields.String(required=True, validate=validate.OneOf(["manual", "automatic"]))
    status = fields.String(required=True)
    evidence_kind = fields.String(allow_none=True)   # "ticket", "supervision", "disclosure", "document", …
    evidence_ref = fields.String(allow_none=True)


@event_contract(SOURCE, "credit_record_added", 1, "A bonus or deduction was recorded against a company.")
class CreditRecordAdded(CreditRecordState):
    pass


@event_contract(SOURCE, "credit_record_objected", 1, "The company objected to a credit record (异议).")
class CreditRecordObjected(CreditRecordState):
    pass


@event_contract(SOURCE, "credit_record_decided", 1,
                "The recording authority decided an objection: the record stands (upheld) or is revoked.")
class CreditRecordDecided(CreditRecordState):
    decision = fields.String(required=True, validate=validate.OneOf(["upheld", "revoked"]))


class StarEntry(Schema):
    company_id = fields.Integer(required=True)
    stars = fields.Integer(allow_none=True)
    composite = fields.Float(allow_none=True)


class RoundState(Schema):
    star_rating_id = fields.Integer(required=True)
    county_id = fields.Integer(required=True)
    year = fields.Integer(required=True)
    status = fields.String(required=True)


@event_contract(SOURCE, "star_rating_noticed", 1,
                "A yearly star rating went on public notice (公示); objections are open until `notice_until`.")
class StarRatingNoticed(RoundState):
    notice_until = fields.DateTime(required=True)
    entries = fields.List(fields.Nested(StarEntry), required=True)


@event_contract(SOURCE, "star_rating_objection_filed", 1, "A company objected to its stars during the notice.")
class StarRatingObjectionFiled(RoundState):
    company_id = fields.Integer(required=True)


@event_contract(SOURCE, "star_rating_objection_decided", 1, "The bureau decided an objection to a star rating.")
class StarRatingObjectionDecided(RoundState):
    company_id = fields.Integer(required=True)
    decision = fields.String(required=True, validate=validate.OneOf(["upheld", "rejected"]))
    stars = fields.Integer(allow_none=True)


@event_contract(SOURCE, "star_rating_finalized", 1, "A yearly star rating became final; low stars get rectification.")
class StarRatingFinalized(RoundState):
    entries = fields.List(fields.Nested(StarEntry), required=True)


class RectificationState(Schema):
    rectification_id = fields.Integer(required=True)
    company_id = fields.Integer(required=True)
    compound_id = fields.Integer(allow_none=True)
    status = fields.String(required=True)
    deadline = fields.Date(required=True)
    failures = fields.Integer(required=True)
    level = fields.String(required=True)   # who re-inspects: street or bureau
    star_rating_id = fields.Integer(allow_none=True)


@event_contract(SOURCE, "rectification_ordered", 1, "A company was ordered to rectify (责令整改) by a deadline.")
class RectificationOrdered(RectificationState):
    pass


@event_contract(SOURCE, "rectification_responded", 1, "The company reported its rectification done.")
class RectificationResponded(RectificationState):
    pass


@event_contract(SOURCE, "rectification_reinspected", 1,
                "The authority re-inspected: closed when passed; otherwise a new deadline one level up, or escalated.")
class RectificationReinspected(RectificationState):
    passed = fields.Boolean(required=True)


@event_contract(SOURCE, "elimination_recommended", 1,
                "Repeated failed rectification: the compound's owners' organization is advised to replace the "
                "company (末位淘汰).")
class EliminationRecommended(Schema):
    recommendation_id = fields.Integer(required=True)
    rectification_id = fields.Integer(required=True)
    company_id = fields.Integer(required=True)
    compound_id = fields.Integer(required=True)
    owner_organization_id = fields.Integer(allow_none=True)


class Project(Schema):
    compound_id = fields.Integer(required=True)
    company_id = fields.Integer(required=True)
    rank = fields.Integer(required=True)


@event_contract(SOURCE, "demonstration_projects_selected", 1,
                "The year's red-property demonstration projects (红色物业示范项目) were selected.")
class DemonstrationProjectsSelected(Schema):
    county_id = fields.Integer(required=True)
    year = fields.Integer(required=True)
    projects = fields.List(fields.Nested(Project), required=True)
