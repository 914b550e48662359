"""风险监测's figures kept per viewer scope (数据截至, issue 20).

The page (`views.home`) sums the viewer's whole loan book — balance, 不良,
overdue, by region, industry and institution, the ten largest borrowers
(`monitoring.book_figures`) — and counts the viewer's alerts per month
(`monitoring.alert_figures`). At demo scale 100 (450,000 loans) that is
0.5-0.7 s on every view, for a county as for the country: the loan book's
GROUPING SETS statement reads every on-book loan in scope.

So `refresh` computes the page's figures ahead for every scope a viewer
can have — the region prefix of every agency with an active user, "" for
the whole country (national agencies and platform admins) and every
institution with an active user (accounts.scopes) — by the very functions
the page runs live, over `for_scope`, the rule `visible_to` applies. A kept
view is therefore the live one at the time it was computed, exactly
(tests/risk/test_book_kept.py compares them for every kind of viewer).

Why per scope and not per region code and institution, to be added up:
the ten largest borrowers and the rows' order are not sums, and a scope's
figures are one row to read, however large the scope. The cost is the
computation: one live computation per scope every hour.

Shown kept when computed within the last day (older means the hourly job
is not running: the live figures, slow as they are, are then the right
ones); `live=True` (the page's 实时计算 link) computes the viewer's figures
now. Open consultations are few and always counted live. Refreshed hourly
(`risk.tasks.refresh_book_figures`), by the demo's last steps, and on a
government user's request (`request_refresh`: audited, enqueued once while
pending).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.accounts.scopes import government_prefixes, institution_ids
from chanrong.core import kept
from chanrong.core.errors import NotAllowed
from chanrong.core.scope import Scope, ScopeKind, scope_of

from ..models import Alert, BookFigures, BookSnapshot, LoanAccount
from . import monitoring
from .monitoring import AlertMonth, Concentration, Row
from .monitoring import BookFigures as Book

KEY = "all"
#: Rows per breakdown (region, industry, institution) and borrowers, as the page shows them.
LIMITS = (20, 12, 12)
BORROWERS = 10
MONTHS = 12
#: Kept figures older than this are not shown (the hourly job has stopped).
SHOWN_FOR = timedelta(days=1)


@dataclass(frozen=True)
class Monitoring:
    """What 风险监测 shows of the loan book and the alerts, for one scope."""

    book: Book
    alert_months: list[AlertMonth]
    live_alerts: int


@dataclass(frozen=True)
class Shown:
    """The figures a viewer is shown and where they come from: kept
    (`snapshot`, computed at `snapshot.computed_at`) or computed now
    (`live`). `snapshot` is given even when not used: its pending request
    shows on the page."""

    figures: Monitoring
    snapshot: BookSnapshot | None
    live: bool


def scope_key(scope: Scope) -> str | None:
    """The kept row a scope reads: "g:<prefix>" for government ("g:" the
    whole country, which platform admins see too), "i:<id>" for an
    institution; None for a scope the page never sums (an enterprise)."""
    if scope.kind == ScopeKind.PLATFORM:
        return "g:"
    if scope.kind == ScopeKind.GOVERNMENT:
        return f"g:{scope.region_prefix}"
    if scope.kind == ScopeKind.INSTITUTION:
        return f"i:{scope.institution_id}"
    return None


def scope_of_key(key: str) -> Scope:
    kind, _sep, value = key.partition(":")
    if kind == "i":
        return Scope(ScopeKind.INSTITUTION, institution_id=int(value))
    return Scope(ScopeKind.GOVERNMENT, region_prefix=value)


def scope_keys() -> list[str]:
    """Every scope to keep (accounts.scopes)."""
    return [f"g:{prefix}" for prefix in government_prefixes()] + [
        f"i:{pk}" for pk in institution_ids()
    ]


def compute(scope: Scope, today: date) -> Monitoring:
    """The page's figures for `scope` on `today`, as the page computes them live."""
    book = monitoring.book_figures(
        LoanAccount.objects.for_scope(scope), limits=LIMITS, borrowers=BORROWERS
    )
    months, live = monitoring.alert_figures(Alert.objects.for_scope(scope), today, MONTHS)
    return Monitoring(book, months, live)


