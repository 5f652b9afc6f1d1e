"""The HTTP API as a table: each route names the owning service, the RPC method and the schemas it speaks.

The gateway dispatches by this table and generates the OpenAPI document from it, so the two cannot drift.
Path parameters become keyword arguments, the query string becomes `query=`, a JSON body becomes `data=`.
"""
from dataclasses import dataclass

from services.notifications import schemas as nt
from services.organizations import schemas as org
from services.ratings import schemas as rt
from services.tickets import schemas as tk

# Path prefixes owned by each optional service: when it is not deployed they answer 503.
SERVICE_PREFIXES = {
    "tickets": ("/api/v1/tickets", "/api/v1/ticket-categories", "/api/v1/stats/tickets", "/open311/"),
    "ratings": ("/api/v1/evaluations", "/api/v1/credit", "/api/v1/star-ratings", "/api/v1/rectifications",
                "/api/v1/rankings", "/api/v1/demonstration-projects"),
    "notifications": ("/api/v1/inbox", "/api/v1/webhooks", "/api/v1/notices", "/api/v1/disclosures",
                      "/api/v1/public/"),
}


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    service: str
    rpc: str
    summary: str
    tag: str
    body: type | None = None
    query: type | None = None
    response: type | None = None
    many: bool = False
    status: int = 200
    public: bool = False
    upload: bool = False         # multipart with one file in the field `file` (imports, attachments)
    form: tuple | None = None    # JSON, or multipart: (field holding the JSON, field holding the files)
    optional_body: bool = False  # an empty body means {}
    raw: bool = False            # the service answers {content_type, body | body_base64[, filename]}


TICKET_ACTIONS = ("claim", "start", "pause", "resume", "resolve", "return", "reassign", "accept", "reject",
                  "approve-reopen", "deny-reopen", "cancel", "merge", "comment", "supervise", "urge", "return-visit")

TICKET_ROUTES = [
    Route("GET", "/api/v1/tickets", "tickets", "list_tickets", "List tickets you may see", "tickets",
          query=tk.TicketQuery, response=tk.TicketSummaryOut, many=True),
    Route("POST", "/api/v1/tickets", "tickets", "submit_ticket",
          "Report a problem (报修投诉): JSON, or multipart with the JSON in `ticket` and photos in `photos`",
          "tickets", body=tk.TicketIn, response=tk.TicketOut, status=201, form=("ticket", "photos")),
    Route("GET", "/api/v1/tickets/<int:ticket_id>", "tickets", "get_ticket",
          "A ticket with its timeline, supervision orders and attachments", "tickets", response=tk.TicketOut),
    Route("GET", "/api/v1/tickets/<int:ticket_id>/duplicates", "tickets", "ticket_duplicates",
          "Open tickets of the same compound and category (merge candidates)", "tickets",
          response=tk.TicketSummaryOut, many=True),
    Route("POST", "/api/v1/tickets/<int:ticket_id>/attachments", "tickets", "add_attachment",
          "Add a photo or short video (multipart field `file`; type checked by content, EXIF removed)", "tickets",
          upload=True, response=tk.TicketOut, status=201),
    Route("GET", "/api/v1/tickets/<int:ticket_id>/attachments/<name>", "tickets", "get_attachment",
          "Download an attachment", "tickets", raw=True),
    Route("POST", "/api/v1/tickets/<int:ticket_id>/supervisions/<int:supervision_id>/answer", "tickets",
          "answer_supervision", "The handler answers a supervision order (督办回复)", "tickets",
          body=tk.SupervisionAnswerIn, response=tk.TicketOut),
    Route("POST", f"/api/v1/tickets/<int:ticket_id>/<any({', '.join(map(repr, TICKET_ACTIONS))}):action>", "tickets",
          "act_on_ticket", "Move a ticket on: " + ", ".join(TICKET_ACTIONS) + " (409 when the state does not "
          "allow it, 403 when your role may not)", "tickets", body=tk.ActionIn, response=tk.TicketOut,
          optional_body=True),
    Route("GET", "/api/v1/ticket-categories", "tickets", "list_categories", "The category tree with its rules",
          "tickets", query=tk.CategoryQuery, response=tk.CategoryOut, many=True),
    Route("POST", "/api/v1/ticket-categories", "tickets", "create_category", "Add a category (housing bureau)",
          "tickets", body=tk.CategoryIn, response=tk.CategoryOut, status=201),
    Route("PATCH", "/api/v1/ticket-categories/<int:category_id>", "tickets", "update_category",
          "Change a category's rules (housing bureau)", "tickets", body=tk.CategoryPatch, response=tk.CategoryOut),
    Route("GET", "/api/v1/stats/tickets", "tickets", "ticket_statistics",
          "Ticket statistics by company, compound, community, street or county (format=csv for a spreadsheet)",
          "statistics", query=tk.StatsQuery, raw=True),
]

