"""Events published by the tickets service. No reporter names, phone numbers or free text: ids, codes and states."""
from marshmallow import Schema, fields

from kit.contracts import event_contract

SOURCE = "tickets"


class TicketState(Schema):
    """Where a ticket stands after the change: enough to count, route notifications and score companies."""
    ticket_id = fields.Integer(required=True)
    code = fields.String(required=True)
    compound_id = fields.Integer(required=True)
    community_id = fields.Integer(required=True)
    region_path = fields.String(required=True)
    category_code = fields.String(required=True)
    channel = fields.String(required=True)
    status = fields.String(required=True)
    level = fields.String(required=True)
    handler_kind = fields.String(required=True)
    handler_id = fields.Integer(required=True)
    company_id = fields.Integer(allow_none=True)   # the company serving the compound when it was reported
    priority = fields.String(required=True)
    private = fields.Boolean(required=True)
    reporter_account_id = fields.Integer(allow_none=True)
    claim_deadline = fields.DateTime(allow_none=True)
    resolve_deadline = fields.DateTime(allow_none=True)
    escalations = fields.Integer(required=True)
    actor_account_id = fields.Integer(allow_none=True)


def _ticket_event(name, summary, **extra):
    schema = type(name, (TicketState,), dict(extra))
    return event_contract(SOURCE, name, 1, summary)(schema)


TicketSubmitted = _ticket_event("ticket_submitted", "A resident's report (报修投诉) was received and routed.")
TicketClaimed = _ticket_event("ticket_claimed", "The handling body claimed the ticket (领取).")
TicketStarted = _ticket_event("ticket_started", "Work on the ticket started.")
TicketPaused = _ticket_event("ticket_paused", "Work paused; the resolve clock stops.")
TicketResumed = _ticket_event("ticket_resumed", "Work resumed; the resolve clock runs again.")
TicketResolved = _ticket_event("ticket_resolved", "The handler reports the problem solved.",
                               solved_level=fields.String(required=True),
                               on_time=fields.Boolean(required=True))
TicketReturned = _ticket_event("ticket_returned", "The handler says the ticket is not theirs; the community re-routes.")
TicketReassigned = _ticket_event("ticket_reassigned", "The community or a supervisor routed the ticket to another body.")
TicketClosed = _ticket_event("ticket_closed", "The ticket is finished (rated, decided or closed automatically).",
                             satisfaction=fields.String(allow_none=True),
                             reason=fields.String(required=True))
TicketReopenRequested = _ticket_event("ticket_reopen_requested",
                                      "The reporter rated 不满意; the community decides whether to reopen.")
TicketReopened = _ticket_event("ticket_reopened", "The community reopened the ticket; the handler works on it again.")
TicketCancelled = _ticket_event("ticket_cancelled", "The reporter or the community withdrew the ticket.")
TicketMerged = _ticket_event("ticket_merged", "The ticket duplicates another and was merged into it.",
                             merged_into_id=fields.Integer(required=True))
TicketRated = _ticket_event("ticket_rated", "The reporter rated the handling (满意 / 基本满意 / 不满意).",
                            satisfaction=fields.String(required=True),
                            speed_score=fields.Integer(allow_none=True),
                            attitude_score=fields.Integer(allow_none=True))
TicketDeadlineWarning = _ticket_event("ticket_deadline_warning", "A ticket's deadline is near.",
                                      due_at=fields.DateTime(required=True))
TicketOverdue = _ticket_event("ticket_overdue", "A ticket passed its deadline at its current level.",
                              missed=fields.String(required=True),  # "claim" or "resolve"
                              overdue_handler_kind=fields.String(required=True),
                              overdue_handler_id=fields.Integer(required=True))
TicketEscalated = _ticket_event("ticket_escalated", "An overdue ticket moved one level up with a new deadline.",
                                from_level=fields.String(required=True),
                                reason=fields.String(required=True))  # "overdue" or "urged"
TicketUrged = _ticket_event("ticket_urged", "The reporter urged the handler (催单).",
                            urges=fields.Integer(required=True))
SupervisionIssued = _ticket_event("supervision_issued", "A community, street or bureau issued a supervision order (督办).",
                                  supervision_id=fields.Integer(required=True),
                                  supervision_level=fields.String(required=True),
                                  supervision_deadline=fields.DateTime(required=True))
SupervisionAnswered = _ticket_event("supervision_answered", "The handler answered a supervision order.",
                                    supervision_id=fields.Integer(required=True),
                                    on_time=fields.Boolean(required=True))
SupervisionOverdue = _ticket_event("supervision_overdue", "A supervision order passed its deadline unanswered.",
                                   supervision_id=fields.Integer(required=True))
ReturnVisitRecorded = _ticket_event("return_visit_recorded", "Community staff visited the reporter after resolution (回访).",
                                    satisfaction=fields.String(allow_none=True))
