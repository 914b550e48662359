"""The figures children reported, handed to insights' registry of received
figures (chanrong.insights.received) so that the dashboards and the pilot
evaluation show them beside the local ones without importing this app.
Registered in ExchangeConfig.ready()."""

from __future__ import annotations

from django.urls import reverse

from chanrong.core.models import Region
from chanrong.insights.received import FINANCING_STATS, INDICATOR_ACTUALS, ReceivedFigure

from ..models import ReceivedFigure as Row

KINDS = (INDICATOR_ACTUALS, FINANCING_STATS)


def received_figures(
    actor,
    region_prefix: str,
    *,
    kind: str | None = None,
    keys: list[str] | None = None,
    period_from: str = "",
    period_to: str = "",
) -> list[ReceivedFigure]:
    """Visible received figures in the subtree, the newest batch's per
    (source, region, period, key): a month a child re-sent replaces its
    earlier copy here, it is not added to it."""
    qs = Row.objects.visible_to(actor).filter(kind__in=KINDS)
    if region_prefix:
        qs = qs.filter(region_code__startswith=region_prefix)
    if kind:
        qs = qs.filter(kind=kind)
    if keys is not None:
        qs = qs.filter(key__in=keys)
    if period_from:
        qs = qs.filter(period__gte=period_from)
    if period_to:
        qs = qs.filter(period__lte=period_to)
    # the batch for its id, sequence and date only: its payload is the whole
    # document received (decoding it for every row cost ~1 ms a row), and its
    # body the same document as sent, signed (read for each of 234 rows, it was
    # most of 统计分析's largest statement at demo scale 10)
    rows = (
        qs.select_related("peer", "batch")
        .defer("batch__payload", "batch__body")
        .order_by(
            "peer_id", "region_code", "period", "key", "-batch__received_at", "-batch__sequence"
        )
    )
    newest: dict[tuple[int, str, str, str, str], Row] = {}
    for row in rows:
        newest.setdefault((row.peer_id, row.kind, row.region_code, row.period, row.key), row)
    names = dict(
        Region.objects.filter(code__in={r.region_code for r in newest.values()}).values_list(
            "code", "name"
        )
    )
    return [
        ReceivedFigure(
            kind=row.kind,
            region_code=row.region_code,
            region_name=names.get(row.region_code, row.region_code),
            period=row.period,
            key=row.key,
            label=row.label,
            unit=row.unit,
            value=row.value,
            source_name=row.peer.name,
            source_id=str(row.peer.deployment_id),
            batch_id=str(row.batch.batch_id),
            batch_sequence=row.batch.sequence,
            received_at=row.batch.received_at,
            batch_url=reverse("exchange:inbound_detail", args=[row.batch.batch_id]),
        )
        for row in newest.values()
    ]
