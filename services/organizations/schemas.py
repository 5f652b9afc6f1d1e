"""Request and response schemas of the organizations API."""
from marshmallow import fields, validate, validates_schema, ValidationError

from kit.auth import ROLE_LABELS
from kit.schemas import InputSchema, OutputSchema, QuerySchema
from services.organizations.domain.rules import (OwnerOrganizationType, PartyOrganizationForm,
                                                 PartyOrganizationKind)

LEVELS = ("county", "street", "community")
NAME = validate.Length(min=1, max=100)
COUNT = validate.Range(min=0, max=10_000_000)


# ----- regions -----
class RegionIn(InputSchema):
    code = fields.String(required=True, validate=validate.Regexp(r"^[0-9A-Za-z_-]{2,32}$"))
    name = fields.String(required=True, validate=NAME)
    level = fields.String(required=True, validate=validate.OneOf(LEVELS))
    parent_id = fields.Integer(allow_none=True, load_default=None)


class RegionPatch(InputSchema):
    code = fields.String(validate=validate.Regexp(r"^[0-9A-Za-z_-]{2,32}$"))
    name = fields.String(validate=NAME)


class RegionOut(OutputSchema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    level = fields.String()
    parent_id = fields.Integer(allow_none=True)
    path = fields.String()


class RegionQuery(QuerySchema):
    level = fields.String(validate=validate.OneOf(LEVELS))
    parent_id = fields.Integer()


# ----- compounds -----
class CompoundIn(InputSchema):
    code = fields.String(required=True, validate=validate.Regexp(r"^[0-9A-Za-z_-]{2,40}$"))
    name = fields.String(required=True, validate=NAME)
    community_id = fields.Integer(required=True)
    address = fields.String(allow_none=True, validate=validate.Length(max=200))
    longitude = fields.Float(allow_none=True, validate=validate.Range(min=-180, max=180))
    latitude = fields.Float(allow_none=True, validate=validate.Range(min=-90, max=90))
    year_built = fields.Integer(allow_none=True, validate=validate.Range(min=1900, max=2100))
    building_count = fields.Integer(load_default=0, validate=COUNT)
    households = fields.Integer(load_default=0, validate=COUNT)
    floor_area = fields.Float(load_default=0.0, validate=validate.Range(min=0))
    old_compound = fields.Boolean(load_default=False)
    self_managed = fields.Boolean(load_default=False)


class CompoundPatch(CompoundIn):
    pass


class CompoundImportRow(InputSchema):
    """One row of a compounds import file: the community is named by its code."""
    code = fields.String(required=True, validate=validate.Regexp(r"^[0-9A-Za-z_-]{2,40}$"))
    name = fields.String(required=True, validate=NAME)
    community_code = fields.String(required=True)
    address = fields.String(allow_none=True)
    longitude = fields.Float(allow_none=True, validate=validate.Range(min=-180, max=180))
    latitude = fields.Float(allow_none=True, validate=validate.Range(min=-90, max=90))
    year_built = fields.Integer(allow_none=True, validate=validate.Range(min=1900, max=2100))
    building_count = fields.Integer(load_default=0, validate=COUNT)
    households = fields.Integer(load_default=0, validate=COUNT)
    floor_area = fields.Float(load_default=0.0, validate=validate.Range(min=0))
    old_compound = fields.Boolean(load_default=False, truthy={"true", "1", "是", "yes", "y"},
                                  falsy={"false", "0", "否", "no", "n", ""})
    self_managed = fields.Boolean(load_default=False, truthy={"true", "1", "是", "yes", "y"},
                                  falsy={"false", "0", "否", "no", "n", ""})


class BuildingOut(OutputSchema):
    id = fields.Integer()
    number = fields.String()
    units = fields.Integer()
    households = fields.Integer()


class CompoundOut(OutputSchema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    community_id = fields.Integer()
    community_name = fields.String()
    region_path = fields.String()
    address = fields.String(allow_none=True)
    longitude = fields.Float(allow_none=True)
    latitude = fields.Float(allow_none=True)
    year_built = fields.Integer(allow_none=True)
    building_count = fields.Integer()
    households = fields.Integer()
    floor_area = fields.Float()
    old_compound = fields.Boolean()
    self_managed = fields.Boolean()
    management_mode = fields.String()
    management_mode_label = fields.String()
    company_id = fields.Integer(allow_none=True)
    company_name = fields.String(allow_none=True)
    contract_id = fields.Integer(allow_none=True)
    owner_organization_id = fields.Integer(allow_none=True)
    owner_organization_type = fields.String(allow_none=True)
    party_branch_id = fields.Integer(allow_none=True)
    three_without = fields.Boolean()


class CompoundQuery(QuerySchema):
    region_id = fields.Integer()
    company_id = fields.Integer()
    management_mode = fields.String()
    three_without = fields.Boolean()
    old_compound = fields.Boolean()
    q = fields.String(validate=validate.Length(max=50))


class BuildingIn(InputSchema):
    number = fields.String(required=True, validate=validate.Length(min=1, max=20))
    units = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100))
    households = fields.Integer(load_default=0, validate=COUNT)


