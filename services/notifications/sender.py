"""Sends queued deliveries: webhooks over HTTP (signed), e-mail over SMTP, SMS through a provider's HTTP API.

Each delivery is sent on its own: a failing channel or subscriber never holds up the others. A failure is retried
with a doubling delay up to `max_attempts`; a webhook subscription that keeps failing is disabled."""
import datetime as dt
import json
import logging
import smtplib
import time
from dataclasses import dataclass
from email.message import EmailMessage

import requests
from sqlalchemy import func, select

from services.notifications import models as m
from services.notifications.domain import webhooks

log = logging.getLogger(__name__)


SMS_HOLD = dt.timedelta(minutes=10)  # how long an SMS over its number's hourly limit waits before it is looked at again


class DeliveryFailed(Exception):
    def __init__(self, message, status_code=None):
        super().__init__(message)
        self.status_code = status_code


class Sender:
    """One sender's view of the deliveries. Per target, deliveries go one at a time and in order (the service runs a
    lane per target); targets go side by side."""

    def __init__(self, session, settings, now=None, http=None):
        self.session = session
        self.config = settings["notifications"]
        self.now = now or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        self.http = http or requests

    def due_targets(self, limit):
        """Targets (a subscription, a person's e-mail or phone) with deliveries due, longest waiting first."""
        stmt = (select(m.Delivery.target).where(m.Delivery.status == "pending", m.Delivery.next_attempt_at <= self.now)
                .group_by(m.Delivery.target).order_by(func.min(m.Delivery.next_attempt_at)).limit(limit))
        return list(self.session.scalars(stmt))

    def claim(self, target, limit):
        """Take the next due deliveries to `target` (up to `limit` for a webhook, one for a person's e-mail or SMS,
        whose hourly limit is checked per message) for one attempt each. A lease (their next attempt moved past the
        batch's time limit) keeps other senders off them. Returns what the attempts need, oldest first. The network
        is used outside any transaction: a database lock is never held while a remote server answers."""
        limit = limit if target.startswith("webhook:") else 1
        stmt = (select(m.Delivery).where(m.Delivery.target == target, m.Delivery.status == "pending",
                                         m.Delivery.next_attempt_at <= self.now)
                .order_by(m.Delivery.next_attempt_at, m.Delivery.id).limit(limit))
        if self.session.bind.dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        deliveries = list(self.session.scalars(stmt))
        lease = self.now + dt.timedelta(seconds=len(deliveries) * self.config["webhook_timeout"] * 2 + 5)
        attempts = []
        for delivery in deliveries:
            target = self._target(delivery)
            if target.pop("refusal", None):  # the number had its SMS for the hour: wait, spending no attempt
                delivery.next_attempt_at = self.now + SMS_HOLD
                delivery.last_error = "rate limit for this number"
                log.info("sms held back: rate limit for this number", extra={"delivery": delivery.id})
                continue
            delivery.attempts += 1
            delivery.next_attempt_at = lease
            attempts.append(Attempt(delivery.id, delivery.channel, delivery.event_type, delivery.payload, **target))
        return attempts

    def release(self, delivery_ids, at):
        """Hand back claimed deliveries that were not tried (their target just failed): due again at `at`."""
        for delivery_id in delivery_ids:
            delivery = self.session.get(m.Delivery, delivery_id)
            if delivery is not None and delivery.status == "pending":
                delivery.attempts -= 1
                delivery.next_attempt_at = at

    def retry_at(self, delivery_id):
        return self.session.get(m.Delivery, delivery_id).next_attempt_at

    def _target(self, delivery):
        if delivery.channel == "webhook":
            subscription = self.session.get(m.WebhookSubscription, delivery.subscription_id)
            return {"url": subscription.url if subscription.active else None, "secret": subscription.secret}
        preference = self.session.get(m.Preference, delivery.payload["account_id"])
        field = "email_address" if delivery.channel == "email" else "phone"
        if delivery.channel == "sms" and preference is not None and preference.phone \
                and self._sms_quota_used(preference.phone):
            return {"address": None, "refusal": "rate limit for this number"}
        return {"address": getattr(preference, field) if preference else None}

    def _sms_quota_used(self, phone):
        """Whether this number has had its SMS for the hour. The limit is per number, and several accounts may share
        one (a family, a duty phone). Deliveries keep no number (it is personal data, kept in preferences only), so
        the SMS sent in the last hour to every account that has this number now are counted."""
        sharing = [f"account:{a}" for a in self.session.scalars(
            select(m.Preference.account_id).where(m.Preference.phone == phone))]
        sent = self.session.scalar(select(func.count()).select_from(m.Delivery).where(
            m.Delivery.channel == "sms", m.Delivery.status == "sent",
            m.Delivery.sent_at >= self.now - dt.timedelta(hours=1), m.Delivery.target.in_(sharing)))
        return sent >= self.config["sms"]["per_number_per_hour"]

    def attempt(self, attempt):
        """Send (no database here); returns (status code, error or None)."""
        try:
            return getattr(self, f"_{attempt.channel}")(attempt), None
        except DeliveryFailed as exc:
            return exc.status_code, str(exc)[:300]

    def record(self, delivery_id, status_code, error):
        delivery = self.session.get(m.Delivery, delivery_id)
        if delivery is None or delivery.status != "pending":
            return None
        delivery.last_status_code = status_code
        if error is not None:
            self._failed(delivery, error, status_code)
        else:
            delivery.status, delivery.sent_at, delivery.last_error = "sent", self.now, None
            if delivery.subscription_id:
                self.session.get(m.WebhookSubscription, delivery.subscription_id).consecutive_failures = 0
        return delivery.status

    def _failed(self, delivery, error, status_code):
        delivery.last_error, delivery.last_status_code = error, status_code
        if delivery.attempts >= self.config["max_attempts"]:
            delivery.status = "failed"
        else:
            delay = webhooks.retry_delay(delivery.attempts, self.config["retry_base_delay"],
                                         self.config["retry_max_delay"])
            delivery.next_attempt_at = self.now + dt.timedelta(seconds=delay)
        if delivery.subscription_id:
            subscription = self.session.get(m.WebhookSubscription, delivery.subscription_id)
            subscription.consecutive_failures += 1
            if subscription.active and subscription.consecutive_failures >= self.config["disable_after"]:
                subscription.active, subscription.disabled_at = False, self.now
                log.warning("webhook subscription disabled after repeated failures",
                            extra={"subscription": subscription.id})
        log.info("delivery failed", extra={"delivery": delivery.id, "channel": delivery.channel,
                                           "attempt": delivery.attempts, "error": error})

    # ----- channels: network only -----
    def _webhook(self, attempt):
        if not attempt.url:
            raise DeliveryFailed("the subscription is disabled")
        body = json.dumps(attempt.payload, ensure_ascii=False, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json",
                   webhooks.HEADER: webhooks.sign(attempt.secret, int(time.time()), body),
                   "X-Redprop-Event": f"{attempt.payload['source']}.{attempt.event_type}",
                   "X-Redprop-Delivery": str(attempt.delivery_id)}
        return self._post(attempt.url, data=body, headers=headers)

    def _post(self, url, **kwargs):
        try:
            response = self.http.post(url, timeout=self.config["webhook_timeout"], **kwargs)
        except requests.RequestException as exc:
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from None
        if not 200 <= response.status_code < 300:
            raise DeliveryFailed(f"HTTP {response.status_code}", response.status_code)
        return response.status_code

    def _email(self, attempt):
        smtp = self.config["smtp"]
        if not smtp.get("host"):
            raise DeliveryFailed("no SMTP server configured")
        if not attempt.address:
            raise DeliveryFailed("no e-mail address on file")
        message = EmailMessage()
        message["From"], message["To"] = smtp["sender"], attempt.address
        message["Subject"] = attempt.payload["title"]
        message.set_content(attempt.payload["body"])
        try:
            with smtplib.SMTP(smtp["host"], smtp["port"], timeout=self.config["webhook_timeout"]) as client:
                if smtp.get("starttls"):
                    client.starttls()
                if smtp.get("username"):
                    client.login(smtp["username"], smtp["password"])
                client.send_message(message)
        except smtplib.SMTPRecipientsRefused:  # its text is the refused addresses: personal data, kept out
            raise DeliveryFailed("SMTPRecipientsRefused: the server refused the recipient") from None
        except smtplib.SMTPResponseException as exc:  # servers echo the address in their replies: keep the code
            raise DeliveryFailed(f"{type(exc).__name__}: SMTP {exc.smtp_code}", exc.smtp_code) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from None
        return 250

    def _sms(self, attempt):
        sms = self.config["sms"]
        if not sms.get("url"):
            raise DeliveryFailed("no SMS provider configured")
        if not attempt.address:
            raise DeliveryFailed("no phone number on file")
        return self._post(sms["url"], json={"to": attempt.address, "text": attempt.payload["body"][:300]},
                          headers={"Authorization": f"Bearer {sms.get('token') or ''}"})


@dataclass(frozen=True)
class Attempt:
    delivery_id: int
    channel: str
    event_type: str
    payload: dict
    url: str | None = None
    secret: str | None = None
    address: str | None = None
