"""Entry points of the ratings service: validate with a schema, call the use case, dump with a schema."""
import datetime as dt
import logging

from nameko.timer import timer
from sqlalchemy import select

from kit import auth
from kit.errors import Forbidden, ValidationFailed
from kit.messaging import Outbox, event_handler, first_delivery
from kit.registry_copy import RegistryCopy, RegistryCopyEndpoints, parse_time
from kit.rpc import RpcClient, idempotent, rpc
from kit.schemas import dump, dump_page, load
from kit.service import PlatformService
from services.ratings import gauges, models, schemas as s
from services.ratings.auto_items import AutoItems
from services.ratings.campaigns import Campaigns
from services.ratings.demo import generate_last_year
from services.ratings.ledger import Ledger
from services.ratings.rectifications import Rectifications
from services.ratings.star_ratings import StarRatings

log = logging.getLogger(__name__)
_SYSTEM = auth.system_caller("ratings-timer")


class RatingsService(PlatformService, RegistryCopyEndpoints):
    name = "ratings"
    idempotency_model = models.IdempotencyRecord
    inbox_model = models.InboxEntry
    registry = RegistryCopy(models.REGISTRY)

    outbox = Outbox(models.OutboxEvent)
    rpc_client = RpcClient()

    def after_registry_sync(self, session, snapshot):
        """With a freshly loaded demo county, last year's ratings so every screen has something to show."""
        if not self.settings["demo"].get("ratings_history") or self.settings.production or \
                session.scalar(select(models.Campaign.id).limit(1)):
            return
        made = generate_last_year(session, self.outbox, self.settings, dt.date.today())
        log.info("loaded last year's demo ratings", extra={"made": made})

    def _use(self, office_cls, session, caller=None, now=None):
        return office_cls(session, caller or self.caller(), self.outbox, self.settings, now=now)

    # ----- credit rule tables -----
    @rpc
    def list_rule_tables(self, query=None):
        with self.db.transaction() as session:
            return dump_page(s.RuleTableOut, self._use(Ledger, session).list_rule_tables(load(s.RuleTableQuery, query)))

    @rpc
    def get_rule_table(self, rule_table_id):
        with self.db.transaction() as session:
            return dump(s.RuleTableOut, self._use(Ledger, session).get_rule_table(rule_table_id))

    @rpc
    def rule_table_in_force(self, query=None):
        with self.db.transaction() as session:
            return dump(s.RuleTableOut, self._use(Ledger, session).rule_table_in_force(
                load(s.RuleTableInForceQuery, query)))

    @rpc
    @idempotent
    def publish_rule_table(self, data):
        with self.db.transaction() as session:
            return dump(s.RuleTableOut, self._use(Ledger, session).publish_rule_table(load(s.RuleTableIn, data)))

    # ----- credit records and scores -----
    @rpc
    @idempotent
    def record_credit(self, data):
        with self.db.transaction() as session:
            return dump(s.CreditRecordOut, self._use(Ledger, session).record(load(s.CreditRecordIn, data)))

    @rpc
    def list_credit_records(self, query=None):
        with self.db.transaction() as session:
            return dump_page(s.CreditRecordOut, self._use(Ledger, session).list_records(
                load(s.CreditRecordQuery, query)))

    @rpc
    def get_credit_record(self, record_id):
        with self.db.transaction() as session:
            return dump(s.CreditRecordOut, self._use(Ledger, session).get_record(record_id))

    @rpc
    def object_to_credit_record(self, record_id, data):
        reason = load(s.ObjectionIn, data)["reason"]
        with self.db.transaction() as session:
            return dump(s.CreditRecordOut, self._use(Ledger, session).object(record_id, reason))

    @rpc
    def decide_credit_objection(self, record_id, data):
        decision = load(s.RecordDecisionIn, data)
        with self.db.transaction() as session:
            return dump(s.CreditRecordOut, self._use(Ledger, session).decide(
                record_id, decision["decision"], decision["note"]))

    @rpc
    def credit_scores(self, query=None):
        with self.db.transaction() as session:
            return dump(s.ScorePageOut, self._use(Ledger, session).scores(load(s.ScoreQuery, query)))

    @rpc
    def company_credit_score(self, company_id, query=None):
        with self.db.transaction() as session:
            return dump(s.CompanyScoreOut, self._use(Ledger, session).company_score(
                company_id, load(s.CompanyScoreQuery, query)))

    @rpc
    def company_credit_history(self, company_id, query=None):
        with self.db.transaction() as session:
            return dump(s.HistoryOut, self._use(Ledger, session).history(company_id, load(s.HistoryQuery, query)))

    # ----- owner evaluations -----
    @rpc
    @idempotent
    def open_evaluation(self, data):
        with self.db.transaction() as session:
            return dump(s.CampaignOut, self._use(Campaigns, session).open(load(s.CampaignIn, data)))

    @rpc
    def list_evaluations(self, query=None):
        with self.db.transaction() as session:
            return dump_page(s.CampaignOut, self._use(Campaigns, session).list(load(s.CampaignQuery, query)))

    @rpc
    def get_evaluation(self, campaign_id):
        with self.db.transaction() as session:
            return dump(s.CampaignOut, self._use(Campaigns, session).get(campaign_id))

    @rpc
    def vote(self, campaign_id, data):
        with self.db.transaction() as session:
            return dump(s.VoteOut, self._use(Campaigns, session).vote(campaign_id, load(s.VoteIn, data)))

    @rpc
    def publish_evaluation(self, campaign_id, data=None):
        with self.db.transaction() as session:
            return dump(s.CampaignOut, self._use(Campaigns, session).publish(campaign_id))

    # ----- star ratings, rankings, demonstration projects -----
    @rpc
    @idempotent
    def draft_star_rating(self, data):
        with self.db.transaction() as session:
            return dump(s.StarRatingOut, self._use(StarRatings, session).draft(load(s.CountyYearIn, data)))

    @rpc
    def list_star_ratings(self, query=None):
        with self.db.transaction() as session:
            return dump_page(s.StarRatingOut, self._use(StarRatings, session).list(load(s.StarRatingQuery, query)))

    @rpc
    def get_star_rating(self, star_rating_id):
        with self.db.transaction() as session:
            return dump(s.StarRatingOut, self._use(StarRatings, session).get(star_rating_id))

    @rpc
    def verify_star_rating(self, star_rating_id):
        with self.db.transaction() as session:
            return dump(s.VerificationOut, self._use(StarRatings, session).verify(star_rating_id))

    @rpc
    def act_on_star_rating(self, star_rating_id, action, data=None):
        """recompute (draft), publish (draft → notice), finalize (notice → final)."""
        with self.db.transaction() as session:
            office = self._use(StarRatings, session)
            return dump(s.StarRatingOut, getattr(office, action)(star_rating_id))

    @rpc
    def adjust_star_entry(self, star_rating_id, company_id, data):
        change = load(s.StarAdjustIn, data)
        with self.db.transaction() as session:
            return dump(s.StarRatingOut, self._use(StarRatings, session).adjust(star_rating_id, company_id, change))

    @rpc
    def object_to_stars(self, star_rating_id, company_id, data):
        reason = load(s.ObjectionIn, data)["reason"]
        with self.db.transaction() as session:
            return dump(s.StarRatingOut, self._use(StarRatings, session).object(star_rating_id, company_id, reason))

    @rpc
    def decide_star_objection(self, star_rating_id, company_id, data):
        decision = load(s.StarDecisionIn, data)
        with self.db.transaction() as session:
            return dump(s.StarRatingOut, self._use(StarRatings, session).decide(star_rating_id, company_id,
                                                                                   decision))

    @rpc
    def rankings(self, query=None):
        with self.db.transaction() as session:
            return dump(s.RankingOut, self._use(StarRatings, session).rankings(load(s.RankingQuery, query)))

    @rpc
    @idempotent
    def select_demonstration_projects(self, data):
        with self.db.transaction() as session:
            return dump_page(s.DemonstrationOut, self._use(StarRatings, session).select_demonstration(
                load(s.CountyYearIn, data)))

    @rpc
    def list_demonstration_projects(self, query=None):
        with self.db.transaction() as session:
            return dump_page(s.DemonstrationOut, self._use(StarRatings, session).list_demonstration(
                load(s.DemonstrationQuery, query)))

    # ----- rectification -----
    @rpc
    @idempotent
    def order_rectification(self, data):
        with self.db.transaction() as session:
            return dump(s.RectificationOut, self._use(Rectifications, session).order(load(s.RectificationIn, data)))

    @rpc
    def list_rectifications(self, query=None):
        with self.db.transaction() as session:
            return dump_page(s.RectificationOut, self._use(Rectifications, session).list(
                load(s.RectificationQuery, query)))

    @rpc
    def get_rectification(self, rectification_id):
        with self.db.transaction() as session:
            return dump(s.RectificationOut, self._use(Rectifications, session).get(rectification_id))

    @rpc
    def respond_to_rectification(self, rectification_id, data):
        response = load(s.ResponseIn, data)["response"]
        with self.db.transaction() as session:
            return dump(s.RectificationOut, self._use(Rectifications, session).respond(rectification_id, response))

    @rpc
    def reinspect_rectification(self, rectification_id, data):
        result = load(s.ReinspectionIn, data)
        with self.db.transaction() as session:
            return dump(s.RectificationOut, self._use(Rectifications, session).reinspect(
                rectification_id, result["passed"], result["note"]))

    @rpc
    def list_elimination_recommendations(self, query=None):
        with self.db.transaction() as session:
            return dump_page(s.RecommendationOut, self._use(Rectifications, session).recommendations(
                load(s.RecommendationQuery, query)))

    # ----- the clock -----
    @rpc
    def sweep_ratings(self, now=None):
        """Publish campaigns past their close, finalize ratings whose notice ended without pending objections,
        count missed rectification deadlines; as of `now` (ISO time, UTC) when the platform drives the clock."""
        if not self.caller().is_system:
            raise Forbidden("only the platform runs the ratings sweep")
        try:
            when = parse_time(now) if now else None
        except (TypeError, ValueError, AttributeError):
            raise ValidationFailed("now must be an ISO date-time", details={"now": [str(now)]}) from None
        return self._sweep(self.caller(), when)

    @timer(interval=60)
    def sweep_on_timer(self):
        self._sweep(_SYSTEM, None)
        with self.db.transaction() as session:
            gauges.measure(session)  # the star distribution, for the governance dashboard

    def _sweep(self, caller, now):
        with self.db.transaction() as session:
            published = self._use(Campaigns, session, caller, now).publish_due()
            finalized = self._use(StarRatings, session, caller, now).finalize_due()
            missed = self._use(Rectifications, session, caller, now).miss_deadlines()
        return {"evaluations_published": published, "star_ratings_finalized": finalized,
                "rectification_deadlines_missed": missed}

    # ----- what other services' events produce -----
    def _auto(self, event, handler):
        with self.db.transaction() as session:
            if first_delivery(session, models.InboxEntry, event, handler):
                getattr(self._use(AutoItems, session, _SYSTEM), handler.removeprefix("on_"))(event)

    @event_handler("tickets", "ticket_submitted")
    def on_ticket_submitted(self, event):
        self._auto(event, "on_ticket_submitted")

    @event_handler("tickets", "ticket_resolved")
    def on_ticket_resolved(self, event):
        self._auto(event, "on_ticket_resolved")

    @event_handler("tickets", "ticket_rated")
    def on_ticket_rated(self, event):
        self._auto(event, "on_ticket_rated")

    @event_handler("tickets", "ticket_overdue")
    def on_ticket_overdue(self, event):
        self._auto(event, "on_ticket_overdue")

    @event_handler("tickets", "ticket_reopened")
    def on_ticket_reopened(self, event):
        self._auto(event, "on_ticket_reopened")

    @event_handler("tickets", "supervision_overdue")
    def on_supervision_overdue(self, event):
        self._auto(event, "on_supervision_overdue")

    @event_handler("notifications", "disclosure_overdue")
    def on_disclosure_overdue(self, event):
        self._auto(event, "on_disclosure_overdue")

    @event_handler("organizations", "company_updated")
    def on_company_updated(self, event):
        """Keep the copy, and credit a company that set up its party organization."""
        with self.db.transaction() as session:
            if first_delivery(session, models.InboxEntry, event, "on_company_updated"):
                self.registry.apply_company(session, event["data"], parse_time(event["occurred_at"]))
                self._use(AutoItems, session, _SYSTEM).company_updated(event)
