"""Indicator plans, targets, reported actuals, completion; the financing fact
table and its rollup; dashboard figures.

Who may do what: government users act for their region's subtree (a plan or
a report for a region outside it is a 404 for them, like anything they cannot
see); platform admins act everywhere. Enterprises and institutions neither
see nor write indicators.

One module per subdomain; this package re-exports their public names, so
callers keep writing `services.completion(...)`:

- `values`: parsing and printing figures, the range of years;
- `access`: who may see and manage which region's indicators;
- `plans`: plans, targets, the plan as a table, importing a printed table;
- `actuals`: report periods and reported figures;
- `figures`: values rolled up over the region tree, completion against targets;
- `financing`: financing facts, their rollup, the platform's financing sources;
- `definitions`: which sources an indicator reads; the 时点-over-time refusal;
- `comparison`: computed against reported figures, the difference explained;
- `registry_sources`: 国家高新技术企业 from registry qualifications;
- `dashboard`: summary and financing breakdowns for a region subtree.

The submodules import each other directly, never through this package, and
without cycles: values and access at the bottom, then plans, actuals,
figures and financing, then dashboard.
"""

from ..models import IndicatorPlan as IndicatorPlan  # tests reach it as services.IndicatorPlan
from .access import can_manage_region, can_view_indicators, get_visible_plan, visible_region_prefix
from .actuals import period_bounds, report_actual
from .comparison import Comparison, comparisons, record_comparison
from .dashboard import (
    Summary,
    counts_by_category,
    financing_by_child_region,
    financing_by_institution,
    financing_by_month,
    financing_by_section,
    resolve_scope_region,
    summary,
)
from .definitions import check_definition, is_computed, set_sources
from .figures import (
    STATUS_LABELS,
    Actual,
    CompletionRow,
    FigureBook,
    aggregate_over_time,
    completion,
    indicator_value,
)
from .financing import (
    ancestor_prefixes,
    financing_totals,
    on_financing_disbursed,
    rebuild_rollups,
    record_financing,
    register_default_sources,
    rollup_keys,
)
from .plans import TableCell, TableRow, create_plan, import_plan_table, plan_table, set_targets
from .values import MAX_YEAR, MIN_YEAR, format_number, parse_number, places_of

__all__ = [
    "Comparison",
    "aggregate_over_time",
    "check_definition",
    "comparisons",
    "is_computed",
    "record_comparison",
    "set_sources",
    "MAX_YEAR",
    "MIN_YEAR",
    "STATUS_LABELS",
    "Actual",
    "CompletionRow",
    "FigureBook",
    "Summary",
    "TableCell",
    "TableRow",
    "ancestor_prefixes",
    "can_manage_region",
    "can_view_indicators",
    "completion",
    "counts_by_category",
    "create_plan",
    "financing_by_child_region",
    "financing_by_institution",
    "financing_by_month",
    "financing_by_section",
    "financing_totals",
    "format_number",
    "get_visible_plan",
    "import_plan_table",
    "indicator_value",
    "on_financing_disbursed",
    "parse_number",
    "period_bounds",
    "places_of",
    "plan_table",
    "rebuild_rollups",
    "record_financing",
    "register_default_sources",
    "report_actual",
    "resolve_scope_region",
    "rollup_keys",
    "set_targets",
    "summary",
    "visible_region_prefix",
]
