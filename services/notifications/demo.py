"""A lived-in disclosure board and notice board for the demo county, made through the same use cases a live county
uses: most compounds' items published within their periods, some stale, some never published, and a notice and an
activity for the first compound. Deterministic (seeded); runs once, when notifications first copies a freshly loaded
demo county (`demo.board_history`, which `redprop up` sets when it loads the demo county). The first board check
then reminds and reports the lapses, as it would in a county that has just started using the platform."""
import datetime as dt
import random

from sqlalchemy import select

from kit import auth
from kit.registry_copy import path_ids
from services.notifications import models as m
from services.notifications.board import Board
from services.notifications.domain import disclosure as rules
from services.notifications.notices import Notices

SYSTEM = auth.system_caller("notifications-demo")
CONTENT = {
    "fee_standards": "住宅物业服务费：多层 0.60 元/㎡·月，高层 1.20 元/㎡·月；车位管理费 60 元/月（物价部门备案）。",
    "service_standards": "二级服务标准：保洁每日两次，绿化每月修剪，秩序维护 24 小时值守，设施设备按月巡检。",
    "complaint_channels": "物业服务中心 0635-0000000（工作日 8:00-18:00）；社区居委会；红色物业平台报修投诉。",
    "public_income": "公共部位收益（电梯广告、场地租赁）收支明细，收益按约定归全体业主所有。",
    "service_contract": "前期物业服务合同全文及合同期限、服务内容、收费标准。",
    "fee_collection": "物业服务费收缴率及欠费户数（不含业主姓名）。",
    "owners_rules": "经业主大会表决通过的管理规约全文。",
    "owners_organization": "业主委员会委员名单及分工、联系方式（办公电话）。",
    "maintenance_fund": "维修资金使用项目、金额、表决情况及施工单位。",
}


def generate_board(session, outbox, settings, today, seed=20261122):
    """Returns what it made: {"disclosures", "notices"}."""
    rng = random.Random(seed)
    compounds = session.scalars(select(m.CompoundCopy).order_by(m.CompoundCopy.id)).all()
    if not compounds:
        return None
    board_now = dt.datetime.combine(today, dt.time(1, 0))
    periods = {}
    made = 0
    for compound in compounds:
        county = path_ids(compound.region_path)[0]
        if county not in periods:
            periods[county] = Board(session, SYSTEM, outbox, settings, board_now).periods(county)
        for item, _kind, _publisher_id in rules.publishers(compound.company_id, compound.owner_organization_id):
            freshness = periods[county][item.code]
            roll = rng.random()
            if roll < 0.15:
                continue  # never published: missing once the grace period is over
            age = rng.randint(freshness + 1, freshness + 120) if roll < 0.25 else rng.randint(0, freshness - 1)
            published = board_now - dt.timedelta(days=age, hours=rng.randint(0, 8))
            Board(session, SYSTEM, outbox, settings, published).publish({
                "compound_id": compound.id, "item_code": item.code, "title": f"{compound.name}{item.name.split()[0]}",
                "content": CONTENT[item.code], "period": f"{published.year}年"})
            made += 1
        # every item has been owed for a year, so never-published ones are due already
        Board(session, SYSTEM, outbox, settings, board_now).assessments([compound], owe=True)
        session.flush()
        for obligation in session.scalars(select(m.DisclosureObligation).where(
                m.DisclosureObligation.compound_id == compound.id)):
            obligation.since = today - dt.timedelta(days=365)
    notices = _notices(session, outbox, compounds[0], board_now)
    return {"disclosures": made, "notices": notices}


def _notices(session, outbox, compound, now):
    desk = Notices(session, SYSTEM, outbox, now)
    desk.publish({"kind": "notice", "title": "冬季供暖设施检修通知", "compound_ids": [compound.id],
                  "body": "12月1日起对小区供暖管网进行检修，期间如有暖气不热请通过平台报修。"})
    desk.publish({"kind": "activity", "title": "市民接待日：社区书记、物业经理与业主面对面", "compound_ids": [compound.id],
                  "body": "欢迎业主带着问题来，现场登记、一对一解决。", "location": "小区党群服务站",
                  "starts_at": now + dt.timedelta(days=10, hours=8), "ends_at": now + dt.timedelta(days=10, hours=11),
                  "signup": True, "capacity": 30})
    return 2
