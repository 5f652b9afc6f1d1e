"""What every ratings use case shares: the session, the caller and their jurisdiction, the clock and the outbox."""
import datetime as dt

from sqlalchemy import select

from kit import auth
from kit.errors import Forbidden, NotFound
from kit.registry_copy import home_region, path_ids, region_in_reach
from services.ratings import inputs, models as m

# the authorities a credit rule table names, and the role that holds each
AUTHORITY_ROLES = {"community": auth.COMMUNITY, "street": auth.STREET, "bureau": auth.BUREAU}
GOVERNMENT = (auth.COMMUNITY, auth.STREET, auth.BUREAU, auth.ADMIN)
READERS = GOVERNMENT + (auth.INTEGRATION,)
NEIGHBOURS = (auth.RESIDENT, auth.OWNERS_ORG, auth.PARTY_BRANCH)


def county_path(path):
    return f"/{path_ids(path)[0]}/"


class Office:
    def __init__(self, session, caller, outbox, settings, now=None):
        self.session = session
        self.caller = caller
        self.outbox = outbox
        self.settings = settings
        self.now = now or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)

    @property
    def today(self):
        return self.now.date()

    @property
    def on_postgresql(self):
        return self.session.bind.dialect.name == "postgresql"

    def locked(self, stmt, lock=True):
        """For a change to one object: its row stays ours until commit (PostgreSQL; SQLite has one writer)."""
        return stmt.with_for_update() if lock and self.on_postgresql else stmt

    def skip_locked(self, stmt):
        """For sweeps: concurrent processes (or a person acting at the same moment) take different rows."""
        return stmt.with_for_update(skip_locked=True) if self.on_postgresql else stmt

    def emit(self, event_type, data):
        self.outbox.add(self.session, event_type, data)

    # ----- the registry copy -----
    def compound(self, compound_id):
        compound = self.session.get(m.CompoundCopy, compound_id)
        if compound is None:
            raise NotFound(f"compound {compound_id} does not exist", details={"compound_id": compound_id})
        return compound

    def company(self, company_id):
        company = self.session.get(m.CompanyCopy, company_id)
        if company is None:
            raise NotFound(f"company {company_id} does not exist", details={"company_id": company_id})
        return company

    def company_names(self, ids):
        ids = set(ids)
        if not ids:
            return {}
        return dict(self.session.execute(select(m.CompanyCopy.id, m.CompanyCopy.name)
                                          .where(m.CompanyCopy.id.in_(ids))).all())

    def region(self, region_id, roles=READERS):
        """A region inside the caller's reach (404 otherwise)."""
        return region_in_reach(self.session, m.RegionCopy, self.caller, region_id, roles)

    def home_region(self, roles=READERS):
        """The widest region the caller works in (their county for the bureau), for queries that name none."""
        return home_region(self.session, m.RegionCopy, self.caller, roles)

    def county_of(self, path):
        return path_ids(path)[0]

    def rule_table(self, county_id, on=None):
        return inputs.rule_table(self.session, county_id, on or self.today)

    # ----- who the caller is -----
    def places_clauses(self, column, roles):
        """Rows placed inside the caller's regions, and company-wide rows, which carry the path of the county."""
        paths = self.caller.region_paths(*roles)
        return [column.startswith(p) for p in paths] + [column == county_path(p) for p in paths]

    def authorities_over(self, path):
        """The authorities (community, street, bureau) the caller holds over a place."""
        return {name for name, role in AUTHORITY_ROLES.items() if self.caller.reaches_path(path, (role,))}

    def is_company_staff(self, company_id):
        return company_id in self.caller.ids("company_id", auth.COMPANY)

    def neighbour_company_ids(self):
        """Companies serving the compounds the caller lives in or sits on the owners' organization or branch of."""
        compounds = self.caller.ids("compound_id", *NEIGHBOURS)
        if not compounds:
            return set()
        return set(self.session.scalars(select(m.CompoundCopy.company_id).where(
            m.CompoundCopy.id.in_(compounds), m.CompoundCopy.company_id.is_not(None))))

    def may_read_company(self, company_id, path=None):
        """Government and integrations over the place, the company's own staff, and its compounds' neighbours."""
        if self.caller.is_system or self.is_company_staff(company_id):
            return True
        if path is not None and self.caller.reaches_path(path, READERS):
            return True
        if path is None and self.caller.region_paths(*READERS):
            return True
        return company_id in self.neighbour_company_ids()

    def require_authority(self, path, *names, what="do this"):
        if self.caller.is_system:
            return
        if not self.authorities_over(path) & set(names):
            raise Forbidden(f"only the {' or '.join(names)} may {what} here", details={"authorities": list(names)})
