"""The resolver table: how to fill each path parameter of /api/v1 for a role,
with an "own" object (one the role must be able to read) or a "foreign" one
(one the visibility rule hides from it).

The rule (DESIGN.md): an enterprise sees itself; an institution what is
dispatched to it, open to all, or authorised by the enterprise; government
its region's subtree; platform admins everything. Own and foreign objects
are chosen here by ownership (enterprise, institution, region of the world's
tenants A and B), written out per family, never by asking the app's own
`visible_to`: the matrix must be able to catch a `visible_to` that is too
wide.

A resolver is `(world, kind, case, ctx) -> value`, where `kind` is the role's
kind (enterprise / institution / government / platform), `case` is "own" or
"foreign" and `ctx` holds the path and the parameters already filled (left
to right), so a nested parameter (a list's version number, a demand's offer)
is taken from its parent. A resolver returns `NA(reason)` when the case does
not exist for that kind (a platform admin has no foreign object; the
institution directory is public to every signed-in user), and raises
`Missing` when the world should hold an object and does not.

`RESOLVERS` maps (path prefix regex, parameter name) to a resolver; the first
match wins. An operation with a parameter no entry matches fails the matrix
with its name: a new endpoint is covered by adding one line here.
"""

from __future__ import annotations

import re

from .base import NA, Missing, Resolver
from .families import (
    attachment,
    carbon_report,
    chain,
    chain_member,
    child_of_enterprise,
    claim,
    const,
    demand,
    discount_application,
    dispatch,
    draw,
    enterprise,
    enterprise_list,
    event,
    financing,
    green_disclosure,
    import_job,
    indicator_code,
    institution,
    library_application,
    list_entry,
    list_version,
    loan,
    notice,
    objection,
    offer,
    pilot_application,
    pilot_batch,
    pilot_child,
    pilot_report,
    plan,
    plan_year,
    policy_application,
    pool_programme,
    product,
    programme,
    project,
    receivable,
    region_code,
    risk_consultation,
    risk_loan,
    risk_model,
    same,
    voucher,
    webhook,
)
from .funds import fund
from .listing import listing_pipeline
from .world import REGION_A

__all__ = ["NA", "RESOLVERS", "Missing", "resolver_for"]


#: (path prefix regex under /api/v1, parameter) -> resolver; first match wins.
RESOLVERS: list[tuple[str, str, Resolver]] = [
    (r"^/regions/", "code", const(REGION_A)),
    (r"^/industries/", "code", const("C34")),
    (r"^/enterprises/", "id", enterprise),
    (r"^/enterprises/", "year", same(2025)),
    (r"^/enterprises/", "qid", child_of_enterprise("Qualification", "qualification")),
    (r"^/enterprises/", "period", same("2025-03")),
    (r"^/enterprises/", "rid", child_of_enterprise("OperatingRecord", "operating record")),
    (r"^/projects/", "id", project()),
    (r"^/lists/", "id", enterprise_list),
    (r"^/lists/", "number", list_version),
    (r"^/lists/", "entry_id", list_entry),
    (r"^/imports/templates/", "kind", const("enterprises")),
    (r"^/imports/", "id", import_job),
    (r"^/institutions/", "id", institution),
    (r"^/webhooks/deliveries/", "id", webhook("delivery")),
    (r"^/webhooks/", "id", webhook("webhook")),
    (r"^/products/", "id", product()),
    (r"^/demands/", "id", demand),
    (r"^/demands/", "offer_id", offer),
    (r"^/demands/", "institution_id", lambda w, kind, case, ctx: w.bank_a.pk),
    (r"^/dispatches/", "id", dispatch()),
    (r"^/events/", "id", event()),
    (r"^/events/", "action", same("publish")),
    (r"^/indicators/plans/", "id", plan()),
    (r"^/indicators/plans/", "year", plan_year),
    (r"^/indicators/", "code", indicator_code),
    (r"^/pilot/batches/", "batch_id", pilot_batch),
    (r"^/pilot/applications/", "application_id", pilot_application()),
    (r"^/pilot/applications/", "document_id", pilot_child("Document", "pilot document")),
    (r"^/pilot/reports/", "report_id", pilot_report()),
    (r"^/policy/programmes/", "id", programme),
    (r"^/policy/programmes/", "year", same(2026)),
    (r"^/policy/loans/from-demand/", "demand_id", demand),
    (r"^/policy/loans/", "id", loan()),
    (r"^/policy/applications/", "id", policy_application),
    (r"^/policy/applications/", "objection_id", objection),
    (r"^/policy/notices/", "id", notice),
    (r"^/policy/pools/draws/", "draw_id", draw()),
    (r"^/policy/pools/claims/", "claim_id", claim()),
    (r"^/policy/pools/", "programme_id", pool_programme),
    (r"^/supplychain/chains/", "id", chain()),
    (r"^/supplychain/chains/", "member_id", chain_member),
    (r"^/supplychain/receivables/", "id", receivable()),
    (r"^/supplychain/receivables/", "attachment_id", attachment),
    (r"^/supplychain/discount-applications/", "id", discount_application()),
    (r"^/supplychain/financings/", "id", financing()),
    (r"^/supplychain/vouchers/", "id", voucher()),
    (r"^/policy-weights/", "region_code", region_code),
    (r"^/risk/loans/", "id", risk_loan()),
    (r"^/green/disclosures/", "id", green_disclosure()),
    (r"^/green/carbon/reports/", "id", carbon_report()),
    (r"^/green/library/applications/", "id", library_application()),
    (r"^/green/library/lists/", "id", enterprise_list),
    (r"^/funds/", "id", fund),
    (r"^/risk/models/", "id", risk_model),
    (r"^/risk/scores/", "enterprise_id", enterprise),
    (r"^/risk/consultations/", "id", risk_consultation()),
    (r"^/listing/pipelines/", "id", listing_pipeline()),
]


def resolver_for(path: str, name: str) -> Resolver | None:
    for prefix, param, fn in RESOLVERS:
        if param == name and re.search(prefix, path):
            return fn
    return None
