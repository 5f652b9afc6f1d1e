"""The disclosure board's rules (公示栏 / 阳光物业 / 三公开): which items a compound must show, who publishes each,
and whether an item is current, due soon, stale or missing on a given day.

Pure: the board, the daily check and the disclosure rate all ask `assess`, so they cannot disagree.
"""
import datetime as dt
from dataclasses import dataclass

COMPANY, OWNERS_ORG = "company", "owners_org"


@dataclass(frozen=True)
class Item:
    code: str
    name: str            # Chinese, English beside it
    publisher: str       # who must publish it: the serving company, or the owners' organization
    freshness_days: int  # platform default; a county sets its own


# The seeds' lists: 高唐 (fees, service standards and content, complaint channels, public-area income), 株洲 (the
# service contract, standards and public income; owners' rules, organization, fee collection and fund use in
# batches), 楚雄 (100% disclosure, penalties for companies that don't).
ITEMS = (
    Item("fee_standards", "收费标准 Fee standards", COMPANY, 365),
    Item("service_standards", "服务标准和内容 Service standards and content", COMPANY, 365),
    Item("complaint_channels", "投诉方式和渠道 Complaint channels", COMPANY, 180),
    Item("public_income", "公共部位收益及支出 Public-area income and spending", COMPANY, 90),
    Item("service_contract", "物业服务合同 Service contract", COMPANY, 365),
    Item("fee_collection", "物业费缴纳情况 Fee collection", COMPANY, 180),
    Item("owners_rules", "管理规约 Owners' rules", OWNERS_ORG, 730),
    Item("owners_organization", "业主组织架构和信息 Owners' organization", OWNERS_ORG, 365),
    Item("maintenance_fund", "维修资金使用情况 Maintenance-fund use", OWNERS_ORG, 180),
)
BY_CODE = {item.code: item for item in ITEMS}

# The states of an item on a board, with the label residents see.
CURRENT, DUE_SOON, STALE, PENDING, MISSING = "current", "due_soon", "stale", "pending", "missing"
STATE_LABELS = {CURRENT: "已公示 Current", DUE_SOON: "即将到期 Due soon", STALE: "已过期 Stale",
                PENDING: "待公示 Awaiting first publication", MISSING: "未公示 Missing"}
LAPSED = (STALE, MISSING)


@dataclass(frozen=True)
class Assessment:
    state: str
    due_on: dt.date  # the day the item is (or was) due: published day + freshness, or obligation + grace


def publishers(company_id, owner_organization_id):
    """Who owes a compound which items: (item, publisher kind, publisher id) for the bodies the compound has.
    A compound without a company (self-managed, 三无) owes no company items; without owners' organization, no
    owners' items."""
    ids = {COMPANY: company_id, OWNERS_ORG: owner_organization_id}
    return [(item, item.publisher, ids[item.publisher]) for item in ITEMS if ids[item.publisher]]


def assess(last_published_on, owed_since, today, freshness_days, grace_days, warn_days):
    """An item's state on `today`. Never published: pending until `grace_days` after the obligation began, then
    missing. Published: current until `warn_days` before `freshness_days` have passed, then due soon, then stale."""
    if last_published_on is None:
        due_on = owed_since + dt.timedelta(days=grace_days)
        return Assessment(MISSING if today >= due_on else PENDING, due_on)
    due_on = last_published_on + dt.timedelta(days=freshness_days)
    if today >= due_on:
        return Assessment(STALE, due_on)
    if today >= due_on - dt.timedelta(days=warn_days):
        return Assessment(DUE_SOON, due_on)
    return Assessment(CURRENT, due_on)


# The alerts the daily check raises, each at most once per due date: a reminder, then the lapse.
REMINDER, OVERDUE = "due_soon", "overdue"


def alert_kind(assessment, today, warn_days):
    """A lapse for a stale or missing item; a reminder for one falling due within `warn_days` (a first publication
    included); otherwise nothing."""
    if assessment.state in LAPSED:
        return OVERDUE
    if assessment.state == DUE_SOON or (assessment.state == PENDING and
                                        today >= assessment.due_on - dt.timedelta(days=warn_days)):
        return REMINDER
    return None


def rate(states):
    """Share of owed items that are disclosed and in date (current or due soon); None when nothing is owed."""
    states = list(states)
    if not states:
        return None
    return round(sum(1 for s in states if s in (CURRENT, DUE_SOON)) / len(states), 4)
