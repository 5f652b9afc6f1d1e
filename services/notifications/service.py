"""Entry points of the notifications service: events in, inbox and deliveries out; the inbox and webhook API."""
import datetime as dt
import logging

from nameko.timer import timer

from kit.contracts import all_contracts
from kit.messaging import Outbox, event_handler, first_delivery
from kit.registry_copy import RegistryCopy, RegistryCopyEndpoints, parse_time
from kit.rpc import RpcClient, idempotent, rpc
from kit.schemas import dump, dump_page, load
from kit.service import PlatformService
from services.notifications import models, schemas as s
from services.notifications.desk import Desk
from services.notifications.dispatch import Dispatcher, apply_membership
from services.notifications.sender import Sender

log = logging.getLogger(__name__)


def _now():
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class NotificationsService(PlatformService, RegistryCopyEndpoints):
    name = "notifications"
    idempotency_model = models.IdempotencyRecord
    inbox_model = models.InboxEntry
    registry = RegistryCopy(models.REGISTRY)

    outbox = Outbox(models.OutboxEvent)
    rpc_client = RpcClient()

    def _desk(self, session):
        return Desk(session, self.caller(), _now())

    # ----- the inbox -----
    @rpc
    def list_inbox(self, query=None):
        with self.db.transaction() as session:
            return dump(s.InboxPageOut, self._desk(session).inbox(load(s.InboxQuery, query)))

    @rpc
    def unread_count(self):
        with self.db.transaction() as session:
            return dump(s.UnreadOut, self._desk(session).unread())

    @rpc
    def mark_read(self, message_id, data=None):
        with self.db.transaction() as session:
            return dump(s.MessageOut, self._desk(session).mark_read(message_id))

    @rpc
    def mark_all_read(self, data=None):
        with self.db.transaction() as session:
            return dump(s.UnreadOut, self._desk(session).mark_all_read())

    @rpc
    def get_preferences(self):
        with self.db.transaction() as session:
            return dump(s.PreferencesOut, self._desk(session).preferences())

    @rpc
    def set_preferences(self, data):
        with self.db.transaction() as session:
            return dump(s.PreferencesOut, self._desk(session).set_preferences(load(s.PreferencesIn, data)))

    # ----- webhook subscriptions -----
    @rpc
    @idempotent
    def create_subscription(self, data):
        with self.db.transaction() as session:
            return dump(s.SubscriptionOut, self._desk(session).subscribe(load(s.SubscriptionIn, data)))

    @rpc
    def list_subscriptions(self, query=None):
        with self.db.transaction() as session:
            return dump_page(s.SubscriptionOut, self._desk(session).subscriptions(load(s.SubscriptionQuery, query)))

    @rpc
    def get_subscription(self, subscription_id):
        with self.db.transaction() as session:
            return dump(s.SubscriptionOut, self._desk(session).get_subscription(subscription_id))

    @rpc
    def update_subscription(self, subscription_id, data):
        with self.db.transaction() as session:
            return dump(s.SubscriptionOut, self._desk(session).update_subscription(
                subscription_id, load(s.SubscriptionPatch, data)))

    @rpc
    def delete_subscription(self, subscription_id):
        with self.db.transaction() as session:
            return dump(s.SubscriptionOut, self._desk(session).delete_subscription(subscription_id))

    @rpc
    def list_deliveries(self, subscription_id, query=None):
        with self.db.transaction() as session:
            return dump_page(s.DeliveryOut, self._desk(session).deliveries(subscription_id,
                                                                          load(s.DeliveryQuery, query)))

    # ----- sending -----
    @timer(interval=1)
    def send_due(self):
        """Send what is due, each delivery in its own transaction: one slow or failing target holds up no other."""
        with self.db.transaction() as session:
            due = Sender(session, self.settings).due(self.settings["notifications"]["send_batch"])
        for delivery_id in due:
            with self.db.transaction() as session:
                attempt = Sender(session, self.settings).claim(delivery_id)
            if attempt is None:
                continue
            status_code, error = Sender(None, self.settings).attempt(attempt)
            with self.db.transaction() as session:
                Sender(session, self.settings).record(delivery_id, status_code, error)

    # ----- events in -----
    def _notify(self, event, handler):
        with self.db.transaction() as session:
            if not Dispatcher(session, _now()).concerns_anyone(event):
                return  # nothing to tell anyone: no write, so registry backlogs cost no locks
            if first_delivery(session, models.InboxEntry, event, handler):
                Dispatcher(session, _now()).notify(event)

    def _membership(self, event, handler, active):
        with self.db.transaction() as session:
            if first_delivery(session, models.InboxEntry, event, handler):
                apply_membership(session, event["data"], parse_time(event["occurred_at"]), active)

    @event_handler("organizations", "membership_granted")
    def on_membership_granted(self, event):
        self._membership(event, "on_membership_granted", True)

    @event_handler("organizations", "membership_revoked")
    def on_membership_revoked(self, event):
        self._membership(event, "on_membership_revoked", False)

    def after_registry_sync(self, session, snapshot):
        """The snapshot carries every membership too."""
        taken_at = parse_time(snapshot["taken_at"])
        for membership in snapshot.get("memberships", ()):
            apply_membership(session, membership, taken_at, True)


def _relay(source, event_type):
    handler = f"on_{source}_{event_type}"

    @event_handler(source, event_type)
    def relay(self, event):
        self._notify(event, handler)
    relay.__name__ = handler
    relay.__doc__ = f"Tell the people {source}.{event_type} concerns, and the subscribed systems."
    return relay


# One handler (and queue) per event type of every contract: people hear the routed ones (ROUTES), and other
# systems may subscribe to any. Generated from the contracts, so a new event type is relayed without code here.
for _contract in all_contracts():
    setattr(NotificationsService, f"on_{_contract.source}_{_contract.event_type}",
            _relay(_contract.source, _contract.event_type))
