"""From an event to what must be sent: inbox messages now, e-mail, SMS and webhook deliveries queued for the sender.

Runs in the transaction that records the event in the inbox table, so an event handled twice creates nothing twice
(and the unique keys on messages and deliveries hold even if it did)."""
from sqlalchemy import and_, or_, select

from services.notifications import models as m
from services.notifications.domain import routing, templates


NEIGHBOUR_ROLES = ("resident", "owners_org", "party_branch")


class Dispatcher:
    def __init__(self, session, now):
        self.session = session
        self.now = now

    def accounts(self, audience):
        """Account ids of the audience: named accounts, and the staff or members of the bodies named."""
        found = set(audience.accounts)
        clauses = [and_(m.MembershipCopy.role == role, getattr(m.MembershipCopy, attribute) == target)
                   for role, attribute, target in audience.bodies]
        whole = sorted({compound_id for compound_id, building in audience.homes if building is None})
        if whole:  # every resident, owners' organization and party branch member of the compounds
            clauses.append(and_(m.MembershipCopy.role.in_(NEIGHBOUR_ROLES), m.MembershipCopy.compound_id.in_(whole)))
        clauses += [and_(m.MembershipCopy.role == "resident", m.MembershipCopy.compound_id == compound_id,
                         m.MembershipCopy.building == building)
                    for compound_id, building in audience.homes if building is not None]
        if clauses:
            found |= set(self.session.scalars(select(m.MembershipCopy.account_id).where(
                m.MembershipCopy.active.is_(True), or_(*clauses))))
        if audience.signups_of is not None:
            found |= set(self.session.scalars(select(m.Signup.account_id).where(
                m.Signup.notice_id == audience.signups_of)))
        return sorted(found)

    def concerns_anyone(self, envelope):
        """Whether the event is routed to people or matched by an active subscription (a read-only check)."""
        if (envelope["source"], envelope["event_type"]) in routing.ROUTES:
            return True
        return any(routing.subscription_matches(s.event_types, s.region_path, envelope["source"],
                                                envelope["event_type"], envelope["data"])
                   for s in self._subscriptions())

    def _subscriptions(self):
        return self.session.scalars(select(m.WebhookSubscription).where(m.WebhookSubscription.active.is_(True)))

    def notify(self, envelope):
        source, event_type, data = envelope["source"], envelope["event_type"], envelope["data"]
        counts = {"messages": 0, "deliveries": 0}
        accounts = self.accounts(routing.audience(source, event_type, data))
        if accounts:
            title, body = templates.render(event_type, data)
            link = templates.link(source, data)
            preferences = {p.account_id: p for p in self.session.scalars(
                select(m.Preference).where(m.Preference.account_id.in_(accounts)))}
            for account_id in accounts:
                preference = preferences.get(account_id)
                if preference is None or preference.inbox:
                    self.session.add(m.Message(account_id=account_id, event_id=envelope["event_id"],
                                               event_type=event_type, title=title, body=body, link=link,
                                               created_at=self.now))
                    counts["messages"] += 1
                for channel, wanted in (("email", preference and preference.email and preference.email_address),
                                        ("sms", preference and preference.sms and preference.phone)):
                    if wanted:
                        self._queue(envelope, channel, f"account:{account_id}", None,
                                    {"account_id": account_id, "title": title, "body": body})
                        counts["deliveries"] += 1
        for subscription in self._subscriptions():
            if routing.subscription_matches(subscription.event_types, subscription.region_path, source, event_type,
                                            data):
                self._queue(envelope, "webhook", f"webhook:{subscription.id}", subscription.id, envelope)
                counts["deliveries"] += 1
        return counts

    def _queue(self, envelope, channel, target, subscription_id, payload):
        self.session.add(m.Delivery(event_id=envelope["event_id"], event_type=envelope["event_type"],
                                    channel=channel, target=target, subscription_id=subscription_id,
                                    payload=payload, status="pending", attempts=0, next_attempt_at=self.now,
                                    created_at=self.now))


def apply_membership(session, data, source_time, active):
    """Keep the copy of who holds which role: granted and revoked memberships, older news never winning."""
    row = session.get(m.MembershipCopy, data["membership_id"])
    if row is not None and row.source_time > source_time:
        return False
    values = {k: data.get(k) for k in ("account_id", "role", "region_id", "company_id", "compound_id",
                                       "organization_id", "department_id")}
    values["building"] = data.get("building")
    if row is None:
        session.add(m.MembershipCopy(id=data["membership_id"], active=active, source_time=source_time, **values))
    else:
        for key, value in values.items():
            setattr(row, key, value)
        row.active, row.source_time = active, source_time
    return True