# --------------------------------------------------------------------------
# to and from JSON (amounts as the Decimal's exact text)


def _row_data(row: Row) -> list[Any]:
    return [
        row.key,
        row.label,
        row.loans,
        str(row.balance),
        str(row.non_performing),
        str(row.overdue),
    ]


def _row(data: list[Any]) -> Row:
    key, label, loans, balance, npl, overdue = data
    return Row(key, label, loans, Decimal(balance), Decimal(npl), Decimal(overdue))


def to_data(figures: Monitoring) -> dict[str, Any]:
    book = figures.book
    top = book.concentration
    return {
        "summary": _row_data(book.summary),
        "by_region": [_row_data(r) for r in book.by_region],
        "by_industry": [_row_data(r) for r in book.by_industry],
        "by_institution": [_row_data(r) for r in book.by_institution],
        "top": [_row_data(r) for r in top.top] if top else [],
        "top_share": None if top is None or top.share is None else str(top.share),
        "months": [
            [m.month.isoformat(), m.opened, m.acknowledged, m.disposed]
            for m in figures.alert_months
        ],
        "live_alerts": figures.live_alerts,
    }


def from_data(data: dict[str, Any]) -> Monitoring:
    share = data["top_share"]
    book = Book(
        _row(data["summary"]),
        [_row(r) for r in data["by_region"]],
        [_row(r) for r in data["by_industry"]],
        [_row(r) for r in data["by_institution"]],
        Concentration([_row(r) for r in data["top"]], None if share is None else Decimal(share)),
    )
    months = [AlertMonth(date.fromisoformat(m), *counts) for m, *counts in data["months"]]
    return Monitoring(book, months, data["live_alerts"])


# --------------------------------------------------------------------------
# computing and reading


def current() -> BookSnapshot | None:
    return BookSnapshot.objects.filter(key=KEY).first()


def usable(snapshot: BookSnapshot | None, now=None) -> bool:
    """Computed, within the last day."""
    if snapshot is None or snapshot.computed_at is None:
        return False
    return snapshot.computed_at >= (now or timezone.now()) - SHOWN_FOR


def refresh(*, today: date | None = None) -> BookSnapshot:
    """Compute every kept scope's figures as of now (alerts by month up to
    `today`, default today in Beijing) and replace the previous ones. The
    computing runs outside any transaction; the write is one short one."""
    today = today or timezone.localdate()
    started = time.monotonic()
    rows = {key: to_data(compute(scope_of_key(key), today)) for key in scope_keys()}
    with transaction.atomic():
        snapshot, _created = BookSnapshot.objects.select_for_update().get_or_create(key=KEY)
        BookFigures.objects.filter(snapshot=snapshot).delete()
        BookFigures.objects.bulk_create(
            BookFigures(snapshot=snapshot, scope=key, figures=data) for key, data in rows.items()
        )
        snapshot.as_of = today
        snapshot.computed_at = timezone.now()
        snapshot.seconds = round(time.monotonic() - started, 3)
        snapshot.save(update_fields=["as_of", "computed_at", "seconds"])
    return snapshot


def shown_to(user, *, live: bool = False, today: date | None = None) -> Shown:
    """The figures `user` is shown: kept when usable and kept for the
    user's scope (and `live` not asked), else computed now."""
    scope = scope_of(user)
    key = scope_key(scope)
    snapshot = current()
    if key is not None and not live and usable(snapshot):
        data = (
            BookFigures.objects.filter(snapshot=snapshot, scope=key)
            .values_list("figures", flat=True)
            .first()
        )
        if data is not None:
            return Shown(from_data(data), snapshot, live=False)
    return Shown(compute(scope, today or timezone.localdate()), snapshot, live=True)


# --------------------------------------------------------------------------
# asking for a refresh


may_request = kept.may_request


def request_refresh(actor) -> bool:
    """A government user (or platform admin) asks for the kept figures to be
    computed again now: recorded on the snapshot and in the audit log; not
    asked twice while a request is pending. True when the caller should
    enqueue the work (`risk.tasks.refresh_book_figures_now`, on commit)."""
    if not may_request(actor):
        raise NotAllowed(_("只有政府部门可以申请刷新风险监测数据"))
    return kept.request_on(BookSnapshot, actor, action="risk.book_figures.request", key=KEY)
