"""Entry points of the tickets service: validate with a schema, call the desk, dump with a schema."""
import datetime as dt
import logging

from nameko.extensions import DependencyProvider
from nameko.timer import timer
from sqlalchemy import func, select

from kit import auth, media
from kit.config import settings_of
from kit.errors import Forbidden, ValidationFailed
from kit.messaging import Outbox
from kit.registry_copy import RegistryCopyEndpoints, parse_time
from kit.rpc import RpcClient, idempotent, rpc
from kit.schemas import dump, dump_page, load
from kit.service import PlatformService
from services.tickets import gauges, models, registry_copy, schemas as s
from services.tickets.demo import generate_year
from services.tickets.desk import Desk
from services.tickets.open311 import Open311Endpoints
from services.tickets.domain.calendar import WorkCalendar, load_default_calendar


log = logging.getLogger(__name__)


class CalendarProvider(DependencyProvider):
    """The working calendar: `calendar` in the settings when given, else config/calendar.yaml."""

    def setup(self):
        section = settings_of(self.container).get("calendar")
        self.calendar = WorkCalendar.from_settings(section) if section else load_default_calendar()

    def get_dependency(self, worker_ctx):
        return self.calendar


class TicketsService(PlatformService, Open311Endpoints, RegistryCopyEndpoints):
    name = "tickets"
    idempotency_model = models.IdempotencyRecord
    inbox_model = models.InboxEntry
    registry = registry_copy.COPY

    outbox = Outbox(models.OutboxEvent)
    calendar = CalendarProvider()
    rpc_client = RpcClient()

    def _desk(self, session, caller=None, now=None):
        return Desk(session, caller or self.caller(), self.outbox, self.calendar, self.settings, now=now,
                    upload_dir=media.upload_dir(self.settings, "tickets"))

    # ----- tickets -----
    @rpc
    @idempotent
    def submit_ticket(self, data, files=None):
        with self.db.transaction() as session:
            desk = self._desk(session)
            return dump(s.TicketOut, desk.view(desk.submit(load(s.TicketIn, data), files or ())))

    @rpc
    def list_tickets(self, query=None):
        with self.db.transaction() as session:
            return dump_page(s.TicketSummaryOut, self._desk(session).list(load(s.TicketQuery, query)))

    @rpc
    def get_ticket(self, ticket_id):
        with self.db.transaction() as session:
            return dump(s.TicketOut, self._desk(session).get(ticket_id))

    @rpc
    def act_on_ticket(self, ticket_id, action, data=None):
        with self.db.transaction() as session:
            return dump(s.TicketOut, self._desk(session).act(ticket_id, action.replace("-", "_"),
                                                              load(s.ActionIn, data)))

    @rpc
    def answer_supervision(self, ticket_id, supervision_id, data):
        answer = load(s.SupervisionAnswerIn, data)["answer"]
        with self.db.transaction() as session:
            return dump(s.TicketOut, self._desk(session).answer_supervision(ticket_id, supervision_id, answer))

    @rpc
    def add_attachment(self, ticket_id, filename, content_base64):
        with self.db.transaction() as session:
            return dump(s.TicketOut, self._desk(session).add_attachment(
                ticket_id, {"filename": filename, "content_base64": content_base64}))

    @rpc
    def get_attachment(self, ticket_id, name):
        with self.db.transaction() as session:
            return self._desk(session).attachment(ticket_id, name)

    @rpc
    def ticket_duplicates(self, ticket_id):
        with self.db.transaction() as session:
            items = self._desk(session).duplicates(ticket_id)
            return {"items": [dump(s.TicketSummaryOut, i) for i in items], "total": len(items)}

    # ----- categories and statistics -----
    @rpc
    def list_categories(self, query=None):
        with self.db.transaction() as session:
            return dump_page(s.CategoryOut, self._desk(session).list_categories(load(s.CategoryQuery, query)))

    @rpc
    def create_category(self, data):
        with self.db.transaction() as session:
            return dump(s.CategoryOut, self._desk(session).create_category(load(s.CategoryIn, data)))

    @rpc
    def update_category(self, category_id, data):
        with self.db.transaction() as session:
            return dump(s.CategoryOut, self._desk(session).update_category(category_id, load(s.CategoryPatch, data)))

    @rpc
    def ticket_statistics(self, query=None):
        with self.db.transaction() as session:
            return self._desk(session).statistics(load(s.StatsQuery, query))

    # ----- deadlines -----
    @rpc
    def sweep_deadlines(self, now=None):
        """Run the deadline sweep now, or as of `now` (ISO time, UTC): operators and tests drive the clock here."""
        caller = self.caller()
        if not caller.is_system:
            raise Forbidden("only the platform runs the deadline sweep")
        try:
            when = parse_time(now) if now else None
        except (TypeError, ValueError):
            raise ValidationFailed("now must be an ISO date-time", details={"now": [str(now)]}) from None
        with self.db.transaction() as session:
            return self._desk(session, now=when).sweep()

    @timer(interval=30)
    def sweep_on_timer(self):
        with self.db.transaction() as session:
            self._desk(session, caller=_SYSTEM).sweep()

    @timer(interval=30)
    def measure(self):
        """Tickets by status, overdue, escalations, on-time rate and satisfaction, for the governance dashboard."""
        with self.db.transaction() as session:
            gauges.measure(session, dt.datetime.now(dt.timezone.utc).replace(tzinfo=None))

    # ----- the registry copy (kit.registry_copy keeps it) -----
    def after_registry_sync(self, session, snapshot):
        """With a fresh demo county, a year of demo tickets so statistics have something to show."""
        count = self.settings["demo"].get("tickets_per_year") or 0
        if count <= 0 or self.settings.production or session.scalar(select(func.count(models.Ticket.id))):
            return
        last_year = dt.date.today() - dt.timedelta(days=366)
        generate_year(session, self.calendar, last_year, count)
        log.info("loaded a year of demo tickets", extra={"tickets": count})


_SYSTEM = auth.system_caller("tickets-timer")
