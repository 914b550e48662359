"""The demo's supply-chain papers and discount applications, built at the end
of `supplychain.build` (it passes its World):

- **Attachments.** Every receivable of ent_user's enterprise, and about half
  of the others, carries its 合同 and 发票扫描件 (confirmed ones also a
  送货单); a registered one carries only its contract, so the supplier still
  has something to add before 确权. The files are tiny real PDFs (they pass
  the same content check as uploads) stored under names derived from the
  contract number, so a rebuild overwrites rather than accumulates them.
- **Discount applications.** ent_user's enterprise applies to 嘉善农商行
  (bank_staff) to discount part of the voucher node it still holds: pending,
  so both pages show it waiting. Another supplier's application to a bank it
  authorised is declined with a reason, and a third is accepted (recorded as
  a discount through the services, so its tree still sums).

Deterministic by seed: choices from this module's own random stream, dates
from the build day.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, time, timedelta
from decimal import ROUND_DOWN, Decimal
from zoneinfo import ZoneInfo

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from chanrong.supplychain import services
from chanrong.supplychain.models import (
    DiscountApplication,
    Receivable,
    ReceivableAttachment,
    ReceivableState,
    Voucher,
    VoucherState,
)

from .pilots import _pdf

STREAM = "supplychain_documents"
TZ = ZoneInfo("Asia/Shanghai")
WAN = Decimal(10000)
KINDS = (("contract", "合同"), ("invoice", "发票扫描件"), ("delivery", "送货单"))


def build(world) -> None:
    rng = world.ctx.rng(STREAM)
    _attachments(world, rng)
    _applications(world, rng)
    counts = world.ctx.counts
    counts["supplychain_attachments"] = ReceivableAttachment.objects.count()
    counts["supplychain_discount_applications"] = DiscountApplication.objects.count()


def _attachments(world, rng) -> None:
    ent = world.ctx.refs["demo_enterprises"][0]
    rows = []
    for receivable in Receivable.objects.order_by("contract_no"):
        if receivable.creditor_id != ent.pk and rng.random() < 0.5:
            continue
        if receivable.state == ReceivableState.REGISTERED:
            kinds = KINDS[:1]
        elif receivable.state in (ReceivableState.CONFIRMED, ReceivableState.PARTLY_CONFIRMED):
            kinds = KINDS
        else:
            kinds = KINDS[:2]
        for kind, label in kinds:
            slug = f"{receivable.contract_no}-{kind}"
            content = _pdf(f"chanrong demo: {slug}")
            name = f"supplychain/demo/{slug}.pdf"
            if default_storage.exists(name):
                default_storage.delete(name)
            default_storage.save(name, ContentFile(content))
            rows.append(
                ReceivableAttachment(
                    receivable=receivable,
                    kind=kind,
                    file=name,
                    original_name=f"{receivable.contract_no} {label}.pdf",
                    file_type="pdf",
                    size=len(content),
                    sha256=hashlib.sha256(content).hexdigest(),
                    uploaded_by=world.users.get(receivable.creditor_id),
                )
            )
    ReceivableAttachment.objects.bulk_create(rows)
    for row in ReceivableAttachment.objects.select_related("receivable").order_by("pk"):
        ReceivableAttachment.objects.filter(pk=row.pk).update(
            uploaded_at=_moment(rng, min(row.receivable.issued_on + timedelta(days=1), world.today))
        )


def _moment(rng, day: date) -> datetime:
    """A working-hours time on `day` (from this module's stream, so the
    supply-chain builder's own draws are untouched)."""
    return datetime.combine(day, time(9 + rng.randint(0, 7), rng.randint(0, 59)), TZ)


def _held(world, enterprise_id: int):
    return (
        Voucher.objects.filter(
            holder_id=enterprise_id, state=VoucherState.HELD, due_on__gt=world.today
        )
        .order_by("pk")
        .first()
    )


def _applications(world, rng) -> None:
    """A pending one of ent_user's enterprise, one declined, one accepted."""
    today = world.today
    institutions = world.ctx.refs["institutions"]
    ent = world.ctx.refs["demo_enterprises"][0]
    made: list[DiscountApplication] = []
    node = _held(world, ent.pk)
    if node is not None and world.authorised.get(ent.pk):
        key = world.authorised[ent.pk][0]
        amount = (node.amount * Decimal(rng.choice((40, 50, 60))) / 100).quantize(
            WAN, rounding=ROUND_DOWN
        )
        made.append(
            services.apply_for_discount(
                world.users[ent.pk],
                node,
                {"bank": institutions[key].pk, "amount": amount, "note": "补充流动资金"},
                today=today,
            )
        )
    others = sorted(
        {
            v.holder_id
            for v in Voucher.objects.filter(state=VoucherState.HELD, due_on__gt=today)
            if v.holder_id != ent.pk and world.authorised.get(v.holder_id)
        }
    )
    for index, holder_id in enumerate(others[:2]):
        node = _held(world, holder_id)
        key = world.authorised[holder_id][0]
        application = services.apply_for_discount(
            world.users[holder_id], node, {"bank": institutions[key].pk}, today=today
        )
        bank_user = world.bank_users[key]
        if index == 0:
            services.decline_discount_application(
                bank_user, application, "该凭证剩余期限较短，本行暂不办理"
            )
        else:
            services.accept_discount_application(
                bank_user,
                application,
                {
                    "discount_rate": Decimal("3.05"),
                    "contract_no": f"TX-{today.year}-{world.next():04d}",
                },
                today=today,
            )
        made.append(application)
    for application in made:
        # The services stamped the clock's time; the story's is the build day or before.
        DiscountApplication.objects.filter(pk=application.pk).update(
            created_at=_moment(rng, today - timedelta(days=rng.randint(1, 5)))
        )
        DiscountApplication.objects.filter(pk=application.pk, decided_at__isnull=False).update(
            decided_at=_moment(rng, today)
        )


def digest_rows():
    yield (
        "supplychain_attachments",
        ReceivableAttachment.objects.order_by("receivable__contract_no", "kind").values_list(
            "receivable__contract_no", "kind", "original_name", "size", "sha256"
        ),
    )
    yield (
        "supplychain_discount_applications",
        # Not the voucher's number: it carries primary keys.
        DiscountApplication.objects.order_by(
            "voucher__receivable__contract_no", "holder__uscc", "bank__name", "amount"
        ).values_list(
            "voucher__receivable__contract_no",
            "holder__uscc",
            "bank__name",
            "amount",
            "state",
            "decline_reason",
        ),
    )
