"""What tickets reads from its copy of the registry (kept by kit.registry_copy): routing facts and departments."""
from sqlalchemy import select

from kit.registry_copy import RegistryCopy, path_ids
from services.tickets import models as m
from services.tickets.domain.routing import CompoundFacts

COPY = RegistryCopy(m.REGISTRY)


def compound_facts(compound):
    county_id, street_id, community_id = (path_ids(compound.region_path) + [None, None, None])[:3]
    return CompoundFacts(compound_id=compound.id, community_id=compound.community_id, street_id=street_id,
                         county_id=county_id, company_id=compound.company_id,
                         owner_organization_id=compound.owner_organization_id,
                         three_without=compound.three_without)


def department_id(session, code):
    if not code:
        return None
    return session.scalar(select(m.DepartmentCopy.id).where(m.DepartmentCopy.code == code))
