"""担保方式 of a loan (信用 / 保证 / 抵押 / 质押): the fact behind 信用贷 vs
担保类 statistics (services.groups).

A loan that came through the platform takes it from the product of the
offer the enterprise accepted — the rule, in order:

1. the product's kind says it: 信用贷 and 税易贷 → 信用, 抵押贷 → 抵押,
   质押贷 → 质押, 担保贷 → 保证;
2. otherwise (订单贷, 科创贷, 绿色信贷 …) a product that requires collateral
   is 质押 when the demand offered only pledge kinds (finance.PLEDGE_KINDS:
   应收账款, 知识产权, 仓单, 股权, 排污权, 存单), 抵押 otherwise; one that lists
   guarantee options and requires no collateral is 保证; one that asks for
   neither is 信用;
3. no accepted offer or no product: blank (未报送) until the bank reports it.

A bank reports it for its off-platform loans (form, bulk API, import) and
may correct it on any loan of its own (`report_collateral`, audited).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from chanrong.core import audit
from chanrong.core.errors import FieldError, NotAllowed, ValidationFailed

from .. import permissions as perms
from ..models import Collateral, LoanAccount

_BY_PRODUCT_KIND = {
    "credit": Collateral.CREDIT,
    "tax": Collateral.CREDIT,
    "mortgage": Collateral.MORTGAGE,
    "pledge": Collateral.PLEDGE,
    "guaranteed": Collateral.GUARANTEE,
}

#: What people type for each kind (import cells, API strings are the codes).
ALIASES = {
    "信用": Collateral.CREDIT,
    "信用贷款": Collateral.CREDIT,
    "保证": Collateral.GUARANTEE,
    "担保": Collateral.GUARANTEE,
    "保证贷款": Collateral.GUARANTEE,
    "抵押": Collateral.MORTGAGE,
    "抵押贷款": Collateral.MORTGAGE,
    "质押": Collateral.PLEDGE,
    "质押贷款": Collateral.PLEDGE,
}


def collateral_of_demand(demand) -> str:
    """The 担保方式 of a platform loan, from its accepted offer's product (rule above)."""
    from chanrong.finance.models import PLEDGE_KINDS

    offer = getattr(demand, "accepted_offer", None)
    product = getattr(offer, "product", None) if offer is not None else None
    if product is None:
        return ""
    by_kind = _BY_PRODUCT_KIND.get(product.kind)
    if by_kind:
        return by_kind
    if product.collateral_required:
        offered = set(demand.collateral_offered or ())
        pledges = {str(kind) for kind in PLEDGE_KINDS}
        return Collateral.PLEDGE if offered and offered <= pledges else Collateral.MORTGAGE
    if product.guarantee_options:
        return Collateral.GUARANTEE
    return Collateral.CREDIT


def parse_collateral(
    data: dict[str, Any], errors: list[FieldError], prefix: str = "", *, required: bool = False
) -> str:
    """The `collateral` field of a report: a code or its Chinese name; blank
    allowed unless `required`."""
    raw = data.get("collateral")
    value = "" if raw is None else str(raw).strip()
    if not value:
        if required:
            errors.append(FieldError(f"{prefix}collateral", _("必填")))
        return ""
    if value in Collateral.values:
        return value
    if value in ALIASES:
        return ALIASES[value]
    errors.append(
        FieldError(
            f"{prefix}collateral",
            _("应为 credit、guarantee、mortgage 或 pledge（信用、保证、抵押、质押）"),
        )
    )
    return ""


def report_collateral(actor, loan: LoanAccount, data: dict[str, Any]) -> LoanAccount:
    """The lending bank reports (or corrects) the 担保方式 of one of its loans."""
    if not perms.is_lender(actor, loan):
        raise NotAllowed(_("只有贷款机构可以报送该笔贷款的情况"))
    errors: list[FieldError] = []
    value = parse_collateral(data, errors, required=True)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        locked = LoanAccount.objects.select_for_update().get(pk=loan.pk)
        before = locked.collateral
        if before != value:
            locked.collateral = value
            locked.save(update_fields=["collateral", "updated_at"])
            audit.record(
                "risk.loan.collateral",
                actor=actor,
                obj=locked,
                changes={"collateral": [before, value]},
            )
    loan.refresh_from_db()
    return loan
