"""Notices (公告) and activities for residents: published by a compound's company, owners' organization or party
branch, or by the community, street or bureau over the compounds in their reach; targeted at compounds, or at
buildings of one compound. Residents hear them through `notice_published` (routed to them), read them here, and
sign up for activities with a capacity."""
from sqlalchemy import exists, or_, select

from kit import auth
from kit.db import page
from kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from services.notifications import models as m

NEIGHBOURS = (auth.RESIDENT, auth.OWNERS_ORG, auth.PARTY_BRANCH)
GOVERNMENT = (auth.COMMUNITY, auth.STREET, auth.BUREAU, auth.ADMIN)
EVERY_BUILDING = ""  # an audience row for a whole compound
# a government publisher speaks as the narrowest of its bodies that holds every compound named
GOVERNMENT_KINDS = ((auth.COMMUNITY, "community"), (auth.STREET, "street"), (auth.BUREAU, "bureau"),
                    (auth.ADMIN, "bureau"))


class Notices:
    def __init__(self, session, caller, outbox, now):
        self.session = session
        self.caller = caller
        self.outbox = outbox
        self.now = now

    # ----- who may publish -----
    def _publisher(self, compounds, buildings):
        """(kind, id) of the body the caller publishes for: a body of the compound(s) or a government office
        whose region holds them all; 403 otherwise."""
        if self.caller.is_system:
            return "bureau", _common_path_ids(compounds)[0]
        companies = {c.company_id for c in compounds}
        if len(companies) == 1 and None not in companies and \
                companies <= self.caller.ids("company_id", auth.COMPANY):
            return "company", companies.pop()
        if len(compounds) == 1:
            compound = compounds[0]
            if compound.owner_organization_id and \
                    compound.owner_organization_id in self.caller.ids("organization_id", auth.OWNERS_ORG):
                return "owners_org", compound.owner_organization_id
            if compound.id in self.caller.ids("compound_id", auth.PARTY_BRANCH):
                return "party_branch", compound.id
        for role, kind in GOVERNMENT_KINDS:
            for membership in self.caller.memberships:
                if membership.role == role and membership.region_path and \
                        all(c.region_path.startswith(membership.region_path) for c in compounds):
                    return kind, membership.region_id
        raise Forbidden("you publish only for compounds your company serves, your owners' organization or party "
                        "branch, or inside your jurisdiction")

    def _targets(self, data):
        if "region_id" in data:
            region = self.session.get(m.RegionCopy, data["region_id"])
            if region is None or not self.caller.reaches_path(region.path, GOVERNMENT):
                raise NotFound(f"region {data['region_id']} does not exist or is outside your jurisdiction")
            compounds = self.session.scalars(select(m.CompoundCopy).where(
                m.CompoundCopy.region_path.startswith(region.path)).order_by(m.CompoundCopy.id)).all()
        else:
            ids = sorted(set(data["compound_ids"]))
            compounds = self.session.scalars(select(m.CompoundCopy).where(m.CompoundCopy.id.in_(ids))
                                             .order_by(m.CompoundCopy.id)).all()
            missing = sorted(set(ids) - {c.id for c in compounds})
            if missing:
                raise NotFound("unknown compounds", details={"compound_ids": missing})
        if not compounds:
            raise ValidationFailed("the notice reaches no compound", details={"compound_ids": ["no compound"]})
        if data.get("buildings") and len(compounds) != 1:
            raise ValidationFailed("buildings are named within one compound", details={"buildings": ["one compound"]})
        return compounds

    # ----- publishing -----
    def publish(self, data):
        compounds = self._targets(data)
        buildings = sorted({b.strip() for b in data.get("buildings") or () if b.strip()})
        kind, publisher_id = self._publisher(compounds, buildings)
        _check_times(data, self.now)
        notice = m.Notice(kind=data["kind"], title=data["title"], body=data["body"],
                          compound_ids=[c.id for c in compounds], buildings=buildings,
                          region_path=_common_path(compounds), publisher_kind=kind, publisher_id=publisher_id,
                          published_by=self.caller.account_id, published_at=self.now,
                          expires_at=data.get("expires_at"), starts_at=data.get("starts_at"),
                          ends_at=data.get("ends_at"), location=data.get("location"),
                          signup=bool(data.get("signup")), capacity=data.get("capacity"), signups=0)
        self.session.add(notice)
        self.session.flush()
        self.session.add_all([m.NoticeAudience(notice_id=notice.id, compound_id=c.id, building=building)
                              for c in compounds for building in buildings or (EVERY_BUILDING,)])
        self.outbox.add(self.session, "notice_published", self._event(notice))
        return self.view(notice)

    def withdraw(self, notice_id):
        notice = self._notice(notice_id)
        if not self._speaks_for(notice):
            raise Forbidden("only its publisher withdraws a notice")
        if notice.withdrawn_at is not None:
            raise Conflict("the notice was withdrawn already")
        notice.withdrawn_at = self.now
        self.outbox.add(self.session, "notice_withdrawn", self._event(notice))
        return self.view(notice)

    def _speaks_for(self, notice):
        if self.caller.is_system:
            return True
        kind, publisher_id = notice.publisher_kind, notice.publisher_id
        if kind == "company":
            return publisher_id in self.caller.ids("company_id", auth.COMPANY)
        if kind == "owners_org":
            return publisher_id in self.caller.ids("organization_id", auth.OWNERS_ORG)
        if kind == "party_branch":
            return publisher_id in self.caller.ids("compound_id", auth.PARTY_BRANCH)
        return self.caller.reaches_path(notice.region_path, GOVERNMENT)

    def _event(self, notice):
        return {"notice_id": notice.id, "kind": notice.kind, "title": notice.title,
                "compound_ids": notice.compound_ids, "buildings": notice.buildings,
                "region_path": notice.region_path, "publisher_kind": notice.publisher_kind,
                "publisher_id": notice.publisher_id, "starts_at": notice.starts_at, "ends_at": notice.ends_at,
                "signup": notice.signup}

    # ----- reading -----
    def _homes(self):
        """(compound, building or None) the caller lives in or serves as a neighbour body."""
        return [(ms.compound_id, auth.building_of(ms.room) if ms.role == auth.RESIDENT else None)
                for ms in self.caller.memberships if ms.role in NEIGHBOURS and ms.compound_id]

    def _visible(self):
        """Notices for the caller's compounds (and building), those of the compounds their company serves, their
        own body's, and everything inside their jurisdiction."""
        if self.caller.is_system:
            return None
        clauses = []
        for compound_id, building in self._homes():
            audience = exists().where(m.NoticeAudience.notice_id == m.Notice.id,
                                      m.NoticeAudience.compound_id == compound_id)
            if building is not None:
                audience = audience.where(m.NoticeAudience.building.in_((EVERY_BUILDING, building)))
            clauses.append(audience)
        companies = self.caller.ids("company_id", auth.COMPANY)
        if companies:
            served = select(m.CompoundCopy.id).where(m.CompoundCopy.company_id.in_(companies))
            clauses.append(exists().where(m.NoticeAudience.notice_id == m.Notice.id,
                                          m.NoticeAudience.compound_id.in_(served)))
        clauses += [m.Notice.region_path.startswith(p) for p in self.caller.region_paths(*GOVERNMENT)]
        if not clauses:
            raise Forbidden("notices are for residents, their bodies, companies and government staff")
        return or_(*clauses)

    def _notice(self, notice_id):
        stmt = select(m.Notice).where(m.Notice.id == notice_id)
        visible = self._visible()
        if visible is not None:
            stmt = stmt.where(visible)
        notice = self.session.scalar(stmt)
        if notice is None:
            raise NotFound(f"notice {notice_id} does not exist or is not for you")
        return notice

    def list(self, query):
        stmt = select(m.Notice).order_by(m.Notice.published_at.desc(), m.Notice.id.desc())
        visible = self._visible()
        if visible is not None:
            stmt = stmt.where(visible)
        if "kind" in query:
            stmt = stmt.where(m.Notice.kind == query["kind"])
        if "compound_id" in query:
            stmt = stmt.where(m.Notice.id.in_(select(m.NoticeAudience.notice_id).where(
                m.NoticeAudience.compound_id == query["compound_id"])))
        if not query.get("include_past"):
            stmt = stmt.where(m.Notice.withdrawn_at.is_(None),
                              or_(m.Notice.expires_at.is_(None), m.Notice.expires_at > self.now),
                              or_(m.Notice.ends_at.is_(None), m.Notice.ends_at > self.now))
        return page(self.session, stmt, query, self.view)

    def get(self, notice_id):
        return self.view(self._notice(notice_id))

    def view(self, notice):
        view = {c: getattr(notice, c) for c in (
            "id", "kind", "title", "body", "compound_ids", "buildings", "publisher_kind", "publisher_id",
            "published_at", "expires_at", "starts_at", "ends_at", "location", "signup", "capacity", "signups",
            "withdrawn_at")}
        if notice.signup and self.caller.account_id is not None:
            view["signed_up"] = self.session.get(m.Signup, (notice.id, self.caller.account_id)) is not None
        return view

    # ----- activity sign-ups -----
    def _for_me(self, notice):
        """Whether the notice is addressed to a home of the caller (sign-ups are for residents and their bodies)."""
        return any(compound_id in notice.compound_ids and (not notice.buildings or building is None or
                                                           building in notice.buildings)
                   for compound_id, building in self._homes())

    def sign_up(self, notice_id):
        notice = self._notice(notice_id)
        if not self._for_me(notice):
            raise Forbidden("sign-ups are for the residents the activity is for")
        if not notice.signup:
            raise Conflict("this notice takes no sign-ups")
        if notice.withdrawn_at is not None or (notice.starts_at and notice.starts_at <= self.now):
            raise Conflict("sign-up has closed", details={"starts_at": notice.starts_at})
        if self.session.get(m.Signup, (notice.id, self.caller.account_id)) is not None:
            raise Conflict("you have signed up already")
        notice = self._lock(notice)
        if notice.capacity is not None and notice.signups >= notice.capacity:
            raise Conflict("the activity is full", details={"capacity": notice.capacity})
        self.session.add(m.Signup(notice_id=notice.id, account_id=self.caller.account_id, signed_up_at=self.now))
        notice.signups += 1
        self.session.flush()
        return self.view(notice)

    def cancel_signup(self, notice_id):
        notice = self._notice(notice_id)
        signup = self.session.get(m.Signup, (notice.id, self.caller.account_id))
        if signup is None:
            raise NotFound("you have not signed up")
        notice = self._lock(notice)
        self.session.delete(signup)
        notice.signups -= 1
        self.session.flush()
        return self.view(notice)

    def _lock(self, notice):
        """The notice row, locked on PostgreSQL, so two last sign-ups cannot both take the last place."""
        if self.session.bind.dialect.name != "postgresql":
            return notice
        return self.session.scalar(select(m.Notice).where(m.Notice.id == notice.id).with_for_update()
                                   .execution_options(populate_existing=True))


def _check_times(data, now):
    if data["kind"] == "activity" and not data.get("starts_at"):
        raise ValidationFailed("an activity needs its start", details={"starts_at": ["required for an activity"]})
    if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
        raise ValidationFailed("an activity ends after it starts", details={"ends_at": ["must be after starts_at"]})
    if data.get("expires_at") and data["expires_at"] <= now:
        raise ValidationFailed("the notice would expire before it is read", details={"expires_at": ["in the past"]})
    if data.get("capacity") is not None and not data.get("signup"):
        raise ValidationFailed("a capacity limits sign-ups", details={"capacity": ["only with signup"]})


def _common_path(compounds):
    """The narrowest region path holding every compound."""
    paths = [c.region_path.strip("/").split("/") for c in compounds]
    common = []
    for parts in zip(*paths):
        if len(set(parts)) != 1:
            break
        common.append(parts[0])
    return "/" + "/".join(common) + "/"


def _common_path_ids(compounds):
    return [int(p) for p in _common_path(compounds).strip("/").split("/") if p]
