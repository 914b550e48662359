"""Figures received from other deployments (互联互通, issue 19): a child
platform reports its indicator actuals and financing aggregates up, and the
parent's dashboards and the ministry's pilot evaluation show them *beside*
this deployment's own figures, each marked with its source deployment,
batch and date.

insights owns this registry so that it never imports the app that receives
batches (chanrong.exchange sits above it): that app registers a provider in
its `AppConfig.ready()`, and insights and the apps above it (pilots) ask
`received_figures(...)`. With no provider registered (a deployment without
the exchange app, or a unit test of insights alone) every answer is empty.

A received figure is never added into a local total. The only place one
stands *in place of* a local figure is a region for which this deployment
has no data of its own (a county whose enterprises are on the county's own
platform), and there it is shown as received, with its source, never
silently.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

INDICATOR_ACTUALS = "indicator_actuals"
FINANCING_STATS = "financing_stats"


@dataclass(frozen=True)
class ReceivedFigure:
    """One number a source deployment reported, with its provenance."""

    kind: str  # INDICATOR_ACTUALS | FINANCING_STATS
    region_code: str
    region_name: str
    period: str  # "YYYY-MM" (a month)
    key: str  # an insights source key, or a financing aggregate's key
    label: str
    unit: str  # "元" for money, "" for counts
    value: Decimal
    source_name: str  # the deployment that reported it
    source_id: str  # its deployment id
    batch_id: str
    batch_sequence: int
    received_at: datetime
    batch_url: str = ""  # where the batch can be looked at ("" when not visible)


@dataclass
class ReceivedTotal:
    """Received figures of one source, region and measure over several
    months: a flow summed, a level taken at the last month. Provenance is the
    newest batch's; `periods` says which months it covers."""

    source_name: str
    region_code: str
    region_name: str
    key: str
    label: str
    unit: str
    value: Decimal
    periods: list[str] = field(default_factory=list)
    latest: ReceivedFigure | None = None

    @property
    def period_text(self) -> str:
        if not self.periods:
            return ""
        first, last = min(self.periods), max(self.periods)
        return first if first == last else f"{first} – {last}"


# provider(actor, region_prefix, *, kind, keys, period_from, period_to) -> figures
Provider = Callable[..., list[ReceivedFigure]]

_PROVIDERS: list[Provider] = []


def register_provider(provider: Provider) -> Provider:
    """Add a provider (idempotent for one function)."""
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)
    return provider


def unregister_provider(provider: Provider) -> None:
    if provider in _PROVIDERS:
        _PROVIDERS.remove(provider)


def received_figures(
    actor,
    region_prefix: str,
    *,
    kind: str | None = None,
    keys: list[str] | None = None,
    period_from: str = "",
    period_to: str = "",
) -> list[ReceivedFigure]:
    """Figures received for regions in `region_prefix`'s subtree that the
    actor may see, one per (source, region, period, key) — the newest batch's
    when a source reported a month twice."""
    figures: list[ReceivedFigure] = []
    for provider in _PROVIDERS:
        figures.extend(
            provider(
                actor,
                region_prefix,
                kind=kind,
                keys=keys,
                period_from=period_from,
                period_to=period_to,
            )
        )
    return figures


def totals(figures: list[ReceivedFigure], *, stock_keys: set[str] = frozenset()) -> list:
    """Per (source, region, key): months of a flow added up, a level (a key
    in `stock_keys`) taken at its last month. Only one source's months are
    ever added together, never two sources', never with local figures."""
    groups: dict[tuple[str, str, str], ReceivedTotal] = {}
    for figure in sorted(figures, key=lambda f: (f.period, f.received_at)):
        group_key = (figure.source_id, figure.region_code, figure.key)
        total = groups.get(group_key)
        if total is None:
            total = groups[group_key] = ReceivedTotal(
                source_name=figure.source_name,
                region_code=figure.region_code,
                region_name=figure.region_name,
                key=figure.key,
                label=figure.label,
                unit=figure.unit,
                value=Decimal(0),
            )
        if figure.key in stock_keys:
            total.value = figure.value
        else:
            total.value += figure.value
        if figure.period not in total.periods:
            total.periods.append(figure.period)
        if total.latest is None or figure.received_at >= total.latest.received_at:
            total.latest = figure
    return sorted(groups.values(), key=lambda t: (t.region_code, t.source_name, t.key))
