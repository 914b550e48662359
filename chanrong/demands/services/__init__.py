"""Business rules for financing demands: input, publication and dispatch,
claims, offers, acceptance, outcomes, withdrawal, deadlines and feedback.

Every state change goes through `apply_transition` with the tables in
`workflows` (actor check, audit, notification in one transaction). Each
service that touches a demand locks the demand's row first and only then its
dispatches, always in that order, so concurrent requests queue instead of
deadlocking; the unique constraints on Dispatch and Offer are the backstop.

One module per subdomain; this package re-exports their public names, so
callers keep writing `services.publish_demand(...)`:

- `common`: workflow settings, recipients, the single notification path
  (`_notify`, `_move`) and webhook events;
- `parsing`: reading one input value (amount, whole number, rate, codes);
- `access`: visible demand / dispatch / offer, available actions, timeline;
- `demands`: create, edit, withdraw, authorise institutions;
- `dispatch`: targets and branches, publish, dispatch rounds, redispatch;
- `offers`: claim, decline, offer, acceptance, outcome;
- `feedback`: ratings of institutions;
- `deadlines`: expiring overdue dispatches.

The submodules import each other directly, never through this package.
"""

from .. import workflows as workflows  # views reach it as services.workflows
from .access import (
    can_create_demand,
    demand_actions,
    dispatch_actions,
    get_visible_demand,
    get_visible_dispatch,
    get_visible_offer,
    timeline,
)
from .common import _notify as _notify  # demands.sla writes its escalations through it
from .common import (
    claim_workdays,
    decide_workdays,
    demand_link,
    enterprise_users,
    exclusive_by_default,
    institution_users,
    institution_users_for,
)
from .deadlines import expire_overdue
from .demands import (
    EDITABLE_FIELDS,
    authorise_institution,
    authorised_institution_ids,
    clean_demand_data,
    create_demand,
    demand_facts,
    demand_input,
    revoke_institution,
    update_demand,
    withdraw_demand,
)
from .dispatch import (
    choose_branch,
    choose_branches,
    publish_demand,
    qualifying_institutions,
    redispatch_demand,
)
from .feedback import Rating, feedback_institutions, leave_feedback, ratings
from .offers import (
    OUTCOMES,
    accept_offer,
    claim_dispatch,
    clean_offer_data,
    clean_result_data,
    decline_dispatch,
    make_offer,
    record_result,
)
from .parsing import MAX_AMOUNT, MAX_ID, MAX_PREFERRED, MAX_RATE, MAX_TERM_MONTHS

__all__ = [
    "EDITABLE_FIELDS",
    "MAX_AMOUNT",
    "MAX_ID",
    "MAX_PREFERRED",
    "MAX_RATE",
    "MAX_TERM_MONTHS",
    "OUTCOMES",
    "Rating",
    "accept_offer",
    "authorise_institution",
    "authorised_institution_ids",
    "can_create_demand",
    "choose_branch",
    "choose_branches",
    "claim_dispatch",
    "claim_workdays",
    "clean_demand_data",
    "clean_offer_data",
    "clean_result_data",
    "create_demand",
    "decide_workdays",
    "decline_dispatch",
    "demand_actions",
    "demand_facts",
    "demand_input",
    "demand_link",
    "dispatch_actions",
    "enterprise_users",
    "exclusive_by_default",
    "expire_overdue",
    "feedback_institutions",
    "get_visible_demand",
    "get_visible_dispatch",
    "get_visible_offer",
    "institution_users",
    "institution_users_for",
    "leave_feedback",
    "make_offer",
    "publish_demand",
    "qualifying_institutions",
    "ratings",
    "record_result",
    "redispatch_demand",
    "revoke_institution",
    "timeline",
    "update_demand",
    "withdraw_demand",
]
