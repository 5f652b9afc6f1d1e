"""Entry points of the notifications service: events in, inbox and deliveries out; the inbox and webhook API."""
import datetime as dt
import functools
import logging

import requests

from nameko.timer import timer
from sqlalchemy import select

from kit import auth, media
from kit.contracts import all_contracts
from kit.messaging import Outbox, event_handler, first_delivery
from kit.registry_copy import RegistryCopy, RegistryCopyEndpoints, parse_time
from kit.rpc import RpcClient, idempotent, rpc
from kit.schemas import dump, dump_page, load
from kit.service import PlatformService
from services.notifications import models, schemas as s
from services.notifications.board import Board
from services.notifications.demo import generate_board
from services.notifications.desk import Desk
from services.notifications.lanes import SendingLanes
from services.notifications.dispatch import Dispatcher, apply_membership
from services.notifications.notices import Notices
from services.notifications.sender import Sender

log = logging.getLogger(__name__)


_last_board_check = []  # per process: the timer fires every minute, the check runs every `check_interval`


def _now():
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class NotificationsService(PlatformService, RegistryCopyEndpoints):
    name = "notifications"
    idempotency_model = models.IdempotencyRecord
    inbox_model = models.InboxEntry
    registry = RegistryCopy(models.REGISTRY)

    outbox = Outbox(models.OutboxEvent)
    rpc_client = RpcClient()
    lanes = SendingLanes()

    def _desk(self, session):
        return Desk(session, self.caller(), _now())

    def _board(self, session, caller=None, now=None):
        return Board(session, caller or self.caller(), self.outbox, self.settings, now or _now(),
                     upload_dir=media.upload_dir(self.settings, "notifications"))

    def _notices(self, session):
        return Notices(session, self.caller(), self.outbox, _now())

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

    # ----- the disclosure board -----
    @rpc
    def public_board(self, compound_id):
        """No token: the board is public (公示)."""
        with self.db.transaction() as session:
            return dump(s.BoardOut, self._board(session, caller=auth.ANONYMOUS).public_board(compound_id))

    @rpc
    def public_attachment(self, disclosure_id, name):
        with self.db.transaction() as session:
            return self._board(session, caller=auth.ANONYMOUS).attachment(disclosure_id, name)

    @rpc
    @idempotent
    def publish_disclosure(self, data, files=None):
        with self.db.transaction() as session:
            return dump(s.DisclosureOut, self._board(session).publish(load(s.DisclosureIn, data), files or ()))

    @rpc
    def add_disclosure_attachment(self, disclosure_id, filename, content_base64):
        with self.db.transaction() as session:
            return dump(s.DisclosureOut, self._board(session).add_attachment(
                disclosure_id, {"filename": filename, "content_base64": content_base64}))

    @rpc
    def list_disclosures(self, query=None):
        with self.db.transaction() as session:
            return dump_page(s.DisclosureOut, self._board(session).history(load(s.DisclosureQuery, query)))

    @rpc
    def disclosure_policy(self, query=None):
        with self.db.transaction() as session:
            return dump(s.PolicyOut, self._board(session).policy(load(s.RegionQuery, query)))

    @rpc
    def set_disclosure_policy(self, data):
        with self.db.transaction() as session:
            return dump(s.PolicyOut, self._board(session).set_policy(load(s.PolicyIn, data)))

    @rpc
    def disclosure_rate(self, query=None):
        with self.db.transaction() as session:
            return dump(s.RateOut, self._board(session).rate(load(s.RegionQuery, query)))

    @rpc
    def check_disclosures(self, now=None):
        """Run the board check now, or as of `now` (ISO time, UTC): operators and tests drive the clock here."""
        caller = self.caller()
        with self.db.transaction() as session:
            return dump(s.CheckOut, self._board(session, caller, parse_time(now) if now else None).check())

    @timer(interval=60)
    def board_check(self):
        """The daily check, run every `check_interval` seconds: alerts are unique per due date, so repeating it
        the same day raises nothing twice."""
        interval = self.settings["notifications"]["disclosure"]["check_interval"]
        if _last_board_check and (_now() - _last_board_check[-1]).total_seconds() < interval:
            return
        _last_board_check[:] = [_now()]
        with self.db.transaction() as session:
            counts = self._board(session, auth.system_caller("notifications-timer")).check()
        log.info("disclosure board checked", extra=counts)

    # ----- notices and activities -----
    @rpc
    @idempotent
    def publish_notice(self, data):
        with self.db.transaction() as session:
            return dump(s.NoticeOut, self._notices(session).publish(load(s.NoticeIn, data)))

    @rpc
    def list_notices(self, query=None):
        with self.db.transaction() as session:
            return dump_page(s.NoticeOut, self._notices(session).list(load(s.NoticeQuery, query)))

    @rpc
    def get_notice(self, notice_id):
        with self.db.transaction() as session:
            return dump(s.NoticeOut, self._notices(session).get(notice_id))

    @rpc
    def withdraw_notice(self, notice_id, data=None):
        with self.db.transaction() as session:
            return dump(s.NoticeOut, self._notices(session).withdraw(notice_id))

    @rpc
    def sign_up(self, notice_id, data=None):
        with self.db.transaction() as session:
            return dump(s.NoticeOut, self._notices(session).sign_up(notice_id))

    @rpc
    def cancel_signup(self, notice_id):
        with self.db.transaction() as session:
            return dump(s.NoticeOut, self._notices(session).cancel_signup(notice_id))

    # ----- sending -----
    @timer(interval=1)
    def send_due(self):
        """Open a lane for each target with deliveries due (see `lanes`)."""
        with self.db.transaction() as session:
            targets = Sender(session, self.settings).due_targets(self.settings["notifications"]["send_batch"])
        for target in targets:
            self.lanes.open(target, functools.partial(_drain, self.db.fresh(), self.settings))

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
        """The snapshot carries every membership too; a freshly loaded demo county gets a lived-in board."""
        taken_at = parse_time(snapshot["taken_at"])
        for membership in snapshot.get("memberships", ()):
            apply_membership(session, membership, taken_at, True)
        if self.settings["demo"].get("board_history") and not self.settings.production and \
                session.scalar(select(models.Disclosure.id).limit(1)) is None:
            made = generate_board(session, self.outbox, self.settings, _now().date())
            log.info("loaded the demo disclosure board", extra={"made": made})


def _drain(database, settings, target, lanes):
    """A lane's work: the target's due deliveries, a batch at a time: claimed in one transaction, sent one after
    another outside any transaction over one HTTP session (keep-alive to the same subscriber), recorded in one
    transaction. The first failure ends the lane; the untried rest wait behind the failed one's retry."""
    batch = settings["notifications"]["lane_batch"]
    with requests.Session() as http:
        while not lanes.stopping:
            with database.transaction() as session:
                attempts = Sender(session, settings).claim(target, batch)
            if not attempts:
                return
            results, untried = [], []
            for attempt in attempts:
                if untried or lanes.stopping or (results and results[-1][2] is not None):
                    untried.append(attempt.delivery_id)
                    continue
                results.append((attempt.delivery_id, *Sender(None, settings, http=http).attempt(attempt)))
            with database.transaction() as session:
                sender = Sender(session, settings)
                for delivery_id, status_code, error in results:
                    sender.record(delivery_id, status_code, error)
                failed = bool(results) and results[-1][2] is not None
                if untried:
                    sender.release(untried, sender.retry_at(results[-1][0]) if failed else sender.now)
            if untried or failed:
                return


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