STAR_ACTIONS = ("recompute", "publish", "finalize")

RATING_ROUTES = [
    # credit rule tables and records
    Route("GET", "/api/v1/credit/rule-tables", "ratings", "list_rule_tables", "Published credit rule table versions",
          "credit", query=rt.RuleTableQuery, response=rt.RuleTableOut, many=True),
    Route("POST", "/api/v1/credit/rule-tables", "ratings", "publish_rule_table",
          "Publish a new version of a county's credit rule table (加分减分表; housing bureau)", "credit",
          body=rt.RuleTableIn, response=rt.RuleTableOut, status=201),
    Route("GET", "/api/v1/credit/rule-tables/in-force", "ratings", "rule_table_in_force",
          "The rule table in force in a county on a date", "credit", query=rt.RuleTableInForceQuery,
          response=rt.RuleTableOut),
    Route("GET", "/api/v1/credit/rule-tables/<int:rule_table_id>", "ratings", "get_rule_table",
          "One rule table version", "credit", response=rt.RuleTableOut),
    Route("GET", "/api/v1/credit/records", "ratings", "list_credit_records", "Credit records you may see", "credit",
          query=rt.CreditRecordQuery, response=rt.CreditRecordOut, many=True),
    Route("POST", "/api/v1/credit/records", "ratings", "record_credit",
          "Record a bonus or deduction item (only the authority the item names; evidence when the item asks)",
          "credit", body=rt.CreditRecordIn, response=rt.CreditRecordOut, status=201),
    Route("GET", "/api/v1/credit/records/<int:record_id>", "ratings", "get_credit_record", "One credit record",
          "credit", response=rt.CreditRecordOut),
    Route("POST", "/api/v1/credit/records/<int:record_id>/objection", "ratings", "object_to_credit_record",
          "The company objects to a record (异议) within the objection period", "credit", body=rt.ObjectionIn,
          response=rt.CreditRecordOut),
    Route("POST", "/api/v1/credit/records/<int:record_id>/decision", "ratings", "decide_credit_objection",
          "The authority decides an objection: upheld (the record stands) or revoked", "credit",
          body=rt.RecordDecisionIn, response=rt.CreditRecordOut),
    Route("GET", "/api/v1/credit/scores", "ratings", "credit_scores",
          "Credit scores and grades of a region's companies on a date, best first; standing=red|black for the "
          "red and black lists", "credit", query=rt.ScoreQuery, response=rt.ScorePageOut),
    Route("GET", "/api/v1/credit/scores/<int:company_id>", "ratings", "company_credit_score",
          "A company's (or, with compound_id, a project's) score with the items in force", "credit",
          query=rt.CompanyScoreQuery, response=rt.CompanyScoreOut),
    Route("GET", "/api/v1/credit/scores/<int:company_id>/history", "ratings", "company_credit_history",
          "Month-end scores over a year", "credit", query=rt.HistoryQuery, response=rt.HistoryOut),
    # owner evaluations
    Route("GET", "/api/v1/evaluations", "ratings", "list_evaluations", "Owner evaluation campaigns (业主评议)",
          "evaluations", query=rt.CampaignQuery, response=rt.CampaignOut, many=True),
    Route("POST", "/api/v1/evaluations", "ratings", "open_evaluation",
          "Open a campaign over a region's compounds (street or housing bureau)", "evaluations",
          body=rt.CampaignIn, response=rt.CampaignOut, status=201),
    Route("GET", "/api/v1/evaluations/<int:campaign_id>", "ratings", "get_evaluation",
          "A campaign with its results once published (valid or not, per compound and company)", "evaluations",
          response=rt.CampaignOut),
    Route("POST", "/api/v1/evaluations/<int:campaign_id>/votes", "ratings", "vote",
          "Vote for your household (one vote per household; 409 when it has voted)", "evaluations",
          body=rt.VoteIn, response=rt.VoteOut, status=201),
    Route("POST", "/api/v1/evaluations/<int:campaign_id>/publish", "ratings", "publish_evaluation",
          "Close voting and publish the results now", "evaluations", response=rt.CampaignOut, optional_body=True),
    # star ratings, rankings, demonstration projects
    Route("GET", "/api/v1/star-ratings", "ratings", "list_star_ratings", "Yearly star ratings (星级评定)",
          "star ratings", query=rt.StarRatingQuery, response=rt.StarRatingOut, many=True),
    Route("POST", "/api/v1/star-ratings", "ratings", "draft_star_rating",
          "Draft a county's star rating for a year from evaluations, credit and tickets (housing bureau)",
          "star ratings", body=rt.CountyYearIn, response=rt.StarRatingOut, status=201),
    Route("GET", "/api/v1/star-ratings/<int:star_rating_id>", "ratings", "get_star_rating",
          "A star rating with its ranked entries", "star ratings", response=rt.StarRatingOut),
    Route("GET", "/api/v1/star-ratings/<int:star_rating_id>/verification", "ratings", "verify_star_rating",
          "Recompute from the stored records as of the draft's time and compare", "star ratings",
          response=rt.VerificationOut),
    Route("POST", f"/api/v1/star-ratings/<int:star_rating_id>/<any({', '.join(map(repr, STAR_ACTIONS))}):action>",
          "ratings", "act_on_star_rating", "recompute a draft; publish it for public notice (公示); finalize after "
          "the notice when no objection is pending", "star ratings", response=rt.StarRatingOut, optional_body=True),
    Route("PATCH", "/api/v1/star-ratings/<int:star_rating_id>/entries/<int:company_id>", "ratings",
          "adjust_star_entry", "Adjust a draft entry with a reason (409 on notice or final)", "star ratings",
          body=rt.StarAdjustIn, response=rt.StarRatingOut),
    Route("POST", "/api/v1/star-ratings/<int:star_rating_id>/entries/<int:company_id>/objection", "ratings",
          "object_to_stars", "The company objects during the public notice", "star ratings",
          body=rt.ObjectionIn, response=rt.StarRatingOut),
    Route("POST", "/api/v1/star-ratings/<int:star_rating_id>/entries/<int:company_id>/decision", "ratings",
          "decide_star_objection", "The bureau decides an objection (upheld with stars, or rejected)",
          "star ratings", body=rt.StarDecisionIn, response=rt.StarRatingOut),
    Route("GET", "/api/v1/rankings", "ratings", "rankings", "Companies of the county or a street ranked by a measure",
          "star ratings", query=rt.RankingQuery, response=rt.RankingOut),
    Route("GET", "/api/v1/demonstration-projects", "ratings", "list_demonstration_projects",
          "Red-property demonstration projects (红色物业示范项目)", "star ratings", query=rt.DemonstrationQuery,
          response=rt.DemonstrationOut, many=True),
    Route("POST", "/api/v1/demonstration-projects", "ratings", "select_demonstration_projects",
          "Select the year's demonstration projects: the top N that meet the thresholds (housing bureau)",
          "star ratings", body=rt.CountyYearIn, response=rt.DemonstrationOut, many=True, status=201),
    # rectification
    Route("GET", "/api/v1/rectifications", "ratings", "list_rectifications", "Rectification orders (责令整改)",
          "rectification", query=rt.RectificationQuery, response=rt.RectificationOut, many=True),
    Route("POST", "/api/v1/rectifications", "ratings", "order_rectification",
          "Order a company to rectify (street or housing bureau)", "rectification", body=rt.RectificationIn,
          response=rt.RectificationOut, status=201),
    Route("GET", "/api/v1/rectifications/eliminations", "ratings", "list_elimination_recommendations",
          "Elimination recommendations (末位淘汰) to owners' organizations", "rectification",
          query=rt.RecommendationQuery, response=rt.RecommendationOut, many=True),
    Route("GET", "/api/v1/rectifications/<int:rectification_id>", "ratings", "get_rectification",
          "A rectification order with its steps", "rectification", response=rt.RectificationOut),
    Route("POST", "/api/v1/rectifications/<int:rectification_id>/response", "ratings", "respond_to_rectification",
          "The company reports what it rectified", "rectification", body=rt.ResponseIn,
          response=rt.RectificationOut),
    Route("POST", "/api/v1/rectifications/<int:rectification_id>/reinspection", "ratings",
          "reinspect_rectification", "The authority re-inspects: passed closes, failed sets a new deadline one "
          "level up or escalates", "rectification", body=rt.ReinspectionIn, response=rt.RectificationOut),
]

