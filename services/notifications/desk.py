"""The inbox, preferences and webhook subscriptions, for the people and systems that use them."""
import secrets

from sqlalchemy import func, or_, select, update

from kit import auth
from kit.db import page
from kit.errors import Forbidden, NotFound
from services.notifications import models as m

SUBSCRIBERS = (auth.ADMIN, auth.INTEGRATION)


class Desk:
    def __init__(self, session, caller, now):
        self.session = session
        self.caller = caller
        self.now = now

    def _me(self):
        if self.caller.account_id is None:
            raise Forbidden("the inbox belongs to a person's account")
        return self.caller.account_id

    # ----- inbox -----
    def message_view(self, message):
        return {c: getattr(message, c) for c in ("id", "event_type", "title", "body", "link", "created_at",
                                                 "read_at")}

    def inbox(self, query):
        stmt = select(m.Message).where(m.Message.account_id == self._me()).order_by(m.Message.id.desc())
        if query.get("unread"):
            stmt = stmt.where(m.Message.read_at.is_(None))
        result = page(self.session, stmt, query, self.message_view)
        result["unread"] = self.unread()["unread"]
        return result

    def unread(self):
        return {"unread": self.session.scalar(select(func.count()).select_from(m.Message).where(
            m.Message.account_id == self._me(), m.Message.read_at.is_(None)))}

    def mark_read(self, message_id):
        message = self.session.get(m.Message, message_id)
        if message is None or message.account_id != self._me():
            raise NotFound(f"message {message_id} does not exist")
        message.read_at = message.read_at or self.now
        return self.message_view(message)

    def mark_all_read(self):
        marked = self.session.execute(update(m.Message).where(m.Message.account_id == self._me(),
                                                              m.Message.read_at.is_(None)).values(read_at=self.now))
        return {"marked": marked.rowcount, **self.unread()}

    # ----- preferences -----
    def preferences(self):
        preference = self.session.get(m.Preference, self._me()) or m.Preference(
            account_id=self._me(), inbox=True, email=False, sms=False)
        return {"inbox": preference.inbox, "email": preference.email, "sms": preference.sms,
                "email_address": preference.email_address, "phone": preference.phone}  # the owner's own view

    def set_preferences(self, data):
        preference = self.session.get(m.Preference, self._me())
        if preference is None:
            preference = m.Preference(account_id=self._me(), inbox=True, email=False, sms=False)
            self.session.add(preference)
        for key, value in data.items():
            setattr(preference, key, value)
        self.session.flush()
        return self.preferences()

    # ----- webhook subscriptions -----
    def subscription_view(self, subscription, secret=None):
        view = {c: getattr(subscription, c) for c in ("id", "name", "url", "event_types", "active",
                                                      "consecutive_failures", "disabled_at", "created_at")}
        view["region_id"] = int(subscription.region_path.strip("/").split("/")[-1])
        if secret:
            view["secret"] = secret  # shown once, at creation
        return view

    def _region_path(self, region_id=None):
        self.caller.require(*SUBSCRIBERS)
        paths = self.caller.region_paths(*SUBSCRIBERS)
        if self.caller.is_system:
            paths = ["/"]
        if region_id is not None:
            region = self.session.get(m.RegionCopy, region_id)
            if region is None or not any(region.path.startswith(p) for p in paths):
                raise NotFound(f"region {region_id} does not exist or is outside your jurisdiction")
            return region.path
        if not paths:
            raise Forbidden("your account has no region to subscribe for")
        return min(paths, key=len)

    def _subscriptions(self):
        stmt = select(m.WebhookSubscription).order_by(m.WebhookSubscription.id)
        if not self.caller.is_system:
            self.caller.require(*SUBSCRIBERS)
            paths = self.caller.region_paths(*SUBSCRIBERS)
            stmt = stmt.where(or_(*[m.WebhookSubscription.region_path.startswith(p) for p in paths]))
        return stmt

    def subscribe(self, data):
        secret = secrets.token_urlsafe(32)
        subscription = m.WebhookSubscription(
            name=data["name"], url=data["url"], secret=secret, event_types=data["event_types"],
            region_path=self._region_path(data.get("region_id")), active=True, consecutive_failures=0,
            created_by=self.caller.account_id, created_at=self.now)
        self.session.add(subscription)
        self.session.flush()
        return self.subscription_view(subscription, secret)

    def _subscription(self, subscription_id):
        subscription = self.session.scalar(self._subscriptions().where(m.WebhookSubscription.id == subscription_id))
        if subscription is None:
            raise NotFound(f"webhook subscription {subscription_id} does not exist or is outside your reach")
        return subscription

    def subscriptions(self, query):
        return page(self.session, self._subscriptions(), query, self.subscription_view)

    def get_subscription(self, subscription_id):
        return self.subscription_view(self._subscription(subscription_id))

    def update_subscription(self, subscription_id, data):
        subscription = self._subscription(subscription_id)
        for key, value in data.items():
            setattr(subscription, key, value)
        if data.get("active"):  # re-enabled by its owner: start counting failures afresh
            subscription.consecutive_failures, subscription.disabled_at = 0, None
        return self.subscription_view(subscription)

    def delete_subscription(self, subscription_id):
        subscription = self._subscription(subscription_id)
        subscription.active, subscription.disabled_at = False, self.now
        self.session.execute(update(m.Delivery).where(m.Delivery.subscription_id == subscription.id,
                                                      m.Delivery.status == "pending").values(status="dropped"))
        return self.subscription_view(subscription)

    def deliveries(self, subscription_id, query):
        """The delivery log of a subscription, newest first."""
        subscription = self._subscription(subscription_id)
        stmt = select(m.Delivery).where(m.Delivery.subscription_id == subscription.id).order_by(m.Delivery.id.desc())
        if "status" in query:
            stmt = stmt.where(m.Delivery.status == query["status"])
        return page(self.session, stmt, query, delivery_view)


def delivery_view(delivery):
    return {c: getattr(delivery, c) for c in ("id", "event_id", "event_type", "channel", "status", "attempts",
                                              "next_attempt_at", "last_error", "last_status_code", "created_at",
                                              "sent_at")}

