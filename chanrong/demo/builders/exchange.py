"""互联互通 in the demo: the demo deployment is 浙江省's platform. It reports
to the ministry's platform (工信部, its parent) and receives from two city
platforms (嘉兴市, 湖州市, its children): each child's financing statistics
per county and its computed indicator actuals for the last three months,
plus one pilot progress report; from its parent, one published 黑名单
version (the ministry's 涉企失信联合惩戒名单, nationwide); this deployment's
own batches to the ministry, all acknowledged but the newest, which is
waiting for its retry; and one refusal (an altered batch from 湖州).

Every received batch goes through the real receiving path: the demo peer
(whose key is derived from the seed) signs the envelope and
`exchange.services.inbox.receive` verifies it against the pinned key and
stores it — the delivery log, the figures per source, the parent's list as
a received registry list with its provenance (source platform, version,
batch), the peers' sequences and the audit entries are exactly those of
real traffic, and no refusal is logged for any of them. Only this
deployment's own outbound log and the one illustrative refusal are written
directly (bulk_create, no per-row audit).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from chanrong.core.codes import make_uscc
from chanrong.exchange.models import (
    BatchKind,
    DeliveryState,
    Identity,
    OutboundBatch,
    Peer,
    PeerRole,
    ReceivedFigure,
    Refusal,
)
from chanrong.exchange.services import collect, envelope, inbox

from .base import DemoContext, bulk_insert

NAME = "exchange"
MODELS = (
    "exchange.identity",
    "exchange.peer",
    "exchange.registrationcode",
    "exchange.outboundbatch",
    "exchange.inboundbatch",
    "exchange.receivedfigure",
    "exchange.refusal",
)

ZHEJIANG = "330000"
CHILDREN = (
    (
        "嘉兴市产融合作平台",
        "330400",
        ("330402", "330411", "330421", "330424", "330481", "330482", "330483"),
    ),
    ("湖州市产融合作平台", "330500", ("330502", "330503", "330521", "330522", "330523")),
)
SECTIONS = ("C", "F", "G", "I", "M")
SIZES = ("micro", "small", "medium", "large")
# Keys of the computed sources (insights.sources) a child's platform sends,
# the same as this deployment's: the dashboards set each beside its own.
INDICATORS = (
    ("platform.financing_amount", "平台融资记录", "元", Decimal(40_000_000), Decimal(260_000_000)),
    ("platform.financing_count", "平台融资记录笔数", "", Decimal(20), Decimal(160)),
    ("events.sessions", "已结束的对接活动场次", "", Decimal(1), Decimal(6)),
)


def _key(rng) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(rng.randbytes(32))


def _uuid(rng) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _months(ctx: DemoContext, count: int) -> list[str]:
    first = ctx.today.replace(day=1)
    months = []
    for _ in range(count):
        first = (first - timedelta(days=1)).replace(day=1)
        months.append(f"{first.year:04d}-{first.month:02d}")
    return list(reversed(months))


def _money(rng, low: int, high: int) -> Decimal:
    return Decimal(rng.randrange(low, high)) * 10_000


def _stats(rng, counties) -> list[dict]:
    rows = []
    for county in counties:
        for section in SECTIONS:
            for size in SIZES:
                demands = rng.randrange(0, 9)
                granted = rng.randrange(0, demands + 1)
                financings = rng.randrange(0, granted + 1)
                rows.append(
                    {
                        "region": county,
                        "section": section,
                        "size": size,
                        "demands": demands,
                        "demand_amount": collect.money(_money(rng, 50, 800) * demands),
                        "granted": granted,
                        "granted_amount": collect.money(_money(rng, 40, 600) * granted),
                        "financings": financings,
                        "financing_amount": collect.money(_money(rng, 40, 500) * financings),
                    }
                )
    return rows


def build(ctx: DemoContext) -> None:
    rng = ctx.rng("exchange")
    me_key = _key(rng)
    me = Identity(
        deployment_id=_uuid(rng),
        name="浙江省产融合作平台",
        region_code=ZHEJIANG,
        private_key=envelope.private_to_text(me_key),
        public_key=envelope.public_text(me_key),
    )
    bulk_insert(ctx, Identity, [me], "exchange.identity")
    ministry_key = _key(rng)
    ministry = Peer(
        role=PeerRole.PARENT,
        deployment_id=_uuid(rng),
        name="工信部产融合作平台",
        region_code="",
        base_url="https://cr.miit.example.gov.cn",
        public_key=envelope.public_text(ministry_key),
    )
    children = []
    for name, region, counties in CHILDREN:
        key = _key(rng)
        peer = Peer(
            role=PeerRole.CHILD,
            deployment_id=_uuid(rng),
            name=name,
            region_code=region,
            base_url="",
            public_key=envelope.public_text(key),
        )
        children.append((peer, key, counties))
    bulk_insert(ctx, Peer, [ministry, *(c[0] for c in children)], "exchange.peer")

    months = _months(ctx, 3)
    when = ctx.history_end - timedelta(days=60)
    for peer, key, counties in children:
        sequence = 0
        for period in months:
            start, end = collect.month_bounds(period)
            payloads = {
                BatchKind.FINANCING_STATS: {
                    "period_start": start.isoformat(),
                    "period_end": end.isoformat(),
                    "rows": _stats(rng, counties),
                },
                BatchKind.INDICATOR_ACTUALS: {
                    "period_start": start.isoformat(),
                    "period_end": end.isoformat(),
                    "figures": [
                        {
                            "key": k,
                            "label": label,
                            "unit": unit,
                            "kind": "period",
                            "value": collect.money(Decimal(rng.uniform(float(lo), float(hi))))
                            if unit
                            else str(rng.randrange(int(lo), int(hi))),
                        }
                        for k, label, unit, lo, hi in INDICATORS
                    ],
                },
            }
            for kind, payload in payloads.items():
                sequence += 1
                sent = max(when, ctx.history_end - timedelta(days=40)) + timedelta(hours=sequence)
                _receive(
                    ctx, rng, key, peer, me, sequence, kind, peer.region_code, period, payload, sent
                )
        peer.last_sequence = sequence
    # One pilot progress report from 嘉兴 (its 嘉善 pilot).
    peer, key, _counties = children[0]
    report = {
        "region": "330421",
        "year": ctx.today.year,
        "period": "H1",
        "summary": "深化产融合作试点：银企对接活动 6 场，新增白名单企业授信 12.4 亿元。",
        "problems": "首贷户拓展偏慢。",
        "next_steps": "扩大政府性融资担保覆盖。",
        "submitted_at": (ctx.history_end - timedelta(days=20)).isoformat(),
    }
    _receive(
        ctx,
        rng,
        key,
        peer,
        me,
        peer.last_sequence + 1,
        BatchKind.PILOT_PROGRESS,
        "330421",
        f"{ctx.today.year}-H1",
        report,
        ctx.history_end - timedelta(days=19),
    )
    # The ministry's 黑名单, pushed down to its children's platforms.
    day = (ctx.history_end - timedelta(days=15)).date()
    _receive(
        ctx,
        rng,
        ministry_key,
        ministry,
        me,
        1,
        BatchKind.LIST_VERSION,
        "",
        day.isoformat(),
        _ministry_blacklist(rng, day),
        ctx.history_end - timedelta(days=15, hours=-2),
    )
    ctx.counts["exchange.receivedfigure"] = ReceivedFigure.objects.count()

    # This deployment's own batches to the ministry.
    outbound = []
    sequence = 0
    for index, period in enumerate(months):
        for kind in (BatchKind.FINANCING_STATS, BatchKind.INDICATOR_ACTUALS):
            sequence += 1
            start, end = collect.month_bounds(period)
            payload = {
                "period_start": start.isoformat(),
                "period_end": end.isoformat(),
                "rows" if kind == BatchKind.FINANCING_STATS else "figures": [],
            }
            sent = ctx.history_end - timedelta(days=30 * (len(months) - index))
            signed = _sign(
                rng, me_key, me, ministry, sequence, kind, ZHEJIANG, period, payload, sent
            )
            newest = index == len(months) - 1 and kind == BatchKind.INDICATOR_ACTUALS
            outbound.append(
                OutboundBatch(
                    batch_id=signed["batch_id"],
                    peer=ministry,
                    sequence=sequence,
                    kind=kind,
                    region_code=ZHEJIANG,
                    period=period,
                    source_ref=f"{kind}:{period}",
                    body=envelope.canonical(signed).decode(),
                    state=DeliveryState.RETRYING if newest else DeliveryState.DELIVERED,
                    attempts=2 if newest else 1,
                    next_attempt_at=ctx.history_end + timedelta(minutes=5) if newest else None,
                    last_error="ConnectionError: 上级平台暂时无法连接" if newest else "",
                    acknowledged_at=None if newest else sent + timedelta(seconds=2),
                )
            )
    Peer.objects.filter(pk=ministry.pk).update(next_sequence=sequence + 1)
    bulk_insert(ctx, OutboundBatch, outbound, "exchange.outboundbatch")
    refusal = Refusal(
        peer=children[1][0],
        claimed_sender=str(children[1][0].deployment_id),
        batch_id=str(_uuid(rng)),
        endpoint="batches",
        code="tampered",
        message="the signature does not match the content (altered in transit?)",
        remote_addr="10.33.5.20",
        size=4312,
    )
    bulk_insert(ctx, Refusal, [refusal], "exchange.refusal")


def _ministry_blacklist(rng, day) -> dict:
    """A nationwide 黑名单 version: two enterprises on this platform that
    have never published a demand (so no demo docking changes) and are on no
    list of this platform (an enterprise on a 红名单 or 白名单 must not also be
    on a 黑名单; which enterprises sort first by USCC depends on the database's
    collation and the build day, so this is said, not left to chance), and two
    that are not on the platform (kept on the version as unmatched, as real
    lists are)."""
    from chanrong.demands.models import Demand
    from chanrong.registry.models import Enterprise, ListEntry

    with_demands = Demand.objects.values("enterprise_id")
    listed = ListEntry.objects.filter(enterprise__isnull=False).values("enterprise_id")
    candidates = list(
        Enterprise.objects.filter(region__code__startswith="33")
        .exclude(pk__in=with_demands)
        .exclude(pk__in=listed)
        .exclude(users__isnull=False)
        .order_by("uscc")
        .values_list("uscc", "name")[:200]
    )
    chosen = sorted(rng.sample(candidates, min(2, len(candidates))))
    outside = [
        (make_uscc(f"91{region}{rng.randrange(10**9):09d}"), name)
        for region, name in (
            ("440300", "深圳某电子科技有限公司"),
            ("110108", "北京某信息技术有限公司"),
        )
    ]
    return {
        "list": {
            "type": "black",
            "name": "涉企失信联合惩戒名单",
            "sector": "",
            "region": "",
            "agency": "工业和信息化部",
        },
        "version": {
            "number": 1,
            "effective_from": day.isoformat(),
            "published_at": f"{day.isoformat()}T09:00:00+08:00",
            "note": "全国共享，各地互认",
        },
        "entries": [{"uscc": u, "name": n, "project": None} for u, n in [*chosen, *outside]],
    }


def _sign(rng, key, sender, recipient, sequence, kind, region, period, payload, sent) -> dict:
    document = {
        "format_version": envelope.FORMAT_VERSION,
        "batch_id": str(_uuid(rng)),
        "sequence": sequence,
        "sender": str(sender.deployment_id),
        "recipient": str(recipient.deployment_id),
        "created_at": sent.isoformat(timespec="seconds"),
        "kind": str(kind),
        "region": region,
        "period": period,
        "payload": payload,
    }
    return envelope.sign(document, key)


def _receive(ctx, rng, key, peer, me, sequence, kind, region, period, payload, sent) -> None:
    """The peer signs, this deployment receives it as it would over HTTP."""
    signed = _sign(rng, key, peer, me, sequence, kind, region, period, payload, sent)
    inbox.receive(envelope.canonical(signed))
    ctx.counts["exchange.inboundbatch"] = ctx.counts.get("exchange.inboundbatch", 0) + 1
