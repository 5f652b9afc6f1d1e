"""Who is calling: JWTs issued by the gateway, verified again by every service.

The gateway authenticates and signs a token whose claims carry the caller's memberships (role plus the node of
the jurisdiction tree, company or organization it holds them in). The token travels in the RPC context and each
service verifies it itself, so a forged context header without the signing key gets nowhere.
"""
import datetime as dt
import uuid
from dataclasses import dataclass, field

import jwt
from nameko.extensions import DependencyProvider

from kit.config import settings_of
from kit.errors import Forbidden, Unauthenticated

ALGORITHM = "HS256"
TOKEN_CONTEXT_KEY = "auth_token"

# Roles, with the scope each one is held in.
ADMIN = "admin"                  # county IT: everything in the county
BUREAU = "bureau"                # county housing bureau (住建局) staff: region
DEPARTMENT = "department"        # other county departments (城管, 消防 ...): region + department
STREET = "street"                # street/town (街道/乡镇) staff: region
COMMUNITY = "community"          # community (社区) staff: region
COMPANY = "company"              # property company staff: company
OWNERS_ORG = "owners_org"        # member of an owners' organization: compound + organization
PARTY_BRANCH = "party_branch"    # member of a compound's party branch: compound
RESIDENT = "resident"            # resident/owner of a room: compound
INTEGRATION = "integration"      # an API client of another system: region
SYSTEM = "system"                # the platform's own tools (CLI, demo loader)

GOVERNMENT_ROLES = (ADMIN, BUREAU, DEPARTMENT, STREET, COMMUNITY)
ROLE_LABELS = {
    ADMIN: "系统管理员 county IT", BUREAU: "住建局 housing bureau", DEPARTMENT: "职能部门 department",
    STREET: "街道 street", COMMUNITY: "社区 community", COMPANY: "物业企业 property company",
    OWNERS_ORG: "业主组织 owners' organization", PARTY_BRANCH: "小区党支部 party branch",
    RESIDENT: "居民 resident", INTEGRATION: "接口客户端 API client", SYSTEM: "系统 system",
}


@dataclass(frozen=True)
class Membership:
    role: str
    region_id: int | None = None
    region_path: str | None = None     # "/1/4/17/": every ancestor's id, so scope checks are prefix tests
    company_id: int | None = None
    compound_id: int | None = None
    organization_id: int | None = None
    department_id: int | None = None
    room: str | None = None            # a resident's household (楼-单元-室): one vote per household in evaluations

    def to_claim(self):
        return {k: v for k, v in self.__dict__.items() if v is not None}


def building_of(room):
    """The building (楼) of a room written 楼-单元-室, such as "3-2-301" → "3"; notices may target buildings."""
    if not room:
        return None
    return room.split("-", 1)[0].strip() or None


@dataclass(frozen=True)
class Caller:
    subject: str
    username: str
    memberships: tuple = field(default_factory=tuple)

    @property
    def roles(self):
        return {m.role for m in self.memberships}

    def has_role(self, *roles):
        return bool(self.roles & set(roles))

    @property
    def is_system(self):
        return SYSTEM in self.roles

    @property
    def account_id(self):
        return int(self.subject) if self.subject.isdigit() else None

    def region_paths(self, *roles):
        """Region paths the caller holds one of `roles` in (any role if none named)."""
        return [m.region_path for m in self.memberships
                if m.region_path and (not roles or m.role in roles)]

    def reaches_path(self, path, roles=GOVERNMENT_ROLES + (INTEGRATION,)):
        """True if `path` lies inside a region where the caller holds a government role (or is the system)."""
        if self.is_system:
            return True
        return bool(path) and any(path.startswith(p) for p in self.region_paths(*roles))

    def ids(self, attribute, *roles):
        return {getattr(m, attribute) for m in self.memberships
                if getattr(m, attribute) is not None and (not roles or m.role in roles)}

    def require(self, *roles):
        if not (self.is_system or self.has_role(*roles)):
            raise Forbidden("your role may not do this", details={"allowed_roles": list(roles)})


def system_caller(username="system"):
    """The platform acting for itself (timers, demo loaders), named for the logs."""
    return Caller(subject="system", username=username, memberships=(Membership(role=SYSTEM),))


ANONYMOUS = Caller(subject="anonymous", username="anonymous", memberships=())  # public pages: no role at all


def issue_token(settings, subject, username, memberships, ttl=None):
    now = dt.datetime.now(dt.timezone.utc)
    ttl = ttl or settings["jwt"]["ttl_seconds"]
    claims = {
        "sub": str(subject), "name": username, "iss": settings["jwt"]["issuer"], "aud": settings["jwt"]["audience"],
        "iat": now, "exp": now + dt.timedelta(seconds=ttl), "jti": uuid.uuid4().hex,
        "memberships": [m.to_claim() if isinstance(m, Membership) else m for m in memberships],
    }
    return jwt.encode(claims, settings.jwt_secret(), algorithm=ALGORITHM), ttl


def system_token(settings):
    return issue_token(settings, "system", "system", [Membership(role=SYSTEM)], ttl=300)[0]


def verify_token(settings, token):
    """The caller a token names. Tokens signed with the current secret pass, and during a key rotation those signed
    with a secret in `jwt.previous_secrets` too (until they expire)."""
    secrets_in_force = [settings.jwt_secret(), *(settings["jwt"].get("previous_secrets") or ())]
    for number, secret in enumerate(secrets_in_force, start=1):
        try:
            claims = jwt.decode(token, secret, algorithms=[ALGORITHM],
                                audience=settings["jwt"]["audience"], issuer=settings["jwt"]["issuer"],
                                options={"require": ["exp", "iat", "sub", "aud", "iss"]})
            break
        except jwt.InvalidSignatureError:
            if number == len(secrets_in_force):
                raise Unauthenticated("the token is not valid") from None
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the token has expired") from None
        except jwt.PyJWTError:
            raise Unauthenticated("the token is not valid") from None
    memberships = tuple(Membership(**m) for m in claims.get("memberships", []))
    return Caller(subject=claims["sub"], username=claims.get("name", ""), memberships=memberships)


class CurrentCaller(DependencyProvider):
    """`self.caller()` verifies the token in the worker's context and returns the Caller (401 if absent)."""

    def setup(self):
        self.settings = settings_of(self.container)

    def get_dependency(self, worker_ctx):
        cache = {}

        def caller():
            if "caller" not in cache:
                token = worker_ctx.data.get(TOKEN_CONTEXT_KEY)
                if not token:
                    raise Unauthenticated("authentication required")
                cache["caller"] = verify_token(self.settings, token)
            return cache["caller"]
        return caller
