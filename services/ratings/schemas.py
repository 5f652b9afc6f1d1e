"""Request and response schemas of the ratings API."""
from marshmallow import fields, validate

from kit.schemas import InputSchema, OutputSchema, QuerySchema, UtcDateTime

ANSWER = fields.Integer(validate=validate.Range(min=1, max=5))


# ----- rule tables -----
class RuleTableIn(InputSchema):
    county_id = fields.Integer(required=True)
    effective_from = fields.Date(required=True)
    table = fields.Dict(required=True, metadata={"description": "the table itself: see docs/RULE_TABLES.md"})


class RuleTableQuery(QuerySchema):
    county_id = fields.Integer()


class RuleTableInForceQuery(InputSchema):
    county_id = fields.Integer()
    on = fields.Date()


class RuleTableOut(OutputSchema):
    id = fields.Integer()
    county_id = fields.Integer(allow_none=True)
    code = fields.String()
    version = fields.Integer()
    name = fields.String()
    effective_from = fields.Date()
    published_at = fields.DateTime()
    content = fields.Dict()


# ----- evaluations -----
class DimensionIn(InputSchema):
    code = fields.String(required=True, validate=validate.Regexp(r"^[a-z][a-z0-9_]{0,39}$"))
    name = fields.String(required=True, validate=validate.Length(min=1, max=60))
    weight = fields.Float(required=True, validate=validate.Range(min=0, max=1, min_inclusive=False))


class CampaignIn(InputSchema):
    title = fields.String(required=True, validate=validate.Length(min=2, max=200))
    region_id = fields.Integer(required=True)
    year = fields.Integer(validate=validate.Range(min=2000, max=2100))
    closes_at = UtcDateTime(required=True, metadata={"description": "results publish themselves then"})
    compound_ids = fields.List(fields.Integer(), validate=validate.Length(min=1))
    dimensions = fields.List(fields.Nested(DimensionIn), validate=validate.Length(min=1, max=12))
    participation_threshold = fields.Float(validate=validate.Range(min=0, max=1, min_inclusive=False))


class CampaignQuery(QuerySchema):
    year = fields.Integer()
    status = fields.String(validate=validate.OneOf(["open", "published"]))


class VoteIn(InputSchema):
    compound_id = fields.Integer(metadata={"description": "only when your households are in several compounds"})
    room = fields.String(metadata={"description": "only when you live in several households of the compound"})
    answers = fields.Dict(keys=fields.String(), values=ANSWER, required=True,
                          metadata={"description": "dimension code → 1 (很不满意) … 5 (很满意)"})


class VoteOut(OutputSchema):
    campaign_id = fields.Integer()
    compound_id = fields.Integer()
    score = fields.Float()
    cast_at = fields.DateTime()


class CampaignCompoundOut(OutputSchema):
    compound_id = fields.Integer()
    compound_name = fields.String(allow_none=True)
    company_id = fields.Integer()
    company_name = fields.String(allow_none=True)
    households = fields.Integer()
    votes = fields.Integer(allow_none=True)
    participation = fields.Float(allow_none=True)
    valid = fields.Boolean(allow_none=True)
    score = fields.Float(allow_none=True)
    dimension_scores = fields.Dict(allow_none=True)


class CampaignCompanyOut(OutputSchema):
    company_id = fields.Integer()
    company_name = fields.String(allow_none=True)
    compounds = fields.Integer()
    valid_compounds = fields.Integer()
    households = fields.Integer()
    votes = fields.Integer()
    participation = fields.Float()
    valid = fields.Boolean()
    score = fields.Float(allow_none=True)


class CampaignOut(OutputSchema):
    id = fields.Integer()
    title = fields.String()
    region_id = fields.Integer()
    year = fields.Integer()
    dimensions = fields.List(fields.Dict())
    participation_threshold = fields.Float()
    status = fields.String()
    open = fields.Boolean()
    closes_at = fields.DateTime()
    created_at = fields.DateTime()
    published_at = fields.DateTime(allow_none=True)
    compounds = fields.List(fields.Nested(CampaignCompoundOut))
    companies = fields.List(fields.Nested(CampaignCompanyOut))
    my_households = fields.List(fields.Dict())


# ----- credit -----
class CreditRecordIn(InputSchema):
    company_id = fields.Integer(required=True)
    compound_id = fields.Integer(metadata={"description": "where it happened; the bureau may leave it out"})
    item_code = fields.String(required=True)
    occurred_on = fields.Date()
    evidence_kind = fields.String(validate=validate.Length(max=20))
    evidence_ref = fields.String(validate=validate.Length(max=100))
    evidence_note = fields.String(validate=validate.Length(max=2000))


