"""Entry points of the organizations service: validate with a schema, call the registry, dump with a schema."""
import base64
import binascii

from kit.errors import ValidationFailed
from kit.messaging import Outbox
from kit.rpc import idempotent, rpc
from kit.schemas import QuerySchema, dump, dump_page, load
from kit.service import PlatformService
from services.organizations import models, schemas as s
from services.organizations.domain.tabular import read_table
from services.organizations.registry import Importer, Registry

MAX_IMPORT_BYTES = 20 * 1024 * 1024


class OrganizationsService(PlatformService):
    name = "organizations"
    idempotency_model = models.IdempotencyRecord

    outbox = Outbox(models.OutboxEvent)

    def _registry(self, session):
        return Registry(session, self.caller(), self.outbox, production=self.settings.production)

    # ----- login -----
    @rpc
    def authenticate(self, data):
        credentials = load(s.Credentials, data)
        with self.db.transaction() as session:
            registry = Registry(session, None, production=self.settings.production)
            return registry.authenticate(credentials["username"], credentials["password"])

    # ----- regions -----
    @rpc
    def list_regions(self, query=None):
        with self.db.transaction() as session:
            return dump_page(s.RegionOut, self._registry(session).list_regions(load(s.RegionQuery, query)))

    @rpc
    def get_region(self, region_id):
        with self.db.transaction() as session:
            return dump(s.RegionOut, self._registry(session).get_region(region_id))

    @rpc
    @idempotent
    def create_region(self, data):
        with self.db.transaction() as session:
            return dump(s.RegionOut, self._registry(session).create_region(load(s.RegionIn, data)))

    @rpc
    def update_region(self, region_id, data):
        with self.db.transaction() as session:
            return dump(s.RegionOut, self._registry(session).update_region(region_id, load(s.RegionPatch, data)))

    # ----- compounds -----
    @rpc
    def list_compounds(self, query=None):
        with self.db.transaction() as session:
            return dump_page(s.CompoundOut, self._registry(session).list_compounds(load(s.CompoundQuery, query)))

    @rpc
    def get_compound(self, compound_id):
        with self.db.transaction() as session:
            return dump(s.CompoundOut, self._registry(session).get_compound(compound_id))

    @rpc
    @idempotent
    def create_compound(self, data):
        with self.db.transaction() as session:
            registry = self._registry(session)
            compound = registry.create_compound(load(s.CompoundIn, data))
            return dump(s.CompoundOut, registry.compound_view(compound))

    @rpc
    def update_compound(self, compound_id, data):
        with self.db.transaction() as session:
            return dump(s.CompoundOut, 
                self._registry(session).update_compound(compound_id, load(s.CompoundPatch, data, partial=True)))

    @rpc
    def list_buildings(self, compound_id):
        with self.db.transaction() as session:
            items = self._registry(session).list_buildings(compound_id)
            return {"items": dump(s.BuildingOut, items, many=True), "total": len(items)}

    @rpc
    @idempotent
    def add_building(self, compound_id, data):
        with self.db.transaction() as session:
            return dump(s.BuildingOut, self._registry(session).add_building(compound_id, load(s.BuildingIn, data)))

    # ----- companies -----
    @rpc
    def list_companies(self, query=None):
        with self.db.transaction() as session:
            return dump_page(s.CompanyOut, self._registry(session).list_companies(load(s.CompanyQuery, query)))

    @rpc
    def get_company(self, company_id):
        with self.db.transaction() as session:
            return dump(s.CompanyOut, self._registry(session).get_company(company_id))

    @rpc
    @idempotent
    def create_company(self, data):
        with self.db.transaction() as session:
            registry = self._registry(session)
            return dump(s.CompanyOut, registry.company_view(registry.create_company(load(s.CompanyIn, data))))

    @rpc
    def update_company(self, company_id, data):
        with self.db.transaction() as session:
            return dump(s.CompanyOut, 
                self._registry(session).update_company(company_id, load(s.CompanyPatch, data, partial=True)))

    # ----- contracts -----
    @rpc
    def list_contracts(self, query=None):
        with self.db.transaction() as session:
            return dump_page(s.ContractOut, self._registry(session).list_contracts(load(s.ContractQuery, query)))

    @rpc
    def get_contract(self, contract_id):
        with self.db.transaction() as session:
            return dump(s.ContractOut, self._registry(session).get_contract(contract_id))

    @rpc
    @idempotent
    def create_contract(self, data):
        with self.db.transaction() as session:
            return dump(s.ContractOut, self._registry(session).create_contract(load(s.ContractIn, data)))

    @rpc
    def terminate_contract(self, contract_id, data):
        with self.db.transaction() as session:
            return dump(s.ContractOut, 
                self._registry(session).terminate_contract(contract_id, load(s.ContractTermination, data)))

    # ----- owners' and party organizations -----
    @rpc
    def list_owner_organizations(self, query=None):
        with self.db.transaction() as session:
            return dump_page(s.OwnerOrganizationOut,
                         self._registry(session).list_owner_organizations(load(s.OrganizationQuery, query)))

    @rpc
    def get_owner_organization(self, organization_id):
        with self.db.transaction() as session:
            return dump(s.OwnerOrganizationOut, self._registry(session).get_owner_organization(organization_id))

    @rpc
    @idempotent
    def create_owner_organization(self, data):
        with self.db.transaction() as session:
            return dump(s.OwnerOrganizationOut, 
                self._registry(session).create_owner_organization(load(s.OwnerOrganizationIn, data)))

    @rpc
    def update_owner_organization(self, organization_id, data):
        with self.db.transaction() as session:
            return dump(s.OwnerOrganizationOut, self._registry(session).update_owner_organization(
                organization_id, load(s.OwnerOrganizationPatch, data)))

    @rpc
    def list_party_organizations(self, query=None):
        with self.db.transaction() as session:
            return dump_page(s.PartyOrganizationOut,
                         self._registry(session).list_party_organizations(load(s.OrganizationQuery, query)))

    @rpc
    @idempotent
    def create_party_organization(self, data):
        with self.db.transaction() as session:
            return dump(s.PartyOrganizationOut, 
                self._registry(session).create_party_organization(load(s.PartyOrganizationIn, data)))

    # ----- people, appointments, accounts -----
    @rpc
    @idempotent
    def create_person(self, data):
        with self.db.transaction() as session:
            return dump(s.PersonOut, self._registry(session).create_person(load(s.PersonIn, data)))

    @rpc
    def get_person(self, person_id):
        with self.db.transaction() as session:
            return dump(s.PersonOut, self._registry(session).get_person(person_id))

    @rpc
    @idempotent
    def create_appointment(self, data):
        with self.db.transaction() as session:
            return dump(s.AppointmentOut, self._registry(session).create_appointment(load(s.AppointmentIn, data)))

    @rpc
    def list_cross_appointments(self, query=None):
        query = load(s.OrganizationQuery, query)
        with self.db.transaction() as session:
            return dump_page(s.CrossAppointmentOut, self._registry(session).cross_appointments(query))

    @rpc
    @idempotent
    def create_account(self, data):
        with self.db.transaction() as session:
            return dump(s.AccountOut, self._registry(session).create_account(load(s.AccountIn, data)))

    @rpc
    def list_accounts(self, query=None):
        with self.db.transaction() as session:
            return dump_page(s.AccountOut, self._registry(session).list_accounts(load(QuerySchema, query)))

    @rpc
    def get_account(self, account_id):
        with self.db.transaction() as session:
            return dump(s.AccountOut, self._registry(session).get_account(account_id))

    @rpc
    def grant_membership(self, account_id, data):
        with self.db.transaction() as session:
            return dump(s.AccountOut, 
                self._registry(session).grant_membership(account_id, load(s.MembershipIn, data)))

    @rpc
    def revoke_membership(self, account_id, membership_id):
        with self.db.transaction() as session:
            return dump(s.AccountOut, self._registry(session).revoke_membership(account_id, membership_id))

    @rpc
    def whoami(self):
        caller = self.caller()
        return {"subject": caller.subject, "username": caller.username,
                "memberships": [m.to_claim() for m in caller.memberships]}

    @rpc
    @idempotent
    def create_department(self, data):
        with self.db.transaction() as session:
            return dump(s.DepartmentOut, self._registry(session).create_department(load(s.DepartmentIn, data)))

    @rpc
    def list_departments(self, query=None):
        with self.db.transaction() as session:
            return dump_page(s.DepartmentOut, self._registry(session).list_departments(load(QuerySchema, query)))

    @rpc
    @idempotent
    def create_api_client(self, data):
        with self.db.transaction() as session:
            return dump(s.ApiClientOut, self._registry(session).create_api_client(load(s.ApiClientIn, data)))

    @rpc
    def export_registry(self):
        with self.db.transaction() as session:
            return self._registry(session).export_registry()

    # ----- statistics and import -----
    @rpc
    def coverage(self, query=None):
        with self.db.transaction() as session:
            return self._registry(session).coverage(load(s.CoverageQuery, query))

    @rpc
    def import_registry(self, kind, filename, content_base64):
        if kind not in ("compounds", "companies"):
            raise ValidationFailed("import compounds or companies", details={"kind": ["unknown kind"]})
        try:
            content = base64.b64decode(content_base64, validate=True)
        except (binascii.Error, TypeError):
            raise ValidationFailed("the file content is not valid base64") from None
        if len(content) > MAX_IMPORT_BYTES:
            raise ValidationFailed("the file is larger than 20 MB")
        rows = read_table(filename, content)
        with self.db.transaction() as session:
            return getattr(Importer(self._registry(session)), kind)(rows)
