"""Webhook signatures and retry timing.

Each request carries `X-Redprop-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the secret>`, so
a receiver checks who sent it and rejects replays older than it tolerates (Stripe's scheme, well understood)."""
import hashlib
import hmac

HEADER = "X-Redprop-Signature"


def sign(secret, timestamp, body):
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret, header, body, now, tolerance=300):
    """What a receiver does (the tests use it as one): True for a fresh, authentic body."""
    try:
        parts = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), f"t={timestamp},v1={parts.get('v1', '')}")


def retry_delay(attempt, base, ceiling):
    """Seconds before attempt `attempt + 1`: doubling from `base`, at most `ceiling`."""
    return min(base * 2 ** (attempt - 1), ceiling)
