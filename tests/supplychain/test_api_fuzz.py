"""Schemathesis over the supply-chain operations (/api/v1/supplychain)
against a live server with supply-chain data in it (the whole-schema run in
tests/api/test_schemathesis.py covers them too, but on an empty app, so that
nearly every id it tries is a 404).

Sequences restart at 1 for each test, so the ids schemathesis tries first
(1, 2 …) name real rows: a chain with a member and a measure, receivables
registered, confirmed, partly confirmed and disputed, a financing, a voucher
split once and partly discounted, an attachment on the registered receivable
and a pending discount application of the holder. Callers: the core enterprise (debtor and
issuer), its supplier, the supplier's bank, and nobody. No 5xx, answers as
documented, bad input refused. Examples per operation as in the policy fuzz
runs, or fewer: the operations are many and CI's time is not.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import schemathesis
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from hypothesis import HealthCheck, settings

from chanrong.accounts.services import create_token
from chanrong.supplychain import services
from chanrong.supplychain.models import Voucher, VoucherState
from tests import fuzzing
from tests.api.test_schemathesis import CHECKS, openapi_document

from .conftest import invoice

SUPPLYCHAIN = r"^/api/v1/supplychain/"
MAX_EXAMPLES = 15

schema = schemathesis.openapi.from_dict(openapi_document()).include(path_regex=SUPPLYCHAIN)
fuzzing.configure(schema, MAX_EXAMPLES)  # phases per database: tests/fuzzing.py

pytestmark = [
    pytest.mark.django_db(transaction=True, reset_sequences=True),
    fuzzing.ON_POSTGRES_ONLY,
]


@pytest.fixture
def headers(live_server, sc, settings, tmp_path) -> list[dict[str, str]]:
    settings.MEDIA_ROOT = tmp_path / "media"
    world = sc.world
    today = timezone.localdate()
    core, ent = sc.user("core_user"), sc.user("ent_user")
    chain = services.create_chain(core, {"name": "新能源汽车零部件"})
    services.add_member(core, chain, {"enterprise": world.ent.pk, "role": "supplier", "tier": 1})
    services.add_measure(core, chain, {"text": "确权后三日内付款"}, today=today)

    def receivable(no: str, amount: str = "1000000.00"):
        data = {
            "debtor_uscc": sc.core.uscc,
            "contract_no": no,
            "amount": amount,
            "issued_on": today - timedelta(days=10),
            "due_on": today + timedelta(days=90),
            "invoices": [invoice()],
        }
        return services.register_receivable(ent, data, today=today)

    financed = services.confirm(core, receivable("F-1"), today=today)
    services.finance(
        world.user("bank_staff"),
        financed,
        {
            "mode": "pledge",
            "advance_ratio": "80",
            "amount": "400000.00",
            "backing": "500000.00",
            "registration_no": "06930000000000000001",
            "contract_no": "BL-1",
        },
        today=today,
    )
    payable = services.confirm(core, receivable("V-1"), today=today)
    root = services.issue_voucher(core, payable, {"amount": "600000.00"}, today=today)
    to_ent2, kept = services.split_voucher(
        ent, root, [{"holder": world.ent2.pk, "amount": "200000.00"}], today=today
    )
    services.discount_voucher(
        world.user("bank_staff"),
        kept,
        {"amount": "100000.00", "discount_rate": "3.2", "contract_no": "TX-1"},
        today=today,
    )
    services.confirm(core, receivable("P-1"), "300000.00", today=today)
    services.dispute(core, receivable("D-1"), "货物质量问题")
    services.add_attachment(
        ent, receivable("R-1"), "contract", SimpleUploadedFile("合同.pdf", b"%PDF-1.4\n%%EOF\n")
    )
    held = Voucher.objects.filter(holder=world.ent, state=VoucherState.HELD).first()
    services.apply_for_discount(ent, held, {"bank": world.bank.pk}, today=today)
    return [
        {"Authorization": f"Bearer {create_token(None, sc.user(name), 'fuzz').raw}"}
        for name in ("core_user", "ent_user", "bank_staff")
    ] + [{}]


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_supplychain_operations_never_fail(case, live_server, headers):
    for caller in headers:
        case.call_and_validate(base_url=live_server.url, headers=caller, checks=CHECKS, timeout=30)
