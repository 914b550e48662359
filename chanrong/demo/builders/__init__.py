"""Demo builders, one module per domain, run in this order.

Each module has `NAME`, `MODELS` (the "app.model" labels it writes: a
rebuild empties them and everything that references them) and
`build(ctx: DemoContext) -> None`. A builder reads
what earlier ones made from `ctx.refs`, writes with bulk_create (no per-row
audit), adds its row counts to `ctx.counts` and draws random numbers only
from `ctx.rng(<its own stream name>)`. To add a domain (products, demands …),
write `builders/<domain>.py` and append it to STEPS; extend
`chanrong.demo.services.digest_rows` with its key fields.
"""

from . import (
    accounts,
    content,
    credit,
    demands,
    enterprises,
    exchange,
    funds,
    green_carbon,
    green_disclosure,
    green_library,
    indicators,
    insights,
    insights_snapshots,
    listing,
    matching_rankings,
    organisations,
    pilots,
    policy,
    registrations,
    registry,
    risk,
    risk_book_figures,
    risk_consultations,
    risk_group_sums,
    supervision_stats,
    supplychain,
    zhongzheng,
)

STEPS = (
    organisations,
    enterprises,
    accounts,
    registry,
    green_carbon,
    demands,
    insights,
    pilots,
    policy,
    supplychain,
    credit,
    risk,
    risk_consultations,
    funds,
    listing,
    content,
    indicators,
    green_library,
    green_disclosure,
    registrations,
    zhongzheng,
    exchange,
    insights_snapshots,
    risk_group_sums,
    supervision_stats,
    risk_book_figures,
    matching_rankings,
)