# ----- companies -----
class CompanyIn(InputSchema):
    name = fields.String(required=True, validate=validate.Length(min=2, max=120))
    credit_code = fields.String(required=True)
    region_id = fields.Integer(allow_none=True)
    staff_count = fields.Integer(load_default=0, validate=COUNT)
    state_owned = fields.Boolean(load_default=False)
    party_member_count = fields.Integer(load_default=0, validate=COUNT)
    address = fields.String(allow_none=True, validate=validate.Length(max=200))
    service_phone = fields.String(allow_none=True, validate=validate.Length(max=30))


class CompanyPatch(CompanyIn):
    pass


# Fields a company's own staff may change about their company; the rest is the bureau's.
COMPANY_SELF_SERVICE_FIELDS = {"staff_count", "address", "service_phone", "party_member_count"}


class CompanyImportRow(InputSchema):
    name = fields.String(required=True, validate=validate.Length(min=2, max=120))
    credit_code = fields.String(required=True)
    staff_count = fields.Integer(load_default=0, validate=COUNT)
    state_owned = fields.Boolean(load_default=False, truthy={"true", "1", "是", "yes", "y"},
                                 falsy={"false", "0", "否", "no", "n", ""})
    party_member_count = fields.Integer(load_default=0, validate=COUNT)
    address = fields.String(allow_none=True)
    service_phone = fields.String(allow_none=True)


class CompanyOut(OutputSchema):
    id = fields.Integer()
    name = fields.String()
    credit_code = fields.String()
    region_id = fields.Integer(allow_none=True)
    staff_count = fields.Integer()
    state_owned = fields.Boolean()
    party_member_count = fields.Integer()
    party_organization_id = fields.Integer(allow_none=True)
    party_organization_form = fields.String()
    party_finding = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    service_phone = fields.String(allow_none=True)
    compounds_served = fields.Integer()


class CompanyQuery(QuerySchema):
    state_owned = fields.Boolean()
    party_organization_form = fields.String(validate=validate.OneOf(PartyOrganizationForm.ALL))
    q = fields.String(validate=validate.Length(max=50))


# ----- contracts -----
class ContractIn(InputSchema):
    code = fields.String(required=True, validate=validate.Length(min=2, max=40))
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    company_id = fields.Integer(required=True)
    compound_ids = fields.List(fields.Integer(), required=True, validate=validate.Length(min=1, max=200))
    residential = fields.Boolean(load_default=True)
    households = fields.Integer(load_default=0, validate=COUNT)
    floor_area = fields.Float(load_default=0.0, validate=validate.Range(min=0))
    fee_standard = fields.Decimal(allow_none=True, places=2, validate=validate.Range(min=0, max=1000))
    start_date = fields.Date(required=True)
    end_date = fields.Date(allow_none=True)

    @validates_schema
    def _dates(self, data, **_):
        if data.get("end_date") and data.get("start_date") and data["end_date"] < data["start_date"]:
            raise ValidationError("must not be before start_date", "end_date")


class ContractTermination(InputSchema):
    terminated_on = fields.Date(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=200))


