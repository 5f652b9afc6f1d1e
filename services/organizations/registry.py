"""The organizations use cases: queries and changes over the registry, with authorization by jurisdiction.

Entry points in service.py validate input and call these; rules themselves live in `domain/`. Every change writes
its events to the outbox in the same transaction.
"""
import datetime as dt
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from eventlet import tpool
from sqlalchemy import false, func, or_, select, true
from sqlalchemy.orm import joinedload, selectinload

from kit import auth
from kit.db import page
from kit.errors import Conflict, Forbidden, NotFound, Unauthenticated, ValidationFailed
from kit.privacy import mask_phone
from kit.schemas import instance
from services.organizations import models as m
from services.organizations.domain import rules
from services.organizations.domain.coverage import CompanyFacts, CompoundFacts, compute_coverage
from services.organizations.domain.credit_code import (credit_code_problem, normalize_credit_code,
                                                       validate_credit_code)
from services.organizations.domain.tabular import validate_rows
from services.organizations.schemas import COMPANY_SELF_SERVICE_FIELDS, CompanyImportRow, CompoundImportRow

PASSWORD_HASHER = PasswordHasher()
# Verifying against this when the user is unknown keeps unknown and known usernames equally slow.
_DUMMY_HASH = PASSWORD_HASHER.hash("not-a-real-password")
LEVEL_PARENT = {"county": None, "street": "county", "community": "street"}
REGION_ROLES = (auth.ADMIN, auth.BUREAU, auth.DEPARTMENT, auth.STREET, auth.COMMUNITY, auth.INTEGRATION)
REGISTRY_EDITORS = (auth.ADMIN, auth.BUREAU)
LOCAL_EDITORS = (auth.ADMIN, auth.BUREAU, auth.STREET, auth.COMMUNITY)
CONTRACT_EDITORS = (auth.ADMIN, auth.BUREAU, auth.STREET)


def hash_password(password):
    return tpool.execute(PASSWORD_HASHER.hash, password)


