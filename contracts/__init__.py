"""Event contracts of every service, in one place: importing this package registers them all."""
from contracts import notifications, organizations, ratings, tickets  # noqa: F401
