"""A consumer of organizations' events used by the fault tests: it records each company it hears of.

PROBE_PAUSE=before_commit|after_commit makes the handler stop for a while at that point (and touch
PROBE_MARKER), so a test can kill the process exactly there. Companies named with "POISON" always fail.
"""
import os
import time
from pathlib import Path

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from kit.db import Database, InboxMixin, declarative_base
from kit.messaging import event_handler, first_delivery

Base = declarative_base()


class InboxEntry(InboxMixin, Base):
    pass


class Effect(Base):
    __tablename__ = "effects"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36))
    company_id: Mapped[int] = mapped_column(Integer)


class ProbeDatabase(Database):
    def setup(self):
        super().setup()
        Base.metadata.create_all(self.engine)


def _pause(point):
    if os.environ.get("PROBE_PAUSE") == point:
        Path(os.environ["PROBE_MARKER"]).write_text(point)
        time.sleep(60)


class ProbeService:
    name = "probe"
    db = ProbeDatabase()

    @event_handler("organizations", "company_registered")
    def on_company_registered(self, event):
        if "POISON" in event["data"]["name"]:
            raise RuntimeError("this company name always fails")
        with self.db.transaction() as session:
            if not first_delivery(session, InboxEntry, event, "on_company_registered"):
                return
            session.add(Effect(event_id=event["event_id"], company_id=event["data"]["company_id"]))
            session.flush()
            _pause("before_commit")
        _pause("after_commit")
