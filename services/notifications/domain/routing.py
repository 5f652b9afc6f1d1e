"""Who hears what: event type → the people to tell, as roles resolved against the registry copy.

A recipient spec names a party of the event; `resolve` in the dispatcher turns it into accounts:
- `handler`: the staff of the body handling a ticket now (company, owners' organization, community, street,
  bureau or department);
- `overdue_handler`: the body that let a ticket's deadline pass;
- `reporter`: the resident who reported (or the staff member who entered the report);
- `community`: the staff of the ticket's community (who supervises and referees reopen requests);
- `company`: the staff of the company named in the event (ratings: records, orders, stars);
- `owners_org`: the members of the owners' organization named in the event (elimination recommendations,
  disclosure reminders for the owners' own items);
- `neighbours`: the residents of the compounds (or buildings) a notice is for, and their owners' organization and
  party branch members;
- `signed_up`: the people signed up for an activity (when it is withdrawn).
"""
from dataclasses import dataclass

HANDLER, OVERDUE_HANDLER, REPORTER, COMMUNITY, COMPANY, OWNERS_ORG, NEIGHBOURS, SIGNED_UP = (
    "handler", "overdue_handler", "reporter", "community", "company", "owners_org", "neighbours", "signed_up")

ROUTES = {
    ("tickets", "ticket_submitted"): (HANDLER,),
    ("tickets", "ticket_claimed"): (REPORTER,),
    ("tickets", "ticket_resolved"): (REPORTER,),
    ("tickets", "ticket_returned"): (COMMUNITY,),
    ("tickets", "ticket_reassigned"): (HANDLER,),
    ("tickets", "ticket_reopen_requested"): (COMMUNITY,),
    ("tickets", "ticket_reopened"): (HANDLER, REPORTER),
    ("tickets", "ticket_closed"): (REPORTER,),
    ("tickets", "ticket_deadline_warning"): (HANDLER,),
    ("tickets", "ticket_overdue"): (OVERDUE_HANDLER,),
    ("tickets", "ticket_escalated"): (HANDLER,),
    ("tickets", "ticket_urged"): (HANDLER,),
    ("tickets", "supervision_issued"): (HANDLER,),
    ("tickets", "supervision_overdue"): (HANDLER, COMMUNITY),
    ("ratings", "credit_record_added"): (COMPANY,),
    ("ratings", "credit_record_decided"): (COMPANY,),
    ("ratings", "rectification_ordered"): (COMPANY,),
    ("ratings", "rectification_reinspected"): (COMPANY,),
    ("ratings", "elimination_recommended"): (OWNERS_ORG,),
    ("ratings", "star_rating_objection_decided"): (COMPANY,),
    ("notifications", "disclosure_due_soon"): (COMPANY, OWNERS_ORG),
    ("notifications", "disclosure_overdue"): (COMPANY, OWNERS_ORG),
    ("notifications", "notice_published"): (NEIGHBOURS,),
    ("notifications", "notice_withdrawn"): (SIGNED_UP,),
}

# the handling body of a ticket → the membership that makes someone its staff, and which id it is held on
HANDLER_MEMBERSHIP = {"company": ("company", "company_id"), "owners_org": ("owners_org", "organization_id"),
                      "community": ("community", "region_id"), "street": ("street", "region_id"),
                      "bureau": ("bureau", "region_id"), "department": ("department", "department_id")}


@dataclass(frozen=True)
class Audience:
    """Accounts by id; bodies whose staff hear it: (role, attribute, id); homes whose residents hear it:
    (compound id, building or None for every building); the activity whose sign-ups hear it."""
    accounts: tuple = ()
    bodies: tuple = ()
    homes: tuple = ()
    signups_of: int | None = None


def audience(source, event_type, data):
    """The people an event concerns, before they are looked up."""
    accounts, bodies, homes, signups_of = [], [], [], None
    for party in ROUTES.get((source, event_type), ()):
        if party == HANDLER and data.get("handler_kind") in HANDLER_MEMBERSHIP:
            bodies.append((*HANDLER_MEMBERSHIP[data["handler_kind"]], data["handler_id"]))
        elif party == OVERDUE_HANDLER and data.get("overdue_handler_kind") in HANDLER_MEMBERSHIP:
            bodies.append((*HANDLER_MEMBERSHIP[data["overdue_handler_kind"]], data["overdue_handler_id"]))
        elif party == REPORTER and data.get("reporter_account_id"):
            accounts.append(data["reporter_account_id"])
        elif party == COMMUNITY and data.get("community_id"):
            bodies.append(("community", "region_id", data["community_id"]))
        elif party == COMPANY and data.get("company_id"):
            bodies.append(("company", "company_id", data["company_id"]))
        elif party == OWNERS_ORG and data.get("owner_organization_id"):
            bodies.append(("owners_org", "organization_id", data["owner_organization_id"]))
        elif party == NEIGHBOURS:
            homes += [(compound_id, building) for compound_id in data.get("compound_ids", ())
                      for building in data.get("buildings") or (None,)]
        elif party == SIGNED_UP and data.get("signup"):
            signups_of = data["notice_id"]
    return Audience(accounts=tuple(dict.fromkeys(accounts)), bodies=tuple(dict.fromkeys(bodies)),
                    homes=tuple(dict.fromkeys(homes)), signups_of=signups_of)


def subscription_matches(patterns, region_path, source, event_type, data):
    """A webhook subscription takes an event when one of its patterns names it ("tickets.ticket_submitted",
    "tickets.*" or "*") and the event happened inside its region (events without a place go to every region)."""
    key = f"{source}.{event_type}"
    named = any(p in ("*", key, f"{source}.*") for p in patterns)
    place = data.get("region_path")
    return named and (place is None or place.startswith(region_path))
