"""Credit items and ticket outcomes that other services' events produce, without anyone typing them in.

Each handler runs inside the inbox transaction of its event, and each record remembers the event it came from
(a unique key), so a repeated delivery adds nothing.
"""
import logging

from sqlalchemy import select

from kit.registry_copy import parse_time
from services.ratings import models as m
from services.ratings.ledger import Ledger

log = logging.getLogger(__name__)

COMPANY = "company"


class AutoItems(Ledger):
    def _trigger(self, event, trigger, company_id, compound_id, evidence_kind, evidence_ref):
        """Record every item of the county's table that `trigger` names against the company."""
        compound = self.session.get(m.CompoundCopy, compound_id) if compound_id else None
        county_id = self.county_of(compound.region_path) if compound else self._county_served(company_id)
        if county_id is None:
            log.warning("no county for an automatic credit item", extra={"trigger": trigger, "company": company_id})
            return []
        occurred_on = parse_time(event["occurred_at"]).date()
        table_row, table = self.rule_table(county_id, occurred_on)
        records = []
        for item in table.items_for_trigger(trigger):
            key = f"{event['event_id']}:{item.code}"
            if self.session.scalar(select(m.CreditRecord.id).where(m.CreditRecord.source_event_id == key)):
                continue
            records.append(self.add_record(
                company_id=company_id, compound=compound, item=item, table_row=table_row, occurred_on=occurred_on,
                authority="system", source="automatic", evidence_kind=evidence_kind, evidence_ref=evidence_ref,
                source_event_id=key, county_id=county_id))
        return records

    def _county_served(self, company_id):
        path = self.session.scalar(select(m.CompoundCopy.region_path).where(m.CompoundCopy.company_id == company_id)
                                   .order_by(m.CompoundCopy.id).limit(1))
        return self.county_of(path) if path else None

    # ----- from tickets -----
    def ticket_overdue(self, event):
        """A company let a ticket pass its deadline, so it escalated (超时升级)."""
        data = event["data"]
        if data["overdue_handler_kind"] == COMPANY:
            self._trigger(event, "ticket_overdue", data["overdue_handler_id"], data["compound_id"], "ticket",
                          f"{data['code']} ({data['missed']})")

    def ticket_reopened(self, event):
        """The community upheld the resident's 不满意 and reopened the ticket: the complaint was substantiated."""
        data = event["data"]
        if data["handler_kind"] == COMPANY:
            self._trigger(event, "complaint_substantiated", data["handler_id"], data["compound_id"], "ticket",
                          data["code"])

    def supervision_overdue(self, event):
        data = event["data"]
        if data["handler_kind"] == COMPANY:
            self._trigger(event, "supervision_overdue", data["handler_id"], data["compound_id"], "supervision",
                          f"{data['code']}#{data['supervision_id']}")

    def ticket_submitted(self, event):
        data = event["data"]
        if data["handler_kind"] != COMPANY or self.session.get(m.TicketOutcome, data["ticket_id"]):
            return
        at = parse_time(event["occurred_at"])
        self.session.add(m.TicketOutcome(ticket_id=data["ticket_id"], company_id=data["handler_id"],
                                         compound_id=data["compound_id"], year=at.year, submitted_at=at))

    def ticket_resolved(self, event):
        """The latest resolution counts; on time only when the company itself resolved before its deadline."""
        data = event["data"]
        outcome = self.session.get(m.TicketOutcome, data["ticket_id"])
        if outcome is not None:
            outcome.resolved_at = parse_time(event["occurred_at"])
            outcome.resolved_on_time = data["on_time"] and data["handler_kind"] == COMPANY

    def ticket_rated(self, event):
        data = event["data"]
        outcome = self.session.get(m.TicketOutcome, data["ticket_id"])
        if outcome is not None:
            outcome.rated_at = parse_time(event["occurred_at"])
            outcome.satisfaction = data["satisfaction"]

    # ----- from notifications and organizations -----
    def disclosure_overdue(self, event):
        data = event["data"]
        if data.get("company_id"):
            self._trigger(event, "disclosure_overdue", data["company_id"], data["compound_id"], "disclosure",
                          f"{data['item_code']} ({data['state']})")

    def company_updated(self, event):
        data = event["data"]
        if data.get("party_organization_set_up"):
            self._trigger(event, "party_organization_set_up", data["company_id"], None, "party_organization",
                          str(data.get("party_organization_id")))
