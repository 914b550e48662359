"""What is on offer to a bank: the confirmed receivables it may finance and
the held vouchers it may discount.

`Receivable.visible_to(bank)` shows a bank every confirmed receivable of the
suppliers that authorised it and everything it finances — history included.
A bank's system asking "what can I finance now?" wants less: confirmed, with
an unfinanced balance left, not yet due, of a supplier that authorised it
(the consent `finance` itself checks). Vouchers a bank may discount are not
in `Voucher.visible_to(bank)` at all (a bank sees the nodes discounted with
it): the held, not matured nodes whose holder authorised it are offered to
it here, the same consent `discount_voucher` checks.
"""

from __future__ import annotations

from datetime import date

from django.db.models import Exists, F, OuterRef

from chanrong.registry.models import DataAuthorisation

from ..models import Receivable, Voucher, VoucherState
from ..permissions import bank_of
from .common import today_or


def _authorised(bank_id: int, enterprise_field: str):
    return Exists(
        DataAuthorisation.objects.filter(
            enterprise_id=OuterRef(enterprise_field),
            institution_id=bank_id,
            revoked_at__isnull=True,
        )
    )


def offered_receivables(actor, *, today: date | None = None):
    """The receivables a bank may finance today: confirmed, with an
    unfinanced confirmed balance, not yet due, of a supplier that has
    authorised it. Nothing for anyone but a bank's users."""
    bank_id = bank_of(actor)
    if bank_id is None:
        return Receivable.objects.none()
    return (
        Receivable.objects.visible_to(actor)
        .confirmed()
        .filter(_authorised(bank_id, "creditor_id"))
        .filter(confirmed_amount__gt=F("financed") + F("vouchered"))
        .filter(due_on__gte=today_or(today))
    )


def offered_vouchers(actor, *, today: date | None = None):
    """The voucher nodes a bank may discount today: held, not matured, whose
    holder has authorised it. Nothing for anyone but a bank's users."""
    bank_id = bank_of(actor)
    if bank_id is None:
        return Voucher.objects.none()
    return Voucher.objects.filter(
        _authorised(bank_id, "holder_id"),
        state=VoucherState.HELD,
        due_on__gt=today_or(today),
    )
