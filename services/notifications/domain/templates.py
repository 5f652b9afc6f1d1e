"""Chinese texts per event (English beside them), for the inbox, e-mail and SMS. Events carry ids and codes only;
the texts say what happened and where to look, never who reported it."""
import datetime as dt
import re
import string
from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Asia/Shanghai")  # the counties' clock: texts give times as people read them
_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")

TEMPLATES = {
    "ticket_submitted": ("新工单待领取 New ticket {code}", "工单 {code}（{category_code}）已派给贵单位，请在 {claim_deadline} 前领取。"
                         " Ticket {code} was routed to you; claim it by {claim_deadline}."),
    "ticket_claimed": ("您的报修已受理 Your report was claimed", "工单 {code} 已被领取，处理单位将在 {resolve_deadline} 前解决。"
                       " Ticket {code} was claimed; it is due by {resolve_deadline}."),
    "ticket_resolved": ("您的报修已办结，请评价 Please rate", "工单 {code} 已处理完毕，请评价：满意 / 基本满意 / 不满意。"
                        " Ticket {code} is resolved; please rate it."),
    "ticket_returned": ("工单退回待改派 Ticket returned", "工单 {code} 被处理单位退回，请重新派单。 Ticket {code} was returned; re-route it."),
    "ticket_reassigned": ("改派工单待领取 Ticket reassigned {code}", "工单 {code} 已改派给贵单位，请及时领取。 Ticket {code} was reassigned to you."),
    "ticket_reopen_requested": ("不满意，待裁定 Reopen requested", "居民对工单 {code} 不满意，请裁定是否重办。"
                                " The reporter of {code} is dissatisfied; decide whether to reopen."),
    "ticket_reopened": ("工单重办 Ticket reopened", "工单 {code} 已决定重办。 Ticket {code} was reopened."),
    "ticket_closed": ("工单已关闭 Ticket closed", "工单 {code} 已关闭。 Ticket {code} is closed."),
    "ticket_deadline_warning": ("工单即将超时 Deadline near", "工单 {code} 将于 {due_at} 到期，请抓紧处理。 Ticket {code} is due at {due_at}."),
    "ticket_overdue": ("工单已超时 Ticket overdue", "工单 {code} 已超过期限（{missed}），已按规定升级。"
                       " Ticket {code} missed its {missed} deadline and was escalated."),
    "ticket_escalated": ("超时工单升级 Escalated ticket {code}", "工单 {code} 因{reason}从{from_level}升级至贵单位，请在 {claim_deadline} 前领取。"
                         " Ticket {code} was escalated to you ({reason}); claim it by {claim_deadline}."),
    "ticket_urged": ("居民催办 Urged", "居民第 {urges} 次催办工单 {code}。 The reporter urged ticket {code} ({urges})."),
    "supervision_issued": ("督办通知 Supervision order", "工单 {code} 被{supervision_level}督办，请在 {supervision_deadline} 前回复。"
                           " Ticket {code} is under supervision; answer by {supervision_deadline}."),
    "supervision_overdue": ("督办逾期未回复 Supervision unanswered", "工单 {code} 的督办单已逾期未回复。"
                            " The supervision order on {code} is past its deadline."),
    "credit_record_added": ("信用记录 Credit record", "贵单位新增信用记录：{item_code}（{kind} {points} 分），{valid_until} 前有效；如有异议可在规定期限内提出。"
                            " A credit record {item_code} ({kind} {points}) was added; you may object."),
    "credit_record_decided": ("信用异议已裁定 Objection decided", "对信用记录 {item_code} 的异议裁定结果：{decision}。"
                              " Your objection to {item_code} was decided: {decision}."),
    "rectification_ordered": ("责令整改通知 Rectification order", "请于 {deadline} 前完成整改并回复。 Rectify and respond by {deadline}."),
    "rectification_reinspected": ("整改复查结果 Re-inspection", "整改复查{passed}，当前状态：{status}。 Re-inspection: {status}."),
    "elimination_recommended": ("末位淘汰建议 Replacement recommended", "物业服务企业多次整改不合格，建议业主组织依法启动选聘程序。"
                                " The company failed rectification repeatedly; the owners' organization is advised to replace it."),
    "star_rating_objection_decided": ("星级评定异议已裁定 Objection decided", "贵单位对 {year} 年度星级评定的异议裁定为：{decision}。"
                                      " Your objection to the {year} star rating was decided: {decision}."),
    "disclosure_due_soon": ("公示即将到期 Disclosure due soon", "小区公示事项「{item_name}」应于 {due_on} 前公示或更新，请及时办理。"
                            " The disclosure {item_name} is due by {due_on}."),
    "disclosure_overdue": ("公示已逾期 Disclosure overdue", "小区公示事项「{item_name}」已逾期（应于 {due_on} 前公示），"
                           "逾期未公示将按信用评价规定扣分。 The disclosure {item_name} was due on {due_on}; publish it."),
    "notice_published": ("{kind_label}：{title}", "{kind_label}「{title}」已发布，请在公告栏查看。{when}"
                         " A new {kind} was published: {title}."),
    "notice_withdrawn": ("活动取消 Cancelled: {title}", "您报名的「{title}」已取消。 The activity {title} you signed up for"
                         " was cancelled."),
}


class _Blank(dict):
    def __missing__(self, key):
        return ""


def local_time(value):
    """An event's time (UTC on the wire) as a county reads it: "2026-11-23 10:30"; other values as they are."""
    if value is None:
        return ""
    if isinstance(value, str) and _MOMENT.match(value):
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)
        return moment.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M")
    return value


KIND_LABELS = {"notice": "公告 Notice", "activity": "活动 Activity"}


def render(event_type, data):
    """(title, body) for an event; unknown fields render empty rather than failing a delivery."""
    title, body = TEMPLATES.get(event_type, (event_type, event_type))
    values = _Blank({k: local_time(v) for k, v in data.items()})
    if "kind" in data:
        values["kind_label"] = KIND_LABELS.get(data["kind"], data["kind"])
    if data.get("starts_at"):
        values["when"] = f"时间 When: {values['starts_at']}。"
    formatter = string.Formatter()
    return formatter.vformat(title, (), values), formatter.vformat(body, (), values)


def link(source, data):
    if data.get("ticket_id"):
        return f"/api/v1/tickets/{data['ticket_id']}"
    if data.get("rectification_id"):
        return f"/api/v1/rectifications/{data['rectification_id']}"
    if data.get("record_id"):
        return f"/api/v1/credit/records/{data['record_id']}"
    if data.get("notice_id"):
        return f"/api/v1/notices/{data['notice_id']}"
    if data.get("item_code") and data.get("compound_id"):
        return f"/api/v1/public/compounds/{data['compound_id']}/disclosures"
    return None
