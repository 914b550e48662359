"""The supply-chain facts finance's product eligibility reads.

finance sits below this app and may not import it, so it exposes a provider
registry (`finance.supply`); `SupplychainConfig.ready()` registers
`PROVIDER` there. Each method answers for many enterprises in a few
queries (the matching adapter asks for thousands at once).

What counts as held, on `day`:

- receivable / gov_procurement: the confirmed amount not yet backing
  financing or vouchers (`confirmed_amount − financed − vouchered`) of the
  enterprise's confirmed or partly confirmed receivables of that kind that
  are not yet due (`due_on ≥ day`: a bank finances only until the due
  date, as `services.finance` does);
- voucher: the face of the voucher nodes it holds, not discounted, before
  their due date (splits and discounts are refused from the due date on).

Chains: those the enterprise is a member of, and those it leads (链主).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from django.db.models import F, Sum

from chanrong.finance.eligibility import Holdings

from .models import (
    CONFIRMED_STATE_VALUES,
    Chain,
    ChainMember,
    Receivable,
    ReceivableKind,
    Voucher,
    VoucherState,
)

CHUNK = 5000


def _chunks(values: Sequence[int]):
    for i in range(0, len(values), CHUNK):
        yield values[i : i + CHUNK]


class SupplyChainFacts:
    """Implements finance.supply.SupplyProvider from this app's tables."""

    def holdings(self, enterprise_ids: Sequence[int], day: date) -> dict[int, Holdings]:
        amounts: dict[int, dict[str, Decimal]] = defaultdict(dict)
        ids = sorted({int(e) for e in enterprise_ids if e is not None})
        for chunk in _chunks(ids):
            rows = (
                Receivable.objects.filter(
                    creditor_id__in=chunk, state__in=CONFIRMED_STATE_VALUES, due_on__gte=day
                )
                .values_list("creditor_id", "kind")
                .annotate(free=Sum(F("confirmed_amount") - F("financed") - F("vouchered")))
                .order_by()
            )
            for eid, kind, free in rows:
                key = "gov_procurement" if kind == ReceivableKind.GOV_PROCUREMENT else "receivable"
                amounts[eid][key] = amounts[eid].get(key, Decimal(0)) + (free or Decimal(0))
            held = (
                Voucher.objects.filter(holder_id__in=chunk, state=VoucherState.HELD, due_on__gt=day)
                .values_list("holder_id")
                .annotate(total=Sum("amount"))
                .order_by()
            )
            for eid, total in held:
                amounts[eid]["voucher"] = total or Decimal(0)
        return {
            eid: Holdings(**{k: Decimal(v).quantize(Decimal("0.01")) for k, v in kinds.items()})
            for eid, kinds in amounts.items()
        }

    def chains(self, enterprise_ids: Sequence[int]) -> dict[int, frozenset[int]]:
        out: dict[int, set[int]] = defaultdict(set)
        ids = sorted({int(e) for e in enterprise_ids if e is not None})
        for chunk in _chunks(ids):
            for eid, chain_id in ChainMember.objects.filter(enterprise_id__in=chunk).values_list(
                "enterprise_id", "chain_id"
            ):
                out[eid].add(chain_id)
            for chain_id, lead_id in Chain.objects.filter(lead_id__in=chunk).values_list(
                "pk", "lead_id"
            ):
                out[lead_id].add(chain_id)
        return {eid: frozenset(chains) for eid, chains in out.items()}

    def chain_names(self, chain_ids: Sequence[int]) -> dict[int, str]:
        return dict(Chain.objects.filter(pk__in=list(chain_ids)).values_list("pk", "name"))

    def chain_choices(self) -> list[tuple[int, str]]:
        return [
            (pk, f"{region} {name}")
            for pk, name, region in Chain.objects.order_by("region_id", "name", "pk").values_list(
                "pk", "name", "region__name"
            )
        ]


PROVIDER = SupplyChainFacts()
