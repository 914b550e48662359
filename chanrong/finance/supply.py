"""Supply-chain facts for product eligibility, supplied by a higher app.

A product may require the enterprise to hold a confirmed receivable, a
digital payables voucher or a 政采 contract, or to be on a given industry
chain (`eligibility.ProductConditions.required_holdings` / `chain`). Those
facts live in the supplychain app, which sits above finance in the layers
contract: finance may not import it. So finance exposes this registry and
supplychain registers its provider in `SupplychainConfig.ready()` (the same
pattern as `demands.ranking.set_dispatch_ranker`).

Without a provider every such fact is unknown (None): a product with the
condition then reports "需补充：…" instead of failing or passing anyone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Protocol

from .eligibility import Holdings


class SupplyProvider(Protocol):
    def holdings(self, enterprise_ids: Sequence[int], day: date) -> dict[int, Holdings]:
        """Holdings of each enterprise on `day` (absent = holds nothing)."""

    def chains(self, enterprise_ids: Sequence[int]) -> dict[int, frozenset[int]]:
        """Ids of the chains each enterprise is on, as member or 链主 (absent = none)."""

    def chain_names(self, chain_ids: Sequence[int]) -> dict[int, str]:
        """{chain id: name} for the chains that exist among `chain_ids`."""

    def chain_choices(self) -> list[tuple[int, str]]:
        """Every chain a product may be limited to, as (id, label), for forms."""


_provider: SupplyProvider | None = None


def set_supply_provider(provider: SupplyProvider | None) -> None:
    global _provider
    _provider = provider


def supply_provider() -> SupplyProvider | None:
    return _provider


def holdings_for(enterprise_ids: Sequence[int], day: date) -> dict[int, Holdings] | None:
    """{enterprise pk: Holdings} for every id asked (zero when it holds
    nothing), or None when no provider is registered (unknown)."""
    if _provider is None:
        return None
    found = _provider.holdings(list(enterprise_ids), day)
    return {eid: found.get(eid, Holdings()) for eid in enterprise_ids}


def chains_for(enterprise_ids: Sequence[int]) -> dict[int, frozenset[int]] | None:
    """{enterprise pk: chain ids} for every id asked, or None without a provider."""
    if _provider is None:
        return None
    found = _provider.chains(list(enterprise_ids))
    return {eid: frozenset(found.get(eid, ())) for eid in enterprise_ids}


def chain_names(chain_ids: Sequence[int]) -> dict[int, str]:
    """Names of existing chains; empty without a provider."""
    ids = sorted({int(c) for c in chain_ids if c})
    if _provider is None or not ids:
        return {}
    return _provider.chain_names(ids)


def chain_choices() -> list[tuple[int, str]]:
    """(id, label) of the chains a product may name; empty without a provider."""
    return [] if _provider is None else list(_provider.chain_choices())
