"""Green-loan figures of the loan book (issue 18), registered with insights'
computed sources in RiskConfig.ready, beside sources.py's 金融资源 figures.

- risk_green.purpose_balance — 绿色贷款余额（按用途）(时点, 元): balance at D
  (principal − principal repaid on or before D) of the loans on the book at D
  (sources.on_book: disbursed by D, not renewed or written off by D) that the
  lending bank reported as green, i.e. with a 绿色产业指导目录 category
  (LoanAccount.green_category) — the PBOC's 绿色贷款 is counted by the use of
  the loan, not by who borrows. A 时点: the level at D, never a sum over time.
- risk_green.financing_amount — 绿色融资额 (时期, 元): principal of the loans
  disbursed in [start, end] (start None: everything up to end) that are green
  by use (a category reported) or lent to a member of a published
  绿色融资企业（项目）库 version in force on the disbursement day (registry
  ListType.GREEN, not removed). Renewals (无还本续贷) are not new financing
  and are left out.

The region is the borrower's (its 6-digit county code; a prefix takes the
subtree). Each source answers one prefix (`fn`) and every county under it in
one grouped pass (`by_region`); `fn` is the sum of `by_region`'s counties,
so both always agree. The keys start "risk_green." rather than "risk.": the
"risk." sources are the loan book's balances answered together by one pass
over the book (sources.book_sources_many), which these two are not part of.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db.models import Exists, OuterRef, Q, Sum

from chanrong.registry.models import EntryChange, ListEntry, ListType, VersionStatus

from .models import LoanAccount, Repayment
from .sources import on_book

SOURCE_GREEN_PURPOSE = "risk_green.purpose_balance"
SOURCE_GREEN_FINANCING = "risk_green.financing_amount"
_CENT = Decimal("0.01")


def _money(value) -> Decimal:
    return Decimal(value or 0).quantize(_CENT)


def green_purpose_balance_by_region(prefix: str, start: date | None, end: date):
    loans = on_book(prefix, end).exclude(green_category="")
    principal = dict(
        loans.order_by()
        .values("enterprise__region_id")
        .annotate(total=Sum("principal"))
        .values_list("enterprise__region_id", "total")
    )
    repaid = dict(
        Repayment.objects.filter(loan__in=loans.values("pk"), paid_on__lte=end)
        .order_by()
        .values("loan__enterprise__region_id")
        .annotate(total=Sum("principal"))
        .values_list("loan__enterprise__region_id", "total")
    )
    return {code: _money(total) - _money(repaid.get(code)) for code, total in principal.items()}


def _listed_at_disbursement():
    listed = ListEntry.objects.filter(
        enterprise_id=OuterRef("enterprise_id"),
        version__list__list_type=ListType.GREEN,
        version__status=VersionStatus.PUBLISHED,
        version__effective_from__lte=OuterRef("disbursed_on"),
    ).filter(
        Q(version__effective_until__isnull=True)
        | Q(version__effective_until__gte=OuterRef("disbursed_on"))
    )
    return Exists(listed.exclude(change=EntryChange.REMOVED))


def green_financing_by_region(prefix: str, start: date | None, end: date):
    loans = LoanAccount.objects.filter(disbursed_on__lte=end, renewed_from__isnull=True)
    if start is not None:
        loans = loans.filter(disbursed_on__gte=start)
    if prefix:
        loans = loans.filter(enterprise__region__code__startswith=prefix)
    loans = loans.filter(~Q(green_category="") | _listed_at_disbursement())
    rows = (
        loans.order_by()
        .values("enterprise__region_id")
        .annotate(total=Sum("principal"))
        .values_list("enterprise__region_id", "total")
    )
    return {code: _money(total) for code, total in rows}


def _total(by_region: dict[str, Decimal]) -> Decimal:
    return sum(by_region.values(), Decimal(0))


def green_purpose_balance(prefix: str, start: date | None, end: date) -> Decimal:
    return _total(green_purpose_balance_by_region(prefix, start, end))


def green_financing(prefix: str, start: date | None, end: date) -> Decimal:
    return _total(green_financing_by_region(prefix, start, end))


def register() -> None:
    from chanrong.insights.sources import register_source

    register_source(
        SOURCE_GREEN_PURPOSE,
        green_purpose_balance,
        label="绿色贷款余额（按用途；risk 贷款台账）",
        money=True,
        kind="stock",
        by_region=green_purpose_balance_by_region,
    )
    register_source(
        SOURCE_GREEN_FINANCING,
        green_financing,
        label="绿色融资额（risk 贷款台账 × 绿色库）",
        money=True,
        kind="period",
        by_region=green_financing_by_region,
    )
