"""Reference data the tickets service starts with: the category tree (loaded by `redprop migrate`)."""
from sqlalchemy import select

from services.tickets import models as m
from services.tickets.domain.categories import SEED_CATEGORIES


def seed(session):
    """Add the seed categories that are missing; categories the bureau edited are left as they are."""
    known = {c.code: c for c in session.scalars(select(m.Category))}
    for spec in SEED_CATEGORIES:  # parents come before their children in the list
        if spec["code"] in known:
            continue
        parent = known.get(spec["parent_code"]) if spec.get("parent_code") else None
        category = m.Category(**{k: v for k, v in spec.items() if k != "parent_code" and v is not None},
                              parent_id=parent.id if parent else None)
        session.add(category)
        session.flush()
        known[category.code] = category
