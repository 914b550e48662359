"""A programme's budget ledger (专款专用、专账核算): each year's
appropriation, committed, paid and available, and every movement with the
balances after it; downloadable as Excel through the project's export
registry (`core:export` "policy_ledger", registered in policy/imports.py),
each download recorded in the audit log.

The ledger rows store the committed and paid totals after each movement;
the appropriation after a movement is the sum of the appropriation entries
up to it, so "available" can be shown on every line."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Sum
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET

from chanrong.core import audit
from chanrong.core.exporting import ExportColumn, write_xlsx

from ..models import BudgetYear, LedgerEntry, LedgerKind, Programme
from .gov import government_only, managed_programme

LEDGER_PAGE_SIZE = 50
ZERO = Decimal(0)


def _year(raw, budgets: list[BudgetYear]) -> int | None:
    years = [b.year for b in budgets]
    if raw and str(raw).isdigit() and int(raw) in years:
        return int(raw)
    return years[-1] if years else None


def _entries(programme: Programme, year: int | None):
    queryset = LedgerEntry.objects.filter(budget__programme=programme).select_related(
        "budget", "application__enterprise", "application__institution", "actor"
    )
    if year is not None:
        queryset = queryset.filter(budget__year=year)
    return queryset.order_by("budget__year", "pk")


def with_balances(entries, appropriated_before: dict[int, Decimal]):
    """Each entry with `appropriation_after` and `available_after`, running
    per budget year from the appropriation before the first entry."""
    running = dict(appropriated_before)
    for entry in entries:
        total = running.get(entry.budget_id, ZERO)
        if entry.kind == LedgerKind.APPROPRIATE:
            total += entry.amount
        running[entry.budget_id] = total
        entry.appropriation_after = total
        entry.available_after = total - entry.committed_after - entry.paid_after
        yield entry


def _appropriated_before(programme: Programme, first: LedgerEntry | None) -> dict[int, Decimal]:
    """Per budget year, the appropriation entries before `first` (its year only)."""
    if first is None:
        return {}
    total = LedgerEntry.objects.filter(
        budget_id=first.budget_id, kind=LedgerKind.APPROPRIATE, pk__lt=first.pk
    ).aggregate(s=Sum("amount"))["s"]
    return {first.budget_id: total or ZERO}


def _chart(programme: Programme, budgets: list[BudgetYear]) -> dict | None:
    if not budgets:
        return None
    years = [str(b.year) for b in budgets]

    def series(name: str, values) -> dict:
        return {"name": name, "type": "bar", "stack": "budget", "data": [float(v) for v in values]}

    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 70, "right": 20, "top": 40, "bottom": 30},
        "xAxis": {"type": "category", "data": years},
        "yAxis": {"type": "value", "name": _("万元")},
        "series": [
            series(_("已拨付"), [b.paid / 10000 for b in budgets]),
            series(_("已承诺"), [b.committed / 10000 for b in budgets]),
            series(_("可用"), [b.available / 10000 for b in budgets]),
        ],
    }


@login_required
@require_GET
def ledger(request, pk: int):
    government_only(request)
    programme = managed_programme(request.user, pk)
    budgets = list(programme.budget_years.order_by("year"))
    year = _year(request.GET.get("year"), budgets)
    paginator = Paginator(_entries(programme, year), LEDGER_PAGE_SIZE)
    page_obj = paginator.get_page(request.GET.get("page"))
    rows = list(page_obj.object_list)
    entries = list(with_balances(rows, _appropriated_before(programme, rows[0] if rows else None)))
    totals = {
        "appropriation": sum((b.appropriation for b in budgets), ZERO),
        "committed": sum((b.committed for b in budgets), ZERO),
        "paid": sum((b.paid for b in budgets), ZERO),
    }
    totals["available"] = totals["appropriation"] - totals["committed"] - totals["paid"]
    return render(
        request,
        "policy/gov/ledger.html",
        {
            "programme": programme,
            "budgets": budgets,
            "totals": totals,
            "year": year,
            "entries": entries,
            "page_obj": page_obj,
            "page_range": paginator.get_elided_page_range(page_obj.number),
            "querystring_base": f"year={year}&" if year else "",
            "chart_option": _chart(programme, budgets),
            "export_query": f"programme={programme.pk}" + (f"&year={year}" if year else ""),
        },
    )


# --- the Excel export ---------------------------------------------------------------------------


def _applicant(entry: LedgerEntry) -> str:
    application = entry.application
    if application is None:
        return ""
    if application.enterprise_id:
        return application.enterprise.name
    return application.institution.name if application.institution_id else ""


LEDGER_COLUMNS = [
    ExportColumn(_lazy("年度"), lambda e: e.budget.year, 8, "integer"),
    ExportColumn(_lazy("时间"), lambda e: e.created_at, 18, "date"),
    ExportColumn(_lazy("类型"), lambda e: e.get_kind_display(), 10),
    ExportColumn(_lazy("金额（元）"), lambda e: e.amount, 16, "amount"),
    ExportColumn(_lazy("申请编号"), lambda e: e.application_id, 10, "integer"),
    ExportColumn(_lazy("申请人"), _applicant, 30),
    ExportColumn(_lazy("年度预算（元）"), lambda e: e.appropriation_after, 16, "amount"),
    ExportColumn(_lazy("已承诺（元）"), lambda e: e.committed_after, 16, "amount"),
    ExportColumn(_lazy("已拨付（元）"), lambda e: e.paid_after, 16, "amount"),
    ExportColumn(_lazy("可用（元）"), lambda e: e.available_after, 16, "amount"),
    ExportColumn(_lazy("经办人"), lambda e: e.actor.get_username() if e.actor_id else "", 14),
    ExportColumn(_lazy("说明"), lambda e: e.note, 30),
]


def export_ledger(user, params) -> tuple[Any, int]:
    """The ledger of one programme the user manages (all years, or `year`),
    as the ledger page shows it, into a temporary .xlsx. The download is
    audited: who took which programme's accounts, and how many rows."""
    raw = (params or {}).get("programme", "")
    if not str(raw).isdigit():
        raise Http404
    programme = Programme.objects.managed_by(user).filter(pk=int(raw)).first()
    if programme is None:
        raise Http404
    year_raw = (params or {}).get("year", "")
    year = int(year_raw) if str(year_raw).isdigit() else None
    entries = with_balances(_entries(programme, year).iterator(chunk_size=2000), {})
    # Translated at call time: the column headers follow the user's language.
    columns = [ExportColumn(str(c.header), c.value, c.width, c.kind) for c in LEDGER_COLUMNS]
    handle, count = write_xlsx(
        columns, entries, sheet_name=str(_("资金台账")), title_note=programme.name
    )
    audit.record(
        "policy.ledger.export",
        actor=user,
        obj=programme,
        changes={"year": year, "rows": count},
    )
    return handle, count
