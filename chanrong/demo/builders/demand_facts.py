"""An enterprise's eligibility facts for the demand stories, once per demand.

The demands builder evaluates every product against the enterprise's facts
on the day each demand is published: finance.services.enterprise_facts,
eight compiled queries a demand (a seventh of the scale-1 build). This reads
the same facts through matching's bulk path (`enterprise_facts_bulk`, a few
prepared statements for one pair; matching's tests hold it equal to the
service), and reads once, for all enterprises, what has no day or cannot
change while the stories are told:

- the 碳效等级 (finance.carbon): the latest grade, no day; the green builder
  wrote the grades before this one and nothing here writes them;
- the supply-chain facts (finance.supply): while the supply-chain tables are
  empty — they are here, their builder runs later — every enterprise holds
  nothing (zero Holdings) and belongs to no chain, exactly what
  finance.supply answers for an enterprise without rows. When they are not
  empty, finance.supply is asked per demand as before.

tests/demo/test_bulk_paths.py compares `facts` with the service, with
supply-chain rows and without.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date

from chanrong.finance import carbon, supply
from chanrong.finance import eligibility as el
from chanrong.matching.adapter import enterprise_facts_bulk
from chanrong.supplychain.models import Chain, ChainMember, Receivable, Voucher


class FactsReader:
    """`facts(pk, day)` == finance.services.enterprise_facts(enterprise, today=day).

    Built with the enterprise ids the stories may ask about (read ahead), or
    with None (everything read per call)."""

    def __init__(self, enterprise_ids: Sequence[int] | None):
        self.read_ahead = enterprise_ids is not None
        self.carbon_grades: dict[int, int | None] | None = None
        self.supply_empty = False
        if enterprise_ids is None:
            return
        self.carbon_grades = carbon.grades_for(list(enterprise_ids))
        self.supply_empty = supply.supply_provider() is not None and not any(
            model.objects.exists() for model in (Chain, ChainMember, Receivable, Voucher)
        )

    def facts(self, enterprise_id: int, day: date) -> el.EnterpriseFacts:
        if not self.read_ahead:
            return enterprise_facts_bulk([(enterprise_id, day)])[0]
        facts = enterprise_facts_bulk(
            [(enterprise_id, day)], supply_facts=not self.supply_empty, carbon_facts=False
        )[0]
        known: dict = {}
        if self.carbon_grades is not None:  # None: no provider, and the facts say unknown
            known["carbon_grade"] = self.carbon_grades.get(enterprise_id)
        if self.supply_empty:
            known.update(holdings=el.Holdings(), chains=frozenset())
        return dataclasses.replace(facts, **known) if known else facts