class CreditRecordQuery(QuerySchema):
    company_id = fields.Integer()
    compound_id = fields.Integer()
    item_code = fields.String()
    kind = fields.String(validate=validate.OneOf(["bonus", "deduction"]))
    status = fields.String(validate=validate.OneOf(["active", "objected", "revoked"]))
    source = fields.String(validate=validate.OneOf(["manual", "automatic"]))
    in_force_on = fields.Date()


class ObjectionIn(InputSchema):
    reason = fields.String(required=True, validate=validate.Length(min=2, max=2000))


class RecordDecisionIn(InputSchema):
    decision = fields.String(required=True, validate=validate.OneOf(["upheld", "revoked"]))
    note = fields.String(required=True, validate=validate.Length(min=2, max=2000))


class CreditRecordOut(OutputSchema):
    id = fields.Integer()
    company_id = fields.Integer()
    compound_id = fields.Integer(allow_none=True)
    county_id = fields.Integer()
    rule_table_id = fields.Integer()
    item_code = fields.String()
    item_name = fields.String()
    kind = fields.String()
    points = fields.Float()
    veto = fields.Boolean()
    occurred_on = fields.Date()
    valid_until = fields.Date()
    source = fields.String()
    authority = fields.String()
    evidence_kind = fields.String(allow_none=True)
    evidence_ref = fields.String(allow_none=True)
    evidence_note = fields.String(allow_none=True)
    status = fields.String()
    in_force = fields.Boolean()
    recorded_at = fields.DateTime()
    objection = fields.String(allow_none=True)
    objected_at = fields.DateTime(allow_none=True)
    decision = fields.String(allow_none=True)
    decision_note = fields.String(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)


class ScoreQuery(QuerySchema):
    region_id = fields.Integer()
    on = fields.Date()
    standing = fields.String(validate=validate.OneOf(["red", "black"]))


class CompanyScoreQuery(InputSchema):
    on = fields.Date()
    compound_id = fields.Integer(metadata={"description": "score one project (the company at one compound)"})


class HistoryQuery(InputSchema):
    year = fields.Integer(validate=validate.Range(min=2000, max=2100))
    compound_id = fields.Integer()


class ScoreOut(OutputSchema):
    company_id = fields.Integer()
    company_name = fields.String(allow_none=True)
    score = fields.Float()
    grade = fields.String()
    bonus = fields.Float()
    deduction = fields.Float()
    veto = fields.Boolean()
    standing = fields.String(allow_none=True, metadata={"description": "red (红名单), black (黑名单) or none"})
    records = fields.Integer()
    rank = fields.Integer(allow_none=True)


class ScorePageOut(OutputSchema):
    items = fields.List(fields.Nested(ScoreOut))
    total = fields.Integer()
    page = fields.Integer()
    page_size = fields.Integer()
    on = fields.Date()
    rule_table = fields.String()
    region_id = fields.Integer()


class CompanyScoreOut(ScoreOut):
    on = fields.Date()
    compound_id = fields.Integer(allow_none=True)
    items = fields.Dict()
    rule_table = fields.Dict()
    records_in_force = fields.List(fields.Nested(CreditRecordOut))


class HistoryPointOut(OutputSchema):
    on = fields.Date()
    score = fields.Float()
    grade = fields.String()
    standing = fields.String(allow_none=True)


class HistoryOut(OutputSchema):
    company_id = fields.Integer()
    year = fields.Integer()
    points = fields.List(fields.Nested(HistoryPointOut))


# ----- star ratings -----
class CountyYearIn(InputSchema):
    """A county's year: for drafting its star rating and selecting its demonstration projects."""
    year = fields.Integer(required=True, validate=validate.Range(min=2000, max=2100))
    county_id = fields.Integer(metadata={"description": "default: the caller's county"})


class StarRatingQuery(QuerySchema):
    year = fields.Integer()
    status = fields.String(validate=validate.OneOf(["draft", "notice", "final"]))
    county_id = fields.Integer()


class StarAdjustIn(InputSchema):
    stars = fields.Integer(required=True, validate=validate.Range(min=1, max=5))
    note = fields.String(required=True, validate=validate.Length(min=2, max=2000))


class StarDecisionIn(InputSchema):
    decision = fields.String(required=True, validate=validate.OneOf(["upheld", "rejected"]))
    stars = fields.Integer(validate=validate.Range(min=1, max=5))
    note = fields.String(required=True, validate=validate.Length(min=2, max=2000))