class ContractOut(OutputSchema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    company_id = fields.Integer()
    company_name = fields.String()
    compound_ids = fields.List(fields.Integer())
    residential = fields.Boolean()
    households = fields.Integer()
    floor_area = fields.Float()
    fee_standard = fields.Decimal(as_string=True, allow_none=True)
    start_date = fields.Date()
    end_date = fields.Date(allow_none=True)
    terminated_on = fields.Date(allow_none=True)
    termination_reason = fields.String(allow_none=True)
    active = fields.Boolean()


class ContractQuery(QuerySchema):
    company_id = fields.Integer()
    compound_id = fields.Integer()
    active = fields.Boolean()


# ----- owners' and party organizations -----
class OwnerOrganizationIn(InputSchema):
    compound_id = fields.Integer(required=True)
    type = fields.String(required=True, validate=validate.OneOf(OwnerOrganizationType.ALL))
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    term_start = fields.Date(allow_none=True)
    term_end = fields.Date(allow_none=True)


class OwnerOrganizationPatch(InputSchema):
    name = fields.String(validate=validate.Length(min=1, max=120))
    term_start = fields.Date(allow_none=True)
    term_end = fields.Date(allow_none=True)
    dissolved_on = fields.Date(allow_none=True)


class OwnerOrganizationOut(OutputSchema):
    id = fields.Integer()
    compound_id = fields.Integer()
    type = fields.String()
    type_label = fields.String()
    name = fields.String()
    term_start = fields.Date(allow_none=True)
    term_end = fields.Date(allow_none=True)
    dissolved_on = fields.Date(allow_none=True)
    active = fields.Boolean()


class PartyOrganizationIn(InputSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    kind = fields.String(required=True, validate=validate.OneOf(PartyOrganizationKind.ALL))
    form = fields.String(allow_none=True, validate=validate.OneOf(PartyOrganizationForm.ESTABLISHED))
    compound_id = fields.Integer(allow_none=True)
    region_id = fields.Integer(allow_none=True)
    company_ids = fields.List(fields.Integer(), load_default=list)
    member_count = fields.Integer(load_default=0, validate=COUNT)
    founded_on = fields.Date(allow_none=True)

    @validates_schema
    def _kind_fields(self, data, **_):
        kind = data["kind"]
        if kind == PartyOrganizationKind.COMPOUND_BRANCH and not data.get("compound_id"):
            raise ValidationError("a compound branch needs its compound", "compound_id")
        if kind == PartyOrganizationKind.COMPANY:
            if not data.get("form"):
                raise ValidationError("a company party organization needs its form", "form")
            if not data.get("company_ids"):
                raise ValidationError("name the company or companies it covers", "company_ids")
            if data["form"] != "joint" and len(data["company_ids"]) != 1:
                raise ValidationError("only a joint organization covers several companies", "company_ids")
        if kind == PartyOrganizationKind.COMMUNITY and not data.get("region_id"):
            raise ValidationError("a community party organization needs its community", "region_id")


class PartyOrganizationOut(OutputSchema):
    id = fields.Integer()
    name = fields.String()
    kind = fields.String()
    form = fields.String(allow_none=True)
    compound_id = fields.Integer(allow_none=True)
    region_id = fields.Integer(allow_none=True)
    company_ids = fields.List(fields.Integer())
    member_count = fields.Integer()
    founded_on = fields.Date(allow_none=True)


class OrganizationQuery(QuerySchema):
    compound_id = fields.Integer()
    region_id = fields.Integer()
    kind = fields.String()
    type = fields.String()


# ----- people, appointments, accounts -----
class PersonIn(InputSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=60))
    phone = fields.String(allow_none=True, validate=validate.Regexp(r"^\+?[0-9-]{5,20}$"))
    region_id = fields.Integer(allow_none=True)


class PersonOut(OutputSchema):
    id = fields.Integer()
    name = fields.String()
    phone = fields.String(allow_none=True)  # masked unless the caller is this person
    region_id = fields.Integer(allow_none=True)


class AppointmentIn(InputSchema):
    person_id = fields.Integer(required=True)
    organization_kind = fields.String(required=True, validate=validate.OneOf(["party", "owners", "company"]))
    organization_id = fields.Integer(required=True)
    title = fields.String(required=True, validate=validate.Length(min=1, max=60))


class AppointmentOut(OutputSchema):
    id = fields.Integer()
    person_id = fields.Integer()
    person_name = fields.String()
    organization_kind = fields.String()
    organization_id = fields.Integer()
    compound_id = fields.Integer(allow_none=True)
    title = fields.String()


class CrossAppointmentOut(OutputSchema):
    person_id = fields.Integer()
    person_name = fields.String()
    compound_id = fields.Integer(allow_none=True)
    positions = fields.List(fields.Nested(AppointmentOut))


class MembershipIn(InputSchema):
    role = fields.String(required=True, validate=validate.OneOf([r for r in ROLE_LABELS if r != "system"]))
    region_id = fields.Integer(allow_none=True)
    company_id = fields.Integer(allow_none=True)
    compound_id = fields.Integer(allow_none=True)
    organization_id = fields.Integer(allow_none=True)
    department_id = fields.Integer(allow_none=True)
    room = fields.String(allow_none=True, validate=validate.Length(max=40))


class AccountIn(InputSchema):
    username = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_.@-]{3,80}$"))
    password = fields.String(required=True, validate=validate.Length(min=8, max=200), load_only=True)
    person_id = fields.Integer(allow_none=True)
    memberships = fields.List(fields.Nested(MembershipIn), load_default=list)


class MembershipOut(OutputSchema):
    id = fields.Integer()
    role = fields.String()
    region_id = fields.Integer(allow_none=True)
    company_id = fields.Integer(allow_none=True)
    compound_id = fields.Integer(allow_none=True)
    organization_id = fields.Integer(allow_none=True)
    department_id = fields.Integer(allow_none=True)
    room = fields.String(allow_none=True)


class AccountOut(OutputSchema):
    id = fields.Integer()
    username = fields.String()
    person_id = fields.Integer(allow_none=True)
    active = fields.Boolean()
    memberships = fields.List(fields.Nested(MembershipOut))


class Credentials(InputSchema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=80))
    password = fields.String(required=True, validate=validate.Length(min=1, max=200))


class DepartmentIn(InputSchema):
    code = fields.String(required=True, validate=validate.Length(min=2, max=40))
    name = fields.String(required=True, validate=NAME)
    region_id = fields.Integer(required=True)


class DepartmentOut(OutputSchema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    region_id = fields.Integer()


class ApiClientIn(InputSchema):
    name = fields.String(required=True, validate=NAME)
    region_id = fields.Integer(required=True)


class ApiClientOut(OutputSchema):
    id = fields.Integer()
    name = fields.String()
    client_id = fields.String()
    region_id = fields.Integer()
    active = fields.Boolean()
    client_secret = fields.String()  # present only in the answer that created it


class CoverageQuery(QuerySchema):
    region_id = fields.Integer()
