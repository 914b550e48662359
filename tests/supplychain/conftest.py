"""A core enterprise on 嘉善's 应收账款核心企业名单, and helpers that build
receivables, financing and vouchers through the services.

`sc` extends the shared `world`: `core` (嘉善新能源汽车, user `core_user`)
is on a RECEIVABLES_CORE list in force since a month before `TODAY`; the
shared `world.ent` (user `ent_user`) is its tier-1 supplier and has
authorised the first bank (the shared fixture's DataAuthorisation);
`world.ent2` (user `ent2_user`) supplies `ent`. Services are called with
`today=TODAY` so that dates never depend on the day the tests run.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from chanrong.accounts.models import Role
from chanrong.registry.models import (
    DataAuthorisation,
    Enterprise,
    EnterpriseList,
    EntryChange,
    ListEntry,
    ListType,
    ListVersion,
    VersionStatus,
)
from chanrong.supplychain import services
from chanrong.supplychain.models import Financing, Receivable, Voucher
from tests.conftest import JIASHAN, World, _enterprise, _user

TODAY = date(2026, 6, 1)
_serial = itertools.count(1)


@dataclass
class SupplyWorld:
    world: World
    core: Enterprise

    def user(self, name: str):
        return self.world.users[name]


def put_on_core_list(world: World, *enterprises: Enterprise, since: date | None = None):
    """A published 应收账款核心企业名单 of 嘉善县经信局 with `enterprises`,
    in force from `since` (default a month before TODAY)."""
    lst = EnterpriseList.objects.create(
        list_type=ListType.RECEIVABLES_CORE,
        name=f"嘉善县应收账款核心企业名单 {next(_serial)}",
        agency=world.gov_jiashan,
        region_id=JIASHAN,
    )
    version = ListVersion.objects.create(list=lst, number=1)
    for enterprise in enterprises:
        ListEntry.objects.create(version=version, enterprise=enterprise, change=EntryChange.ADDED)
    ListVersion.objects.filter(pk=version.pk).update(
        status=VersionStatus.PUBLISHED,
        effective_from=since or TODAY - timedelta(days=30),
        published_at=timezone.now(),
    )
    return version


@pytest.fixture
def sc(world) -> SupplyWorld:
    core = _enterprise("嘉善新能源汽车股份有限公司", JIASHAN, "C36", 11)
    world.users["core_user"] = _user("core_user", Role.ENTERPRISE_USER, enterprise=core)
    put_on_core_list(world, core)
    return SupplyWorld(world, core)


def invoice() -> dict[str, str]:
    """A fresh, well-formed 增值税发票 (10-digit code, 8-digit number)."""
    return {"code": "3300261130", "number": f"{next(_serial):08d}"}


def digital_invoice() -> str:
    """A fresh 20-digit 数电票 number."""
    return f"2633{next(_serial):016d}"


def receivable_data(sc: SupplyWorld, **over: Any) -> dict[str, Any]:
    data = {
        "debtor_uscc": sc.core.uscc,
        "contract_no": f"HT-2026-{next(_serial):04d}",
        "amount": "1000000.00",
        "issued_on": TODAY - timedelta(days=10),
        "due_on": TODAY + timedelta(days=90),
        "invoices": [invoice()],
    }
    data.update(over)
    return data


def register(sc: SupplyWorld, user: str = "ent_user", **over: Any) -> Receivable:
    return services.register_receivable(sc.user(user), receivable_data(sc, **over), today=TODAY)


def confirmed(
    sc: SupplyWorld, amount: str = "1000000.00", part: str | None = None, **over
) -> Receivable:
    """A receivable of `ent` on `core`, confirmed by `core_user` (in full, or `part`)."""
    receivable = register(sc, amount=amount, **over)
    return services.confirm(sc.user("core_user"), receivable, part, today=TODAY)


def finance_data(**over: Any) -> dict[str, Any]:
    data = {
        "mode": "factoring_recourse",
        "advance_ratio": "80",
        "amount": "800000.00",
        "registration_no": f"0693{next(_serial):016d}",
        "contract_no": f"BL-2026-{next(_serial):04d}",
    }
    data.update(over)
    return data


def finance(sc: SupplyWorld, receivable: Receivable, user: str = "bank_staff", **over) -> Financing:
    return services.finance(sc.user(user), receivable, finance_data(**over), today=TODAY)


def authorise(enterprise: Enterprise, institution) -> None:
    DataAuthorisation.objects.get_or_create(
        enterprise=enterprise, institution=institution, revoked_at=None
    )


def issued(sc: SupplyWorld, amount: str = "1000000.00", **over) -> Voucher:
    """A voucher of `core` to `ent` for the whole of a confirmed payable."""
    receivable = confirmed(sc, amount=amount)
    return services.issue_voucher(sc.user("core_user"), receivable, over, today=TODAY)


def money(value: str) -> Decimal:
    return Decimal(value)
