"""Operations a role may not use at all, whatever the object.

For these the "own" cell expects a refusal (403 or 404, as the app's
convention for that operation) instead of a 2xx, and the foreign cell the
same as everywhere. Each entry says why, from the app's own rules; an entry
is a statement of policy, so a change here is a change of who may do what.
"""

from __future__ import annotations

import re

ENT = {"enterprise_user"}
INST = {"institution_staff", "institution_manager"}
GOV = {"gov_staff", "gov_admin"}
ADMIN = {"platform_admin"}

#: (method, path regex under /api/v1, roles refused, why)
DENIED: list[tuple[str, str, set[str], str]] = [
    ("get", r"^/imports/templates/", ENT | INST, "imports are government's and the platform's"),
    (
        "*",
        r"^/webhooks/(deliveries/)?{id}",
        {"institution_staff"},
        "an endpoint reveals the bank's systems: managers only",
    ),
    (
        "get",
        r"^/products/{id}/eligibility$",
        INST | GOV | ADMIN,
        "an enterprise checks its own eligibility",
    ),
    (
        "get",
        r"^/(indicators|indicators/{code}/value|stats/summary|stats/financing|pilot/evaluation)$",
        ENT | INST,
        "indicators and statistics are for government and the platform (404, as on the web)",
    ),
    (
        "get",
        r"^/pilot/batches/{batch_id}(/pilots)?$",
        ENT | INST,
        "the pilot-city programme is government's",
    ),
    (
        "get",
        r"^/pilot/batches/{batch_id}/province$",
        ENT | INST | GOV | ADMIN,
        "a provincial agency's own review desk (the world's government is a county)",
    ),
    (
        "get",
        r"^/pilot/batches/{batch_id}/ministry$",
        ENT | INST | GOV,
        "the ministry's review desk",
    ),
    (
        "get",
        r"^/pilot/applications/{application_id}/scores$",
        GOV,
        "the ministry's reviewers' scores",
    ),
    (
        "get",
        r"^/policy/programmes/{id}/ledger$",
        ENT | INST,
        "the budget ledger is the paying agency's",
    ),
    (
        "get",
        r"^/policy/programmes/{id}/eligibility$",
        INST | GOV | ADMIN,
        "an enterprise checks its own eligibility",
    ),
    (
        "get",
        r"^/policy/applications/{id}/objections$",
        ENT | INST | ADMIN,
        "objections to a 公示 are handled by the agency",
    ),
    (
        "get",
        r"^/policy/pools/{programme_id}(/movements)?$",
        ENT | INST,
        "a pool's accounts are the agency's",
    ),
    (
        "get",
        r"^/institutions/me/",
        ENT | GOV | ADMIN,
        "an institution's own workbench",
    ),
    (
        "get",
        r"^/(funds/{id}/matches|stats/equity)$",
        ENT | INST,
        "a fund's matches and the equity statistics are for who keeps funds (the world's bank manages none)",
    ),
    (
        "get",
        r"^/listing/stats$",
        ENT | INST,
        "listing statistics are for government and the platform (404, as on the web)",
    ),
    (
        "get",
        r"^/green/disclosures/checklist$",
        ENT | INST,
        "who has filed its environmental disclosure is for government and the platform",
    ),
    (
        "get",
        r"^/green/library/stats$",
        ENT | INST,
        "green financing by catalogue category is for government and the platform (404, as on the web)",
    ),
    (
        "get",
        r"^/stats/(groups|no-loan)$",
        ENT,
        "policy-group statistics and the 无贷户 list are for government and lenders (404, as on the web)",
    ),
]


def denied(method: str, path: str, role: str) -> str:
    """Why `role` may not use this operation at all, or ""."""
    for m, pattern, roles, why in DENIED:
        if (m == "*" or m == method) and role in roles and re.search(pattern, path):
            return why
    return ""