class StarEntryOut(OutputSchema):
    company_id = fields.Integer()
    company_name = fields.String(allow_none=True)
    evaluation_score = fields.Float(allow_none=True)
    credit_score = fields.Float(allow_none=True)
    credit_grade = fields.String(allow_none=True)
    ticket_score = fields.Float(allow_none=True)
    veto = fields.Boolean()
    composite = fields.Float(allow_none=True)
    computed_stars = fields.Integer(allow_none=True)
    stars = fields.Integer(allow_none=True)
    stars_label = fields.String(allow_none=True)
    rank = fields.Integer(allow_none=True)
    objection = fields.String(allow_none=True)
    objection_status = fields.String(allow_none=True)
    objected_at = fields.DateTime(allow_none=True)
    decision_note = fields.String(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)


class StarRatingOut(OutputSchema):
    id = fields.Integer()
    county_id = fields.Integer()
    year = fields.Integer()
    rule_table_id = fields.Integer()
    status = fields.String()
    as_of = fields.DateTime()
    notice_until = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    noticed_at = fields.DateTime(allow_none=True)
    finalized_at = fields.DateTime(allow_none=True)
    entries = fields.List(fields.Nested(StarEntryOut))


class VerificationOut(OutputSchema):
    star_rating_id = fields.Integer()
    as_of = fields.DateTime()
    entries = fields.Integer()
    matches = fields.Boolean()
    differences = fields.List(fields.Dict())


class RankingQuery(InputSchema):
    region_id = fields.Integer()
    year = fields.Integer(validate=validate.Range(min=2000, max=2100))
    by = fields.String(load_default="composite", validate=validate.OneOf(
        ["composite", "credit_score", "evaluation_score", "ticket_score"]))


class RankingRowOut(StarEntryOut):
    pass


class RankingOut(OutputSchema):
    region_id = fields.Integer()
    year = fields.Integer()
    by = fields.String()
    source = fields.String()
    items = fields.List(fields.Nested(RankingRowOut))


class DemonstrationQuery(QuerySchema):
    year = fields.Integer()
    county_id = fields.Integer()


class DemonstrationOut(OutputSchema):
    id = fields.Integer()
    county_id = fields.Integer()
    year = fields.Integer()
    compound_id = fields.Integer()
    compound_name = fields.String(allow_none=True)
    company_id = fields.Integer()
    company_name = fields.String(allow_none=True)
    rank = fields.Integer()
    stars = fields.Integer(allow_none=True)
    evaluation_score = fields.Float(allow_none=True)
    credit_score = fields.Float(allow_none=True)
    selected_at = fields.DateTime()


# ----- rectification -----
class RectificationIn(InputSchema):
    company_id = fields.Integer(required=True)
    compound_id = fields.Integer()
    items = fields.List(fields.String(validate=validate.Length(min=2, max=500)), required=True,
                        validate=validate.Length(min=1, max=30))
    deadline = fields.Date()


class RectificationQuery(QuerySchema):
    company_id = fields.Integer()
    status = fields.String(validate=validate.OneOf(["issued", "responded", "closed", "escalated"]))
    star_rating_id = fields.Integer()


class ResponseIn(InputSchema):
    response = fields.String(required=True, validate=validate.Length(min=2, max=4000))


class ReinspectionIn(InputSchema):
    passed = fields.Boolean(required=True)
    note = fields.String(required=True, validate=validate.Length(min=2, max=2000))


class RecommendationQuery(QuerySchema):
    compound_id = fields.Integer()


class RecommendationOut(OutputSchema):
    id = fields.Integer()
    rectification_id = fields.Integer()
    company_id = fields.Integer()
    compound_id = fields.Integer()
    owner_organization_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()


class StepOut(OutputSchema):
    at = fields.DateTime()
    actor_account_id = fields.Integer(allow_none=True)
    action = fields.String()
    status = fields.String()
    note = fields.String(allow_none=True)


class RectificationOut(OutputSchema):
    id = fields.Integer()
    company_id = fields.Integer()
    company_name = fields.String(allow_none=True)
    compound_id = fields.Integer(allow_none=True)
    star_rating_id = fields.Integer(allow_none=True)
    items = fields.List(fields.String())
    deadline = fields.Date()
    status = fields.String()
    status_label = fields.String()
    level = fields.String()
    failures = fields.Integer()
    response = fields.String(allow_none=True)
    issued_at = fields.DateTime()
    steps = fields.List(fields.Nested(StepOut))
    eliminations = fields.List(fields.Nested(RecommendationOut))