def _verify(password_hash, password):
    try:
        return tpool.execute(PASSWORD_HASHER.verify, password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


class Registry:
    def __init__(self, session, caller, outbox=None, today=None, production=False):
        self.session = session
        self.caller = caller
        self.outbox = outbox
        self.today = today or dt.date.today()
        self.production = production

    # ----- helpers -----
    def _emit(self, event_type, data):
        self.outbox.add(self.session, event_type, data)

    def _get(self, model, object_id, what):
        obj = self.session.get(model, object_id) if object_id is not None else None
        if obj is None:
            raise NotFound(f"{what} {object_id} does not exist or is outside your jurisdiction",
                           details={"id": object_id})
        return obj

    def _require_reach(self, path, roles):
        """Write access: the caller holds one of `roles` in a region containing `path` (else 403/404)."""
        self.caller.require(*roles)
        if not self.caller.reaches_path(path, roles):
            raise NotFound("outside your jurisdiction")

    def _page(self, query, stmt, view):
        return page(self.session, stmt, query, view)

    # ----- jurisdiction filters -----
    def _active_contract_clause(self):
        return (m.Contract.start_date <= self.today) & or_(m.Contract.end_date.is_(None),
                                                           m.Contract.end_date >= self.today) \
            & or_(m.Contract.terminated_on.is_(None), m.Contract.terminated_on > self.today)

    def _served_compound_ids(self, company_ids):
        return (select(m.contract_compounds.c.compound_id)
                .join(m.Contract, m.Contract.id == m.contract_compounds.c.contract_id)
                .where(m.Contract.company_id.in_(company_ids), self._active_contract_clause()))

    def compound_scope(self):
        caller = self.caller
        if caller.is_system:
            return true()
        clauses = [m.Compound.path.startswith(p) for p in caller.region_paths(*REGION_ROLES)]
        companies = caller.ids("company_id", auth.COMPANY)
        if companies:
            clauses.append(m.Compound.id.in_(self._served_compound_ids(companies)))
        own = caller.ids("compound_id", auth.RESIDENT, auth.OWNERS_ORG, auth.PARTY_BRANCH)
        if own:
            clauses.append(m.Compound.id.in_(own))
        return or_(*clauses) if clauses else false()

    def company_scope(self):
        caller = self.caller
        if caller.is_system:
            return true()
        clauses = []
        own = caller.ids("company_id", auth.COMPANY)
        if own:
            clauses.append(m.Company.id.in_(own))
        serving = (select(m.Contract.company_id)
                   .join(m.contract_compounds, m.contract_compounds.c.contract_id == m.Contract.id)
                   .join(m.Compound, m.Compound.id == m.contract_compounds.c.compound_id)
                   .where(self.compound_scope()))
        clauses.append(m.Company.id.in_(serving))
        paths = caller.region_paths(*REGION_ROLES)
        if paths:
            registered = select(m.Region.id).where(or_(*[m.Region.path.startswith(p) for p in paths]))
            clauses.append(m.Company.region_id.in_(registered))
        return or_(*clauses)

    def visible_compound(self, compound_id):
        compound = self.session.scalar(select(m.Compound).where(m.Compound.id == compound_id,
                                                                self.compound_scope()))
        if compound is None:
            raise NotFound(f"compound {compound_id} does not exist or is outside your jurisdiction",
                           details={"id": compound_id})
        return compound

    def visible_company(self, company_id):
        company = self.session.scalar(select(m.Company).where(m.Company.id == company_id, self.company_scope()))
        if company is None:
            raise NotFound(f"company {company_id} does not exist or is outside your jurisdiction",
                           details={"id": company_id})
        return company

    # ----- regions -----
    def region_view(self, region):
        return {c: getattr(region, c) for c in ("id", "code", "name", "level", "parent_id", "path")}

    def _region_event(self, region):
        return {"region_id": region.id, "code": region.code, "name": region.name, "level": region.level,
                "parent_id": region.parent_id, "path": region.path}

    def list_regions(self, query):
        stmt = select(m.Region).order_by(m.Region.path)
        if "level" in query:
            stmt = stmt.where(m.Region.level == query["level"])
        if "parent_id" in query:
            stmt = stmt.where(m.Region.parent_id == query["parent_id"])
        return self._page(query, stmt, self.region_view)

    def get_region(self, region_id):
        return self.region_view(self._get(m.Region, region_id, "region"))

    def create_region(self, data):
        parent = None
        if data["level"] != "county":
            parent = self._get(m.Region, data.get("parent_id"), "parent region")
            if parent.level != LEVEL_PARENT[data["level"]]:
                raise ValidationFailed(f"a {data['level']} belongs under a {LEVEL_PARENT[data['level']]}",
                                       details={"parent_id": [f"region {parent.id} is a {parent.level}"]})
            self._require_reach(parent.path, REGISTRY_EDITORS)
        else:
            self.caller.require(auth.ADMIN)
            if data.get("parent_id") is not None:
                raise ValidationFailed("a county has no parent", details={"parent_id": ["must be empty"]})
        self._unique(m.Region, "code", data["code"])
        region = m.Region(code=data["code"], name=data["name"], level=data["level"],
                          parent_id=parent.id if parent else None)
        self.session.add(region)
        self.session.flush()
        region.path = f"{parent.path if parent else '/'}{region.id}/"
        self._emit("region_created", self._region_event(region))
        return self.region_view(region)

    def update_region(self, region_id, data):
        region = self._get(m.Region, region_id, "region")
        self._require_reach(region.path, REGISTRY_EDITORS)
        if "code" in data and data["code"] != region.code:
            self._unique(m.Region, "code", data["code"])
        for key, value in data.items():
            setattr(region, key, value)
        self.session.flush()
        self._emit("region_updated", self._region_event(region))
        return self.region_view(region)

    def office_region_id(self):
        """Where the caller's registry office sits: companies it registers are registered there."""
        return next(iter(sorted(self.caller.ids("region_id", *REGISTRY_EDITORS))), None)

    def _unique(self, model, column, value, exclude_id=None):
        stmt = select(model.id).where(getattr(model, column) == value)
        if exclude_id is not None:
            stmt = stmt.where(model.id != exclude_id)
        if self.session.scalar(stmt) is not None:
            # the value is not repeated: a username may be a phone number, and messages reach the logs
            raise Conflict(f"this {column} is already registered", details={column: ["already registered"]})

    # ----- compounds -----
    def _active_contract(self, compound):
        for contract in compound.contracts:
            if contract.residential and rules.contract_is_active(contract.start_date, contract.end_date,
                                                                 contract.terminated_on, self.today):
                return contract
        return None

    def _active_owner_organization(self, compound):
        for org in compound.owner_organizations:
            if self._owner_org_active(org):
                return org
        return None

    def _owner_org_active(self, org):
        return org.dissolved_on is None and (org.term_end is None or org.term_end >= self.today) \
            and (org.term_start is None or org.term_start <= self.today)

    def _party_branch(self, compound):
        return next((p for p in compound.party_organizations
                     if p.kind == rules.PartyOrganizationKind.COMPOUND_BRANCH and p.dissolved_on is None), None)

    def compound_state(self, compound):
        return self._state_of(compound, self._active_contract(compound), self._active_owner_organization(compound),
                              self._party_branch(compound))

    @staticmethod
    def _state_of(compound, contract, owner_org, branch):
        """The derived state other services copy; a new compound has no contract or organizations yet."""
        mode = rules.management_mode(contract.company.state_owned if contract else None, compound.self_managed)
        return {
            "compound_id": compound.id, "code": compound.code, "name": compound.name,
            "community_id": compound.community_id, "region_path": compound.path,
            "households": compound.households, "floor_area": compound.floor_area,
            "old_compound": compound.old_compound, "management_mode": mode,
            "company_id": contract.company_id if contract else None,
            "contract_id": contract.id if contract else None,
            "owner_organization_id": owner_org.id if owner_org else None,
            "owner_organization_type": owner_org.type if owner_org else None,
            "party_branch_id": branch.id if branch else None,
            "three_without": rules.is_three_without(mode, owner_org is not None),
        }

    def compound_view(self, compound):
        state = self.compound_state(compound)
        contract = self._active_contract(compound)
        return {
            **{c: getattr(compound, c) for c in ("id", "code", "name", "community_id", "address", "longitude",
                                                  "latitude", "year_built", "building_count", "households",
                                                  "floor_area", "old_compound", "self_managed")},
            "community_name": compound.community.name, "region_path": compound.path,
            "management_mode_label": rules.MANAGEMENT_MODE_LABELS[state["management_mode"]],
            "company_name": contract.company.name if contract else None,
            **{k: state[k] for k in ("management_mode", "company_id", "contract_id", "owner_organization_id",
                                     "owner_organization_type", "party_branch_id", "three_without")},
        }

    def _compound_stmt(self):
        return (select(m.Compound).where(self.compound_scope())
                .options(selectinload(m.Compound.contracts).joinedload(m.Contract.company),
                         selectinload(m.Compound.owner_organizations),
                         selectinload(m.Compound.party_organizations)))

    def list_compounds(self, query):
        stmt = self._compound_stmt().order_by(m.Compound.code)
        if "region_id" in query:
            region = self._get(m.Region, query["region_id"], "region")
            stmt = stmt.where(m.Compound.path.startswith(region.path))
        if "company_id" in query:
            stmt = stmt.where(m.Compound.id.in_(self._served_compound_ids([query["company_id"]])))
        if "old_compound" in query:
            stmt = stmt.where(m.Compound.old_compound == query["old_compound"])
        if "q" in query:
            stmt = stmt.where(or_(m.Compound.name.contains(query["q"]), m.Compound.code.contains(query["q"])))
        derived = {k: query[k] for k in ("management_mode", "three_without") if k in query}
        if not derived:
            return self._page(query, stmt, self.compound_view)
        views = [v for v in map(self.compound_view, self.session.scalars(stmt).unique())
                 if all(v[k] == value for k, value in derived.items())]
        start = (query["page"] - 1) * query["page_size"]
        return {"items": views[start:start + query["page_size"]], "total": len(views), "page": query["page"],
                "page_size": query["page_size"]}

    def get_compound(self, compound_id):
        return self.compound_view(self.visible_compound(compound_id))

    def _community(self, community_id):
        community = self._get(m.Region, community_id, "community")
        if community.level != "community":
            raise ValidationFailed("compounds belong to a community",
                                   details={"community_id": [f"region {community_id} is a {community.level}"]})
        return community

    def create_compound(self, data, emit=True):
        community = self._community(data["community_id"])
        self._require_reach(community.path, LOCAL_EDITORS)
        self._unique(m.Compound, "code", data["code"])
        compound = m.Compound(**data, path=community.path)
        self.session.add(compound)
        self.session.flush()
        if emit:
            self._emit("compound_registered", self.compound_state(compound))
        return compound

    def update_compound(self, compound_id, data):
        compound = self.visible_compound(compound_id)
        self._require_reach(compound.path, LOCAL_EDITORS)
        if "community_id" in data and data["community_id"] != compound.community_id:
            community = self._community(data["community_id"])
            self._require_reach(community.path, LOCAL_EDITORS)
            compound.path = community.path
        if "code" in data and data["code"] != compound.code:
            self._unique(m.Compound, "code", data["code"], exclude_id=compound.id)
        for key, value in data.items():
            setattr(compound, key, value)
        self.session.flush()
        self.compound_changed(compound)
        return self.compound_view(compound)

    def compound_changed(self, compound):
        self.session.flush()
        self.session.refresh(compound)
        self._emit("compound_updated", self.compound_state(compound))

    def add_building(self, compound_id, data):
        compound = self.visible_compound(compound_id)
        self._require_reach(compound.path, LOCAL_EDITORS)
        if any(b.number == data["number"] for b in compound.buildings):
            raise Conflict(f"building {data['number']} already exists", details={"number": ["already exists"]})
        building = m.Building(compound_id=compound.id, **data)
        self.session.add(building)
        compound.building_count = max(compound.building_count, len(compound.buildings) + 1)
        self.session.flush()
        self._emit("building_added", {"building_id": building.id, "compound_id": compound.id,
                                      "number": building.number, "households": building.households})
        return {"id": building.id, "number": building.number, "units": building.units,
                "households": building.households}

    def list_buildings(self, compound_id):
        compound = self.visible_compound(compound_id)
        return [{"id": b.id, "number": b.number, "units": b.units, "households": b.households}
                for b in compound.buildings]

    # ----- companies -----
    def _company_state(self, company):
        form = company.party_organization.form if company.party_organization and \
            company.party_organization.dissolved_on is None else rules.PartyOrganizationForm.NONE
        return {"company_id": company.id, "name": company.name, "credit_code": company.credit_code,
                "state_owned": company.state_owned, "staff_count": company.staff_count,
                "party_member_count": company.party_member_count,
                "party_organization_id": company.party_organization_id, "party_organization_form": form,
                "party_finding": rules.party_organization_finding(company.party_member_count, form)}

    def company_view(self, company):
        state = self._company_state(company)
        served = self.session.scalar(select(func.count()).select_from(self._served_compound_ids([company.id])
                                                                      .subquery()))
        return {"id": company.id, "region_id": company.region_id, "address": company.address,
                "service_phone": company.service_phone, "compounds_served": served,
                **{k: v for k, v in state.items() if k != "company_id"}}

    def list_companies(self, query):
        stmt = select(m.Company).where(self.company_scope()).order_by(m.Company.id)
        if "state_owned" in query:
            stmt = stmt.where(m.Company.state_owned == query["state_owned"])
        if "q" in query:
            stmt = stmt.where(or_(m.Company.name.contains(query["q"]), m.Company.credit_code == query["q"]))
        if "party_organization_form" in query:
            form = query["party_organization_form"]
            if form == rules.PartyOrganizationForm.NONE:
                stmt = stmt.where(m.Company.party_organization_id.is_(None))
            else:
                stmt = stmt.join(m.PartyOrganization).where(m.PartyOrganization.form == form)
        return self._page(query, stmt, self.company_view)

    def get_company(self, company_id):
        return self.company_view(self.visible_company(company_id))

    def create_company(self, data, emit=True):
        self.caller.require(*REGISTRY_EDITORS)
        data = dict(data, credit_code=validate_credit_code(data["credit_code"]))
        self._unique(m.Company, "credit_code", data["credit_code"])
        if data.get("region_id") is None:
            data["region_id"] = self.office_region_id()
        if data.get("region_id") is not None:
            self._require_reach(self._get(m.Region, data["region_id"], "region").path, REGISTRY_EDITORS)
        company = m.Company(**data)
        self.session.add(company)
        self.session.flush()
        if emit:
            self._emit("company_registered", self._company_state(company))
        return company

    def update_company(self, company_id, data):
        company = self.visible_company(company_id)
        if not self.caller.is_system and not self.caller.has_role(*REGISTRY_EDITORS):
            if company.id not in self.caller.ids("company_id", auth.COMPANY):
                raise Forbidden("your role may not change companies")
            refused = sorted(set(data) - COMPANY_SELF_SERVICE_FIELDS)
            if refused:
                raise Forbidden("company staff may not change these fields",
                                details={field: ["only the housing bureau may change this"] for field in refused})
        if "credit_code" in data:
            data = dict(data, credit_code=validate_credit_code(data["credit_code"]))
            if data["credit_code"] != company.credit_code:
                self._unique(m.Company, "credit_code", data["credit_code"], exclude_id=company.id)
        for key, value in data.items():
            setattr(company, key, value)
        self.session.flush()
        self._emit("company_updated", self._company_state(company))
        return self.company_view(company)

    # ----- contracts -----
    def contract_view(self, contract):
        return {**{c: getattr(contract, c) for c in ("id", "code", "name", "company_id", "residential",
                                                      "households", "floor_area", "fee_standard", "start_date",
                                                      "end_date", "terminated_on", "termination_reason")},
                "company_name": contract.company.name,
                "compound_ids": sorted(c.id for c in contract.compounds),
                "active": rules.contract_is_active(contract.start_date, contract.end_date, contract.terminated_on,
                                                   self.today)}

    def _contract_event(self, contract):
        return {"contract_id": contract.id, "code": contract.code, "company_id": contract.company_id,
                "compound_ids": sorted(c.id for c in contract.compounds), "residential": contract.residential,
                "start_date": contract.start_date, "end_date": contract.end_date}

    def _contract_stmt(self):
        company_ids = self.caller.ids("company_id", auth.COMPANY)
        visible = m.Contract.compounds.any(self.compound_scope())
        if company_ids:
            visible = or_(visible, m.Contract.company_id.in_(company_ids))
        return select(m.Contract).where(true() if self.caller.is_system else visible) \
            .options(selectinload(m.Contract.compounds))

    def list_contracts(self, query):
        stmt = self._contract_stmt().order_by(m.Contract.id)
        if "company_id" in query:
            stmt = stmt.where(m.Contract.company_id == query["company_id"])
        if "compound_id" in query:
            stmt = stmt.where(m.Contract.compounds.any(m.Compound.id == query["compound_id"]))
        if "active" in query:
            clause = self._active_contract_clause()
            stmt = stmt.where(clause if query["active"] else ~clause)
        return self._page(query, stmt, self.contract_view)

    def get_contract(self, contract_id):
        contract = self.session.scalar(self._contract_stmt().where(m.Contract.id == contract_id))
        if contract is None:
            raise NotFound(f"contract {contract_id} does not exist or is outside your jurisdiction")
        return self.contract_view(contract)

    def create_contract(self, data):
        self.caller.require(*CONTRACT_EDITORS)
        company = self._get(m.Company, data["company_id"], "company")
        compounds = []
        for compound_id in dict.fromkeys(data["compound_ids"]):
            compound = self._get(m.Compound, compound_id, "compound")
            self._require_reach(compound.path, CONTRACT_EDITORS)
            compounds.append(compound)
        self._unique(m.Contract, "code", data["code"])
        if data["residential"]:
            self._check_single_residential(data["start_date"], data.get("end_date"), [c.id for c in compounds])
        contract = m.Contract(**{k: v for k, v in data.items() if k != "compound_ids"}, company=company,
                              compounds=compounds)
        self.session.add(contract)
        self.session.flush()
        self._emit("contract_signed", self._contract_event(contract))
        for compound in compounds:
            self.compound_changed(compound)
        return self.contract_view(contract)

    def _check_single_residential(self, start, end, compound_ids, exclude_contract_id=None):
        existing = self.session.scalars(
            select(m.Contract).where(m.Contract.residential.is_(True),
                                     m.Contract.compounds.any(m.Compound.id.in_(compound_ids)))
            .options(selectinload(m.Contract.compounds))).all()
        conflicts = rules.active_residential_conflicts(
            (start, end, compound_ids),
            [(c.id, c.start_date, c.end_date, c.terminated_on, [x.id for x in c.compounds], c.residential)
             for c in existing], exclude_contract_id=exclude_contract_id)
        if conflicts:
            raise Conflict("a compound can have only one active residential contract",
                           details={"compounds": {str(k): f"already served under contract {v}"
                                                  for k, v in sorted(conflicts.items())}})

    def terminate_contract(self, contract_id, data):
        contract = self.session.scalar(self._contract_stmt().where(m.Contract.id == contract_id))
        if contract is None:
            raise NotFound(f"contract {contract_id} does not exist or is outside your jurisdiction")
        for compound in contract.compounds:
            self._require_reach(compound.path, CONTRACT_EDITORS)
        if contract.terminated_on is not None:
            raise Conflict("the contract is already terminated")
        if data["terminated_on"] < contract.start_date:
            raise ValidationFailed("a contract cannot end before it starts",
                                   details={"terminated_on": ["before the start date"]})
        contract.terminated_on = data["terminated_on"]
        contract.termination_reason = data["reason"]
        self.session.flush()
        self._emit("contract_terminated", {**self._contract_event(contract), "terminated_on": contract.terminated_on})
        for compound in contract.compounds:
            self.compound_changed(compound)
        return self.contract_view(contract)

    # ----- owners' organizations -----
    def owner_org_view(self, org):
        return {**{c: getattr(org, c) for c in ("id", "compound_id", "type", "name", "term_start", "term_end",
                                                 "dissolved_on")},
                "type_label": rules.OWNER_ORGANIZATION_TYPE_LABELS[org.type], "active": self._owner_org_active(org)}

    def _owner_org_event(self, org):
        return {"owner_organization_id": org.id, "compound_id": org.compound_id, "type": org.type,
                "term_start": org.term_start, "term_end": org.term_end, "active": self._owner_org_active(org)}

    def list_owner_organizations(self, query):
        stmt = select(m.OwnerOrganization).join(m.Compound).where(self.compound_scope()) \
            .order_by(m.OwnerOrganization.id)
        if "compound_id" in query:
            stmt = stmt.where(m.OwnerOrganization.compound_id == query["compound_id"])
        if "type" in query:
            stmt = stmt.where(m.OwnerOrganization.type == query["type"])
        if "region_id" in query:
            stmt = stmt.where(m.Compound.path.startswith(self._get(m.Region, query["region_id"], "region").path))
        return self._page(query, stmt, self.owner_org_view)

    def _visible_owner_org(self, org_id):
        org = self._get(m.OwnerOrganization, org_id, "owners' organization")
        self.visible_compound(org.compound_id)
        return org

    def get_owner_organization(self, org_id):
        return self.owner_org_view(self._visible_owner_org(org_id))

    def create_owner_organization(self, data):
        compound = self.visible_compound(data["compound_id"])
        self._require_reach(compound.path, LOCAL_EDITORS)
        if self._active_owner_organization(compound) is not None:
            raise Conflict("the compound already has an active owners' organization; dissolve it first")
        org = m.OwnerOrganization(**data)
        self.session.add(org)
        self.session.flush()
        self._emit("owner_organization_registered", self._owner_org_event(org))
        self.compound_changed(compound)
        return self.owner_org_view(org)

    def update_owner_organization(self, org_id, data):
        org = self._visible_owner_org(org_id)
        self._require_reach(org.compound.path, LOCAL_EDITORS)
        for key, value in data.items():
            setattr(org, key, value)
        self.session.flush()
        self._emit("owner_organization_updated", self._owner_org_event(org))
        self.compound_changed(org.compound)
        return self.owner_org_view(org)

    # ----- party organizations -----
    def party_org_view(self, org):
        return {**{c: getattr(org, c) for c in ("id", "name", "kind", "form", "compound_id", "region_id",
                                                 "member_count", "founded_on")},
                "company_ids": sorted(c.id for c in org.companies)}

    def list_party_organizations(self, query):
        compound_ids = select(m.Compound.id).where(self.compound_scope())
        company_ids = select(m.Company.id).where(self.company_scope())
        visible = or_(m.PartyOrganization.compound_id.in_(compound_ids),
                      m.PartyOrganization.companies.any(m.Company.id.in_(company_ids)))
        paths = self.caller.region_paths(*REGION_ROLES)
        if paths:
            regions = select(m.Region.id).where(or_(*[m.Region.path.startswith(p) for p in paths]))
            visible = or_(visible, m.PartyOrganization.region_id.in_(regions))
        stmt = select(m.PartyOrganization).where(true() if self.caller.is_system else visible) \
            .options(selectinload(m.PartyOrganization.companies)).order_by(m.PartyOrganization.id)
        for key in ("compound_id", "kind", "region_id"):
            if key in query:
                stmt = stmt.where(getattr(m.PartyOrganization, key) == query[key])
        return self._page(query, stmt, self.party_org_view)

    def create_party_organization(self, data, emit=True):
        companies = []
        compound = None
        if data["kind"] == rules.PartyOrganizationKind.COMPANY:
            self.caller.require(*REGISTRY_EDITORS)
            for company_id in dict.fromkeys(data["company_ids"]):
                company = self._get(m.Company, company_id, "company")
                if company.party_organization_id is not None:
                    raise Conflict(f"company {company_id} already belongs to party organization "
                                   f"{company.party_organization_id}")
                companies.append(company)
        elif data["kind"] == rules.PartyOrganizationKind.COMPOUND_BRANCH:
            compound = self.visible_compound(data["compound_id"])
            self._require_reach(compound.path, LOCAL_EDITORS)
            if self._party_branch(compound) is not None:
                raise Conflict("the compound already has a party branch")
        else:
            self._require_reach(self._get(m.Region, data["region_id"], "region").path, LOCAL_EDITORS)
        org = m.PartyOrganization(**{k: v for k, v in data.items() if k != "company_ids"})
        self.session.add(org)
        self.session.flush()
        was_without = {c.id: c.party_organization_id is None for c in companies}
        for company in companies:
            company.party_organization = org
        self.session.flush()
        if emit:
            self._emit("party_organization_registered", {
                "party_organization_id": org.id, "kind": org.kind, "form": org.form, "compound_id": org.compound_id,
                "region_id": org.region_id, "company_ids": [c.id for c in companies],
                "member_count": org.member_count})
            for company in companies:
                self._emit("company_updated", {**self._company_state(company),
                                               "party_organization_set_up": was_without[company.id]})
            if compound is not None:
                self.compound_changed(compound)
        return self.party_org_view(org)

    # ----- people and appointments -----
    def _is_callers_own(self, person):
        return self.caller.account_id is not None and self.session.scalar(
            select(m.Account.person_id).where(m.Account.id == self.caller.account_id)) == person.id

    def person_view(self, person):
        own = self._is_callers_own(person)
        return {"id": person.id, "name": person.name, "region_id": person.region_id,
                "phone": person.phone if own else mask_phone(person.phone)}

    def create_person(self, data):
        if data.get("region_id") is not None:
            self._require_reach(self._get(m.Region, data["region_id"], "region").path, LOCAL_EDITORS)
        else:
            self.caller.require(*REGISTRY_EDITORS)
        person = m.Person(**data)
        self.session.add(person)
        self.session.flush()
        self._emit("person_registered", {"person_id": person.id, "region_id": person.region_id})
        return self.person_view(person)

    def _person_in_reach(self, person_id):
        person = self._get(m.Person, person_id, "person")
        if not (self.caller.is_system or self.caller.has_role(auth.ADMIN, auth.BUREAU)
                or self._is_callers_own(person)):
            region = self.session.get(m.Region, person.region_id) if person.region_id else None
            if region is None or not self.caller.reaches_path(region.path, LOCAL_EDITORS):
                raise NotFound(f"person {person_id} does not exist or is outside your jurisdiction")
        return person

    def get_person(self, person_id):
        return self.person_view(self._person_in_reach(person_id))

    def _organization_compound(self, kind, organization_id):
        if kind == "owners":
            return self._visible_owner_org(organization_id).compound_id
        if kind == "party":
            org = self._get(m.PartyOrganization, organization_id, "party organization")
            return org.compound_id
        self.visible_company(organization_id)
        return None

    def appointment_view(self, appointment):
        return {c: getattr(appointment, c) for c in ("id", "person_id", "organization_kind", "organization_id",
                                                      "compound_id", "title")} | \
            {"person_name": appointment.person.name}

    def create_appointment(self, data):
        self.caller.require(*LOCAL_EDITORS)
        person = self._person_in_reach(data["person_id"])
        compound_id = self._organization_compound(data["organization_kind"], data["organization_id"])
        exists = self.session.scalar(select(m.Appointment.id).filter_by(**data))
        if exists:
            raise Conflict("this appointment is already recorded")
        appointment = m.Appointment(**data, compound_id=compound_id, person=person)
        self.session.add(appointment)
        self.session.flush()
        self._emit("appointment_recorded", {"appointment_id": appointment.id, "person_id": person.id,
                                            "organization_kind": appointment.organization_kind,
                                            "organization_id": appointment.organization_id,
                                            "compound_id": compound_id})
        return self.appointment_view(appointment)

    def cross_appointments(self, query):
        """People holding positions in more than one of party branch, owners' organization and company (交叉任职)."""
        self.caller.require(*LOCAL_EDITORS, auth.INTEGRATION)
        stmt = select(m.Appointment).options(selectinload(m.Appointment.person)).order_by(m.Appointment.person_id)
        if "compound_id" in query:
            self.visible_compound(query["compound_id"])
            stmt = stmt.where(m.Appointment.compound_id == query["compound_id"])
        else:
            stmt = stmt.where(m.Appointment.compound_id.in_(select(m.Compound.id).where(self.compound_scope())))
        by_person = {}
        for appointment in self.session.scalars(stmt):
            by_person.setdefault(appointment.person_id, []).append(appointment)
        result = []
        for person_id, positions in by_person.items():
            if len({p.organization_kind for p in positions}) > 1:
                result.append({"person_id": person_id, "person_name": positions[0].person.name,
                               "compound_id": next((p.compound_id for p in positions if p.compound_id), None),
                               "positions": [self.appointment_view(p) for p in positions]})
        return {"items": result, "total": len(result), "page": 1, "page_size": max(len(result), 1)}

    # ----- accounts, memberships, login -----
    def _membership_target_path(self, data):
        if data.get("region_id") is not None:
            return self._get(m.Region, data["region_id"], "region").path
        if data.get("compound_id") is not None:
            return self._get(m.Compound, data["compound_id"], "compound").path
        return None

    def _check_membership(self, data):
        role = data["role"]
        needs = {auth.ADMIN: "region_id", auth.BUREAU: "region_id", auth.STREET: "region_id",
                 auth.COMMUNITY: "region_id", auth.INTEGRATION: "region_id", auth.DEPARTMENT: "department_id",
                 auth.COMPANY: "company_id", auth.RESIDENT: "compound_id", auth.OWNERS_ORG: "compound_id",
                 auth.PARTY_BRANCH: "compound_id"}[role]
        if data.get(needs) is None:
            raise ValidationFailed(f"a {role} membership names its {needs}", details={needs: ["required"]})
        if role == auth.DEPARTMENT:
            department = self._get(m.Department, data["department_id"], "department")
            data["region_id"] = department.region_id
        if role == auth.COMPANY:
            self._get(m.Company, data["company_id"], "company")
            self.caller.require(*REGISTRY_EDITORS)
            return data
        if role == auth.OWNERS_ORG and data.get("organization_id") is not None:
            org = self._get(m.OwnerOrganization, data["organization_id"], "owners' organization")
            if org.compound_id != data["compound_id"]:
                raise ValidationFailed("the organization belongs to another compound",
                                       details={"organization_id": ["not of this compound"]})
        path = self._membership_target_path(data)
        editors = REGISTRY_EDITORS if role in (auth.ADMIN, auth.BUREAU, auth.DEPARTMENT, auth.INTEGRATION) \
            else LOCAL_EDITORS
        self._require_reach(path, editors)
        return data

    def account_view(self, account):
        return {"id": account.id, "username": account.username, "person_id": account.person_id,
                "active": account.active,
                "memberships": [{c: getattr(ms, c) for c in ("id", "role", "region_id", "company_id", "compound_id",
                                                              "organization_id", "department_id", "room")}
                                for ms in account.memberships]}

    def create_account(self, data, demo=False, password_hash=None):
        """`password_hash` lets the demo loader hash its one shared password once."""
        self.caller.require(*LOCAL_EDITORS)
        self._unique(m.Account, "username", data["username"])
        if data.get("person_id") is not None:
            self._person_in_reach(data["person_id"])
        memberships = [self._check_membership(dict(ms)) for ms in data.get("memberships", [])]
        account = m.Account(username=data["username"],
                            password_hash=password_hash or hash_password(data["password"]),
                            person_id=data.get("person_id"), demo=demo,
                            memberships=[m.Membership(**ms) for ms in memberships])
        self.session.add(account)
        self.session.flush()
        self._emit("account_created", {"account_id": account.id, "person_id": account.person_id})
        for membership in account.memberships:
            self._emit("membership_granted", self._membership_event(membership))
        return self.account_view(account)

    def _membership_event(self, ms):
        return {"membership_id": ms.id, "account_id": ms.account_id, "role": ms.role, "region_id": ms.region_id,
                "company_id": ms.company_id, "compound_id": ms.compound_id,
                "organization_id": ms.organization_id, "department_id": ms.department_id,
                "building": auth.building_of(ms.room)}

    def _account_in_reach(self, account_id):
        account = self._get(m.Account, account_id, "account")
        if self.caller.is_system or self.caller.has_role(auth.ADMIN, auth.BUREAU) or \
                account.id == self.caller.account_id:
            return account
        paths = [self._membership_target_path(self.account_view(account)["memberships"][i])
                 for i in range(len(account.memberships))]
        if not paths or not all(p and self.caller.reaches_path(p, LOCAL_EDITORS) for p in paths):
            raise NotFound(f"account {account_id} does not exist or is outside your jurisdiction")
        return account

    def get_account(self, account_id):
        return self.account_view(self._account_in_reach(account_id))

    def list_accounts(self, query):
        self.caller.require(auth.ADMIN, auth.BUREAU)
        stmt = select(m.Account).order_by(m.Account.id)
        return self._page(query, stmt, self.account_view)

    def grant_membership(self, account_id, data):
        account = self._account_in_reach(account_id)
        ms = m.Membership(account_id=account.id, **self._check_membership(dict(data)))
        self.session.add(ms)
        self.session.flush()
        self._emit("membership_granted", self._membership_event(ms))
        return self.account_view(account)

    def revoke_membership(self, account_id, membership_id):
        account = self._account_in_reach(account_id)
        ms = next((x for x in account.memberships if x.id == membership_id), None)
        if ms is None:
            raise NotFound(f"membership {membership_id} not found on account {account_id}")
        self._check_membership({c: getattr(ms, c) for c in ("role", "region_id", "company_id", "compound_id",
                                                            "organization_id", "department_id")})
        event = self._membership_event(ms)
        account.memberships.remove(ms)
        self.session.flush()
        self._emit("membership_revoked", event)
        return self.account_view(account)

    def memberships_claims(self, memberships):
        claims = []
        for ms in memberships:
            path = self._membership_target_path({"region_id": ms.region_id, "compound_id": ms.compound_id})
            claims.append(auth.Membership(role=ms.role, region_id=ms.region_id, region_path=path,
                                          company_id=ms.company_id, compound_id=ms.compound_id,
                                          organization_id=ms.organization_id,
                                          department_id=ms.department_id, room=ms.room).to_claim())
        return claims

    def authenticate(self, username, password):
        """Check a password (an account's, or an API client's secret); returns the identity for a token."""
        refused = Unauthenticated("wrong username or password")
        account = self.session.scalar(select(m.Account).where(m.Account.username == username))
        if account is None:
            client = self.session.scalar(select(m.ApiClient).where(m.ApiClient.client_id == username))
            if client is None or not client.active or not _verify(client.secret_hash, password):
                _verify(_DUMMY_HASH, password) if client is None else None
                raise refused
            region = self.session.get(m.Region, client.region_id)
            return {"subject": f"client:{client.id}", "username": client.client_id,
                    "memberships": [auth.Membership(role=auth.INTEGRATION, region_id=region.id,
                                                    region_path=region.path).to_claim()]}
        if not _verify(account.password_hash, password) or not account.active:
            raise refused
        if account.demo and self.production:
            raise Unauthenticated("demo accounts are refused in production")
        return {"subject": str(account.id), "username": account.username,
                "memberships": self.memberships_claims(account.memberships)}

    # ----- departments and API clients -----
    def create_department(self, data):
        self._require_reach(self._get(m.Region, data["region_id"], "region").path, REGISTRY_EDITORS)
        self._unique(m.Department, "code", data["code"])
        department = m.Department(**data)
        self.session.add(department)
        self.session.flush()
        self._emit("department_created", {"department_id": department.id, "code": department.code,
                                          "name": department.name, "region_id": department.region_id})
        return {c: getattr(department, c) for c in ("id", "code", "name", "region_id")}

    def list_departments(self, query):
        stmt = select(m.Department).order_by(m.Department.id)
        return self._page(query, stmt, lambda d: {c: getattr(d, c) for c in ("id", "code", "name", "region_id")})

    def create_api_client(self, data):
        self._require_reach(self._get(m.Region, data["region_id"], "region").path, REGISTRY_EDITORS)
        secret = secrets.token_urlsafe(32)
        client = m.ApiClient(name=data["name"], region_id=data["region_id"],
                             client_id="cli_" + secrets.token_hex(8), secret_hash=hash_password(secret))
        self.session.add(client)
        self.session.flush()
        self._emit("api_client_created", {"api_client_id": client.id, "region_id": client.region_id})
        return {"id": client.id, "name": client.name, "client_id": client.client_id, "region_id": client.region_id,
                "active": True, "client_secret": secret}

    # ----- snapshot for other services -----
    def export_registry(self):
        """What other services copy from the registry (their resync on first start): the tree, every compound's
        derived state, the companies, the departments and who holds which role where (ids only). Only the platform's own services (the system caller) may ask."""
        self.caller.require(auth.SYSTEM)
        taken_at = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        regions = [self._region_event(r) for r in self.session.scalars(select(m.Region).order_by(m.Region.id))]
        compounds = [self.compound_state(c) for c in self.session.scalars(
            select(m.Compound).order_by(m.Compound.id)
            .options(selectinload(m.Compound.contracts).joinedload(m.Contract.company),
                     selectinload(m.Compound.owner_organizations),
                     selectinload(m.Compound.party_organizations)))]
        companies = [self._company_state(c) for c in self.session.scalars(
            select(m.Company).order_by(m.Company.id).options(joinedload(m.Company.party_organization)))]
        departments = [{"department_id": d.id, "code": d.code, "name": d.name, "region_id": d.region_id}
                       for d in self.session.scalars(select(m.Department).order_by(m.Department.id))]
        memberships = [self._membership_event(ms) for ms in self.session.scalars(
            select(m.Membership).order_by(m.Membership.id))]
        return {"taken_at": taken_at.isoformat(), "regions": regions, "compounds": compounds,
                "companies": companies, "departments": departments, "memberships": memberships}

    # ----- coverage -----
    def coverage(self, query):
        if "region_id" in query:
            region = self._get(m.Region, query["region_id"], "region")
        else:
            paths = sorted(self.caller.region_paths(*REGION_ROLES), key=len)
            if not paths and not self.caller.is_system:
                raise Forbidden("coverage statistics are for government staff and integrations")
            region = self.session.scalar(select(m.Region).where(m.Region.path == paths[0])) if paths else \
                self.session.scalar(select(m.Region).where(m.Region.level == "county").order_by(m.Region.id))
            if region is None:
                raise NotFound("no region to report on")
        if not self.caller.reaches_path(region.path):
            raise NotFound(f"region {region.id} does not exist or is outside your jurisdiction")
        compounds = self.session.scalars(
            select(m.Compound).where(m.Compound.path.startswith(region.path))
            .options(selectinload(m.Compound.contracts).joinedload(m.Contract.company),
                     selectinload(m.Compound.owner_organizations),
                     selectinload(m.Compound.party_organizations))).unique().all()
        compound_facts = []
        company_ids = set()
        for compound in compounds:
            state = self.compound_state(compound)
            if state["company_id"]:
                company_ids.add(state["company_id"])
            compound_facts.append(CompoundFacts(
                compound_id=compound.id, name=compound.name, management_mode=state["management_mode"],
                owner_organization_type=state["owner_organization_type"],
                has_party_branch=state["party_branch_id"] is not None, households=compound.households,
                floor_area=compound.floor_area, three_without=state["three_without"],
                old_compound=compound.old_compound))
        registered = select(m.Region.id).where(m.Region.path.startswith(region.path))
        companies = self.session.scalars(select(m.Company).where(
            or_(m.Company.id.in_(company_ids), m.Company.region_id.in_(registered)))).unique().all()
        company_facts = [CompanyFacts(company_id=c.id, party_member_count=c.party_member_count,
                                      party_organization_form=self._company_state(c)["party_organization_form"],
                                      state_owned=c.state_owned) for c in companies]
        return {"region": self.region_view(region), **compute_coverage(compound_facts, company_facts)}


class Importer:
    """Bulk import: every row is checked first; a file with any error imports nothing."""

    def __init__(self, registry):
        self.registry = registry
        self.session = registry.session

    def compounds(self, rows):
        registry = self.registry
        communities = {r.code: r for r in self.session.scalars(select(m.Region).where(m.Region.level == "community"))}
        existing = set(self.session.scalars(select(m.Compound.code)))
        seen = {}

        def check(row, number):
            errors = {}
            community = communities.get(row["community_code"])
            if community is None:
                errors["community_code"] = ["no community has this code"]
            elif not registry.caller.reaches_path(community.path, LOCAL_EDITORS):
                errors["community_code"] = ["outside your jurisdiction"]
            if row["code"] in existing:
                errors["code"] = ["already registered"]
            elif row["code"] in seen:
                errors["code"] = [f"repeats row {seen[row['code']]}"]
            seen.setdefault(row["code"], number)
            return errors or None
        valid, errors = validate_rows(rows, instance(CompoundImportRow), check)
        if errors:
            raise ValidationFailed(f"{len(errors)} of {len(rows)} rows have errors; nothing was imported",
                                   details={"rows": errors})
        registry.caller.require(*LOCAL_EDITORS)
        compounds = []
        for row in valid:
            community = communities[row.pop("community_code")]
            row.pop("_row", None)
            compounds.append(m.Compound(**row, community_id=community.id, path=community.path, community=community))
        self.session.add_all(compounds)
        self.session.flush()
        for compound in compounds:
            registry._emit("compound_registered", registry._state_of(compound, None, None, None))
        registry._emit("registry_imported", {"kind": "compounds", "created": len(compounds)})
        return {"kind": "compounds", "created": len(compounds), "rows": len(rows)}

    def companies(self, rows):
        registry = self.registry
        registry.caller.require(*REGISTRY_EDITORS)
        existing = set(self.session.scalars(select(m.Company.credit_code)))
        seen = {}

        def check(row, number):
            code = normalize_credit_code(row["credit_code"])
            problem = credit_code_problem(code)
            if problem:
                return {"credit_code": [problem]}
            if code in existing:
                return {"credit_code": ["already registered"]}
            if code in seen:
                return {"credit_code": [f"repeats row {seen[code]}"]}
            seen[code] = number
            return None
        valid, errors = validate_rows(rows, instance(CompanyImportRow), check)
        region_id = registry.office_region_id()
        if errors:
            raise ValidationFailed(f"{len(errors)} of {len(rows)} rows have errors; nothing was imported",
                                   details={"rows": errors})
        companies = []
        for row in valid:
            row.pop("_row", None)
            row["credit_code"] = normalize_credit_code(row["credit_code"])
            companies.append(m.Company(**row, region_id=region_id))
        self.session.add_all(companies)
        self.session.flush()
        for company in companies:
            registry._emit("company_registered", registry._company_state(company))
        registry._emit("registry_imported", {"kind": "companies", "created": len(companies)})
        return {"kind": "companies", "created": len(companies), "rows": len(rows)}