NOTIFICATION_ROUTES = [
    Route("GET", "/api/v1/inbox", "notifications", "list_inbox", "Your messages, newest first (unread=true)",
          "inbox", query=nt.InboxQuery, response=nt.InboxPageOut),
    Route("GET", "/api/v1/inbox/unread-count", "notifications", "unread_count", "How many messages are unread",
          "inbox", response=nt.UnreadOut),
    Route("POST", "/api/v1/inbox/read", "notifications", "mark_all_read", "Mark every message read", "inbox",
          response=nt.UnreadOut, optional_body=True),
    Route("POST", "/api/v1/inbox/<int:message_id>/read", "notifications", "mark_read", "Mark a message read",
          "inbox", response=nt.MessageOut, optional_body=True),
    Route("GET", "/api/v1/inbox/preferences", "notifications", "get_preferences",
          "Your channels (inbox, e-mail, SMS) and addresses", "inbox", response=nt.PreferencesOut),
    Route("PUT", "/api/v1/inbox/preferences", "notifications", "set_preferences",
          "Choose your channels and give the addresses to use", "inbox", body=nt.PreferencesIn,
          response=nt.PreferencesOut),
    Route("GET", "/api/v1/webhooks", "notifications", "list_subscriptions",
          "Webhook subscriptions of other systems (county IT and API clients)", "webhooks",
          query=nt.SubscriptionQuery, response=nt.SubscriptionOut, many=True),
    Route("POST", "/api/v1/webhooks", "notifications", "create_subscription",
          "Subscribe a URL to event types in a region; the answer carries the signing secret once", "webhooks",
          body=nt.SubscriptionIn, response=nt.SubscriptionOut, status=201),
    Route("GET", "/api/v1/webhooks/<int:subscription_id>", "notifications", "get_subscription",
          "One subscription", "webhooks", response=nt.SubscriptionOut),
    Route("PATCH", "/api/v1/webhooks/<int:subscription_id>", "notifications", "update_subscription",
          "Change a subscription, or re-enable one disabled after repeated failures", "webhooks",
          body=nt.SubscriptionPatch, response=nt.SubscriptionOut),
    Route("DELETE", "/api/v1/webhooks/<int:subscription_id>", "notifications", "delete_subscription",
          "End a subscription (pending deliveries are dropped)", "webhooks", response=nt.SubscriptionOut),
    Route("GET", "/api/v1/webhooks/<int:subscription_id>/deliveries", "notifications", "list_deliveries",
          "The delivery log: attempts, status codes, errors", "webhooks", query=nt.DeliveryQuery,
          response=nt.DeliveryOut, many=True),
    Route("GET", "/api/v1/public/compounds/<int:compound_id>/disclosures", "notifications", "public_board",
          "A compound's disclosure board (公示栏), without login: each required item, its state and what is in force",
          "disclosures", response=nt.BoardOut, public=True),
    Route("GET", "/api/v1/public/disclosures/<int:disclosure_id>/attachments/<name>", "notifications",
          "public_attachment", "A file of a disclosure, without login", "disclosures", public=True, raw=True),
    Route("GET", "/api/v1/disclosures", "notifications", "list_disclosures",
          "Every publication on a compound's board, newest first", "disclosures", query=nt.DisclosureQuery,
          response=nt.DisclosureOut, many=True),
    Route("POST", "/api/v1/disclosures", "notifications", "publish_disclosure",
          "Publish an item (the company's or the owners' organization's): JSON, or multipart with the JSON in "
          "`disclosure` and PDFs or photos in `files`", "disclosures", body=nt.DisclosureIn,
          response=nt.DisclosureOut, status=201, form=("disclosure", "files")),
    Route("POST", "/api/v1/disclosures/<int:disclosure_id>/attachments", "notifications",
          "add_disclosure_attachment", "Add a PDF or photo to the publication in force (its publisher)",
          "disclosures", upload=True, response=nt.DisclosureOut, status=201),
    Route("GET", "/api/v1/disclosures/policy", "notifications", "disclosure_policy",
          "The county's required items and freshness periods", "disclosures", query=nt.RegionQuery,
          response=nt.PolicyOut),
    Route("PUT", "/api/v1/disclosures/policy", "notifications", "set_disclosure_policy",
          "Set the county's freshness periods (bureau)", "disclosures", body=nt.PolicyIn, response=nt.PolicyOut),
    Route("GET", "/api/v1/disclosures/rate", "notifications", "disclosure_rate",
          "The disclosure rate of a region and of each region under it, per item", "disclosures",
          query=nt.RegionQuery, response=nt.RateOut),
    Route("GET", "/api/v1/notices", "notifications", "list_notices",
          "Notices (公告) and activities for you: your compound and building, your company's compounds, your region",
          "notices", query=nt.NoticeQuery, response=nt.NoticeOut, many=True),
    Route("POST", "/api/v1/notices", "notifications", "publish_notice",
          "Publish a notice or activity to compounds, buildings of one compound, or a region's compounds",
          "notices", body=nt.NoticeIn, response=nt.NoticeOut, status=201),
    Route("GET", "/api/v1/notices/<int:notice_id>", "notifications", "get_notice", "One notice", "notices",
          response=nt.NoticeOut),
    Route("POST", "/api/v1/notices/<int:notice_id>/withdraw", "notifications", "withdraw_notice",
          "Withdraw a notice or cancel an activity (its publisher); those signed up hear of it", "notices",
          response=nt.NoticeOut, optional_body=True),
    Route("POST", "/api/v1/notices/<int:notice_id>/signup", "notifications", "sign_up",
          "Sign up for an activity (residents it is for; within its capacity)", "notices", response=nt.NoticeOut,
          optional_body=True),
    Route("DELETE", "/api/v1/notices/<int:notice_id>/signup", "notifications", "cancel_signup",
          "Cancel your sign-up", "notices", response=nt.NoticeOut),
]


