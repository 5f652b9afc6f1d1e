"""Events published by the organizations service. No personal data: people appear only as ids."""
from marshmallow import Schema, fields, validate

from kit.contracts import event_contract

SOURCE = "organizations"


class _Strict(Schema):
    pass


@event_contract(SOURCE, "region_created", 1, "A node of the jurisdiction tree (county, street, community) was created.")
class RegionCreated(_Strict):
    region_id = fields.Integer(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    level = fields.String(required=True, validate=validate.OneOf(["county", "street", "community"]))
    parent_id = fields.Integer(allow_none=True)
    path = fields.String(required=True)


@event_contract(SOURCE, "region_updated", 1, "A region's name or code changed.")
class RegionUpdated(RegionCreated):
    pass


class CompoundState(_Strict):
    """What other services need to route and judge a compound, derived after every change that affects it."""
    compound_id = fields.Integer(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    community_id = fields.Integer(required=True)
    region_path = fields.String(required=True)
    households = fields.Integer(required=True)
    floor_area = fields.Float(required=True)
    old_compound = fields.Boolean(required=True)
    management_mode = fields.String(required=True)
    company_id = fields.Integer(allow_none=True)
    contract_id = fields.Integer(allow_none=True)
    owner_organization_id = fields.Integer(allow_none=True)
    owner_organization_type = fields.String(allow_none=True)
    party_branch_id = fields.Integer(allow_none=True)
    three_without = fields.Boolean(required=True)


@event_contract(SOURCE, "compound_registered", 1, "A compound (小区) entered the registry.")
class CompoundRegistered(CompoundState):
    pass


@event_contract(SOURCE, "compound_updated", 1,
                "A compound's data or derived state (company, owners' organization, 三无 status) changed.")
class CompoundUpdated(CompoundState):
    pass


class CompanyState(_Strict):
    company_id = fields.Integer(required=True)
    name = fields.String(required=True)
    credit_code = fields.String(required=True)
    state_owned = fields.Boolean(required=True)
    staff_count = fields.Integer(required=True)
    party_member_count = fields.Integer(required=True)
    party_organization_id = fields.Integer(allow_none=True)
    party_organization_form = fields.String(required=True)
    party_finding = fields.String(allow_none=True)


@event_contract(SOURCE, "company_registered", 1, "A property service company entered the registry.")
class CompanyRegistered(CompanyState):
    pass


@event_contract(SOURCE, "company_updated", 1,
                "A company's data changed; `party_organization_set_up` is true when it gained a party organization.")
class CompanyUpdated(CompanyState):
    party_organization_set_up = fields.Boolean(load_default=False, dump_default=False)


class ContractState(_Strict):
    contract_id = fields.Integer(required=True)
    code = fields.String(required=True)
    company_id = fields.Integer(required=True)
    compound_ids = fields.List(fields.Integer(), required=True)
    residential = fields.Boolean(required=True)
    start_date = fields.Date(required=True)
    end_date = fields.Date(allow_none=True)


@event_contract(SOURCE, "contract_signed", 1, "A property service contract was recorded.")
class ContractSigned(ContractState):
    pass


@event_contract(SOURCE, "contract_terminated", 1, "A contract ended early; its compounds may have no company now.")
class ContractTerminated(ContractState):
    terminated_on = fields.Date(required=True)


class OwnerOrganizationState(_Strict):
    owner_organization_id = fields.Integer(required=True)
    compound_id = fields.Integer(required=True)
    type = fields.String(required=True)
    term_start = fields.Date(allow_none=True)
    term_end = fields.Date(allow_none=True)
    active = fields.Boolean(required=True)


@event_contract(SOURCE, "owner_organization_registered", 1,
                "An owners' committee, property management committee or self-governing committee was recorded.")
class OwnerOrganizationRegistered(OwnerOrganizationState):
    pass


@event_contract(SOURCE, "owner_organization_updated", 1, "An owners' organization changed term or was dissolved.")
class OwnerOrganizationUpdated(OwnerOrganizationState):
    pass


@event_contract(SOURCE, "party_organization_registered", 1, "A party organization was recorded.")
class PartyOrganizationRegistered(_Strict):
    party_organization_id = fields.Integer(required=True)
    kind = fields.String(required=True)
    form = fields.String(allow_none=True)
    compound_id = fields.Integer(allow_none=True)
    region_id = fields.Integer(allow_none=True)
    company_ids = fields.List(fields.Integer(), required=True)
    member_count = fields.Integer(required=True)


@event_contract(SOURCE, "account_created", 1, "An account was created (no username or personal data).")
class AccountCreated(_Strict):
    account_id = fields.Integer(required=True)
    person_id = fields.Integer(allow_none=True)


class MembershipState(_Strict):
    membership_id = fields.Integer(required=True)
    account_id = fields.Integer(required=True)
    role = fields.String(required=True)
    region_id = fields.Integer(allow_none=True)
    company_id = fields.Integer(allow_none=True)
    compound_id = fields.Integer(allow_none=True)
    organization_id = fields.Integer(allow_none=True)
    department_id = fields.Integer(allow_none=True)


@event_contract(SOURCE, "membership_granted", 1, "An account was given a role somewhere.")
class MembershipGranted(MembershipState):
    pass


@event_contract(SOURCE, "membership_revoked", 1, "An account lost a role.")
class MembershipRevoked(MembershipState):
    pass


class MembershipStateV2(MembershipState):
    building = fields.String(allow_none=True)  # a resident's building (楼), for notices to a building; never the room


@event_contract(SOURCE, "membership_granted", 2, "An account was given a role somewhere; v2 adds a resident's building.")
class MembershipGrantedV2(MembershipStateV2):
    pass


@event_contract(SOURCE, "membership_revoked", 2, "An account lost a role; v2 adds a resident's building.")
class MembershipRevokedV2(MembershipStateV2):
    pass


@event_contract(SOURCE, "department_created", 1, "A county department that may answer tickets was recorded.")
class DepartmentCreated(_Strict):
    department_id = fields.Integer(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    region_id = fields.Integer(required=True)


@event_contract(SOURCE, "registry_imported", 1, "A bulk import committed; one event per imported record follows too.")
class RegistryImported(_Strict):
    kind = fields.String(required=True, validate=validate.OneOf(["compounds", "companies"]))
    created = fields.Integer(required=True)


@event_contract(SOURCE, "building_added", 1, "A building was added to a compound.")
class BuildingAdded(_Strict):
    building_id = fields.Integer(required=True)
    compound_id = fields.Integer(required=True)
    number = fields.String(required=True)
    households = fields.Integer(required=True)


@event_contract(SOURCE, "person_registered", 1, "A person was registered (only ids: names and phones stay inside).")
class PersonRegistered(_Strict):
    person_id = fields.Integer(required=True)
    region_id = fields.Integer(allow_none=True)


@event_contract(SOURCE, "appointment_recorded", 1,
                "A person took a position in a party organization, owners' organization or company.")
class AppointmentRecorded(_Strict):
    appointment_id = fields.Integer(required=True)
    person_id = fields.Integer(required=True)
    organization_kind = fields.String(required=True, validate=validate.OneOf(["party", "owners", "company"]))
    organization_id = fields.Integer(required=True)
    compound_id = fields.Integer(allow_none=True)


@event_contract(SOURCE, "api_client_created", 1, "Another system was given API access (never its secret).")
class ApiClientCreated(_Strict):
    api_client_id = fields.Integer(required=True)
    region_id = fields.Integer(required=True)