def _crud(tag, base, param, schemas, rpc_names, summaries):
    """list / create / get / update routes of one resource."""
    body_in, body_patch, out, query = schemas
    list_rpc, create_rpc, get_rpc, update_rpc = rpc_names
    routes = []
    if list_rpc:
        routes.append(Route("GET", base, "organizations", list_rpc, summaries[0], tag, query=query, response=out,
                            many=True))
    if create_rpc:
        routes.append(Route("POST", base, "organizations", create_rpc, summaries[1], tag, body=body_in,
                            response=out, status=201))
    if get_rpc:
        routes.append(Route("GET", f"{base}/<int:{param}>", "organizations", get_rpc, summaries[2], tag,
                            response=out))
    if update_rpc:
        routes.append(Route("PATCH", f"{base}/<int:{param}>", "organizations", update_rpc, summaries[3], tag,
                            body=body_patch, response=out))
    return routes


ROUTES = [
    *_crud("regions", "/api/v1/regions", "region_id", (org.RegionIn, org.RegionPatch, org.RegionOut, org.RegionQuery),
           ("list_regions", "create_region", "get_region", "update_region"),
           ("List regions (county, streets, communities)", "Create a region", "Get a region", "Update a region")),
    *_crud("compounds", "/api/v1/compounds", "compound_id",
           (org.CompoundIn, org.CompoundPatch, org.CompoundOut, org.CompoundQuery),
           ("list_compounds", "create_compound", "get_compound", "update_compound"),
           ("List compounds in your jurisdiction", "Register a compound", "Get a compound", "Update a compound")),
    Route("GET", "/api/v1/compounds/<int:compound_id>/buildings", "organizations", "list_buildings",
          "List a compound's buildings", "compounds", response=org.BuildingOut, many=True),
    Route("POST", "/api/v1/compounds/<int:compound_id>/buildings", "organizations", "add_building",
          "Add a building to a compound", "compounds", body=org.BuildingIn, response=org.BuildingOut, status=201),
    *_crud("companies", "/api/v1/companies", "company_id",
           (org.CompanyIn, org.CompanyPatch, org.CompanyOut, org.CompanyQuery),
           ("list_companies", "create_company", "get_company", "update_company"),
           ("List property companies", "Register a company (credit code checked)", "Get a company",
            "Update a company (company staff: contact fields only)")),
    *_crud("contracts", "/api/v1/contracts", "contract_id",
           (org.ContractIn, None, org.ContractOut, org.ContractQuery),
           ("list_contracts", "create_contract", "get_contract", None),
           ("List property service contracts", "Record a contract (one or several compounds)", "Get a contract",
            None)),
    Route("POST", "/api/v1/contracts/<int:contract_id>/terminate", "organizations", "terminate_contract",
          "Terminate a contract early", "contracts", body=org.ContractTermination, response=org.ContractOut),
    *_crud("owner-organizations", "/api/v1/owner-organizations", "organization_id",
           (org.OwnerOrganizationIn, org.OwnerOrganizationPatch, org.OwnerOrganizationOut, org.OrganizationQuery),
           ("list_owner_organizations", "create_owner_organization", "get_owner_organization",
            "update_owner_organization"),
           ("List owners' organizations", "Record an owners' organization", "Get an owners' organization",
            "Update or dissolve an owners' organization")),
    *_crud("party-organizations", "/api/v1/party-organizations", "organization_id",
           (org.PartyOrganizationIn, None, org.PartyOrganizationOut, org.OrganizationQuery),
           ("list_party_organizations", "create_party_organization", None, None),
           ("List party organizations", "Record a party organization", None, None)),
    Route("GET", "/api/v1/cross-appointments", "organizations", "list_cross_appointments",
          "People holding positions in several of party branch, owners' organization and company (交叉任职)",
          "people", query=org.OrganizationQuery, response=org.CrossAppointmentOut, many=True),
    Route("POST", "/api/v1/people", "organizations", "create_person", "Register a person", "people",
          body=org.PersonIn, response=org.PersonOut, status=201),
    Route("GET", "/api/v1/people/<int:person_id>", "organizations", "get_person",
          "Get a person (phone masked unless it is you)", "people", response=org.PersonOut),
    Route("POST", "/api/v1/appointments", "organizations", "create_appointment",
          "Record a person's position in an organization", "people", body=org.AppointmentIn,
          response=org.AppointmentOut, status=201),
    Route("GET", "/api/v1/accounts", "organizations", "list_accounts", "List accounts", "accounts",
          response=org.AccountOut, many=True),
    Route("POST", "/api/v1/accounts", "organizations", "create_account", "Create an account with memberships",
          "accounts", body=org.AccountIn, response=org.AccountOut, status=201),
    Route("GET", "/api/v1/accounts/<int:account_id>", "organizations", "get_account", "Get an account", "accounts",
          response=org.AccountOut),
    Route("POST", "/api/v1/accounts/<int:account_id>/memberships", "organizations", "grant_membership",
          "Grant a role", "accounts", body=org.MembershipIn, response=org.AccountOut, status=201),
    Route("DELETE", "/api/v1/accounts/<int:account_id>/memberships/<int:membership_id>", "organizations",
          "revoke_membership", "Revoke a role", "accounts", response=org.AccountOut),
    Route("GET", "/api/v1/me", "organizations", "whoami", "Who the token belongs to", "accounts"),
    Route("GET", "/api/v1/departments", "organizations", "list_departments", "List departments", "accounts",
          response=org.DepartmentOut, many=True),
    Route("POST", "/api/v1/departments", "organizations", "create_department", "Record a county department",
          "accounts", body=org.DepartmentIn, response=org.DepartmentOut, status=201),
    Route("POST", "/api/v1/api-clients", "organizations", "create_api_client",
          "Create an API client for another system (the secret is shown once)", "accounts",
          body=org.ApiClientIn, response=org.ApiClientOut, status=201),
    Route("GET", "/api/v1/stats/coverage", "organizations", "coverage",
          "Coverage statistics for a node of the jurisdiction tree", "statistics", query=org.CoverageQuery),
    Route("POST", "/api/v1/imports/<any(compounds, companies):kind>", "organizations", "import_registry",
          "Bulk import from CSV or XLSX (multipart field `file`); a file with any error imports nothing",
          "imports", upload=True, status=201),
    *TICKET_ROUTES,
    *RATING_ROUTES,
    *NOTIFICATION_ROUTES,
]
