"""Green loans and green-rights pledges on the loan book (issue 18).

- `green_category`: the 绿色产业指导目录 (2019) item a loan finances, as the
  lending bank reports it — a dotted code of one to three levels whose first
  digit is one of the six 大类 ("3", "3.2", "3.2.1"), and that is an item or
  category of a loaded edition of the catalogue. The catalogue lives in the
  green app, which risk never imports: the check goes through
  `finance.green_catalogue`, which green fills (form only when no edition is
  loaded).
- pledges of 碳排放权, 用能权, 排污权 (models.pledges), each with its
  registration number (non-empty, at most 64 characters, letters, digits and
  the separators registries print: - _ / . ( ) 〔 〕 号 and CJK) and the
  registering authority (non-empty, at most 100 characters); a number already
  pledged for the same kind to a live loan is refused (why: models.pledges).

A bank gives them with the loan (form, bulk API, import: `pledges` as a list,
or one pledge as the flat columns pledge_kind / pledge_registration_no /
pledge_authority / pledge_value) or adds them later to a live loan of its own
(`add_pledge`, `report_green`); every write is audited.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from chanrong.core import audit
from chanrong.core.errors import Conflict, FieldError, NotAllowed, ValidationFailed
from chanrong.finance.green_catalogue import green_code_known

from .. import permissions as perms
from ..models import GREEN_RIGHT_CHOICES, GreenPledge, LoanAccount, LoanStatus
from ..models.pledges import REGISTRATION_MAX
from .fields import parse_date, parse_money, text

CATEGORY_RE = re.compile(r"^[1-6](\.[1-9]\d?){0,2}$")
REGISTRATION_RE = re.compile(r"^[0-9A-Za-z\u4e00-\u9fff\-_/.()（）〔〕\[\]【】#]+$")
KINDS = {value for value, _label in GREEN_RIGHT_CHOICES}
#: What people type for each kind (import cells and forms; the API takes the codes).
ALIASES = {str(label): value for value, label in GREEN_RIGHT_CHOICES} | {
    "碳排放权质押": "carbon_rights",
    "用能权质押": "energy_rights",
    "排污权质押": "pollutant_rights",
}
FLAT = ("pledge_kind", "pledge_registration_no", "pledge_authority", "pledge_value")


@dataclass(frozen=True)
class PledgeFacts:
    kind: str
    registration_no: str
    authority: str
    value: Decimal | None = None
    registered_on: Any = None


def parse_green_category(data: dict[str, Any], errors: list[FieldError], prefix: str = "") -> str:
    raw = data.get("green_category")
    value = "" if raw is None else str(raw).strip()
    if value and not CATEGORY_RE.match(value):
        errors.append(
            FieldError(
                f"{prefix}green_category",
                _("应为绿色产业指导目录（2019年版）的类别编号，如 3 或 3.2 或 3.2.1"),
            )
        )
        return ""
    if value and green_code_known(value) is False:
        errors.append(
            FieldError(
                f"{prefix}green_category",
                _("绿色产业指导目录中没有类别 %(code)s，请核对编号") % {"code": value},
            )
        )
        return ""
    return value


def _pledge(data: dict[str, Any], errors: list[FieldError], prefix: str) -> PledgeFacts | None:
    before = len(errors)
    raw = data.get("kind")
    kind = "" if raw is None else str(raw).strip()
    kind = ALIASES.get(kind, kind)
    if not kind:
        errors.append(FieldError(f"{prefix}kind", _("必填")))
    elif kind not in KINDS:
        errors.append(
            FieldError(
                f"{prefix}kind",
                _(
                    "应为 carbon_rights、energy_rights 或 pollutant_rights（碳排放权、用能权、排污权）"
                ),
            )
        )
    number = text(
        data, "registration_no", errors, prefix, required=True, max_length=REGISTRATION_MAX
    )
    if number and len(number) <= REGISTRATION_MAX and not REGISTRATION_RE.match(number):
        errors.append(
            FieldError(f"{prefix}registration_no", _("登记编号只能含文字、字母、数字和 -_/.()〔〕"))
        )
    authority = text(data, "authority", errors, prefix, required=True, max_length=100)
    value = parse_money(data, "value", errors, prefix, positive=True)
    registered_on = parse_date(data, "registered_on", errors, prefix)
    if len(errors) > before:
        return None
    return PledgeFacts(kind, number, authority, value, registered_on)


def parse_pledges(
    data: dict[str, Any], errors: list[FieldError], prefix: str = ""
) -> tuple[PledgeFacts, ...]:
    """The pledges of one loan report: `pledges` (a list of objects) or the
    flat pledge_* columns of an import row / a form; duplicates within the
    report are refused."""
    found: list[PledgeFacts] = []
    rows = data.get("pledges")
    if rows:
        if not isinstance(rows, list | tuple):
            errors.append(FieldError(f"{prefix}pledges", _("应为列表")))
            return ()
        for index, row in enumerate(rows):
            row = row if isinstance(row, dict) else {}
            pledge = _pledge(row, errors, f"{prefix}pledges.{index}.")
            if pledge is not None:
                found.append(pledge)
        place = "pledges.{i}.registration_no"
    elif any(str(data.get(name) or "").strip() for name in FLAT):
        flat = {name.removeprefix("pledge_"): data.get(name) for name in FLAT}
        own: list[FieldError] = []
        pledge = _pledge(flat, own, "")
        errors.extend(FieldError(f"{prefix}pledge_{e.field}", e.message) for e in own)
        if pledge is not None:
            found.append(pledge)
        place = "pledge_registration_no"
    else:
        return ()
    seen: set[tuple[str, str]] = set()
    for index, pledge in enumerate(found):
        key = (pledge.kind, pledge.registration_no)
        if key in seen:
            errors.append(
                FieldError(prefix + place.format(i=index), _("同一登记编号在本笔贷款中重复"))
            )
        seen.add(key)
    return tuple(found)


def pledged_to_live_loans(
    pairs: Iterable[tuple[str, str]], exclude_loan: int | None = None
) -> set[tuple[str, str]]:
    """Which of the (kind, registration number) pairs already secure a live loan."""
    pairs = list(pairs)
    if not pairs:
        return set()
    match = Q()
    for kind, number in pairs:
        match |= Q(kind=kind, registration_no=number)
    qs = GreenPledge.objects.filter(match, loan__status=LoanStatus.ACTIVE)
    if exclude_loan is not None:
        qs = qs.exclude(loan_id=exclude_loan)
    return set(qs.values_list("kind", "registration_no"))


def taken_error(pledge: PledgeFacts, field: str) -> FieldError:
    return FieldError(
        field,
        _("该%(kind)s登记编号 %(no)s 已质押给一笔存续中的贷款")
        % {"kind": dict(GREEN_RIGHT_CHOICES)[pledge.kind], "no": pledge.registration_no},
    )


def write_pledges(actor, loan: LoanAccount, pledges: Iterable[PledgeFacts]) -> list[GreenPledge]:
    """Write checked pledges of `loan` (inside the caller's transaction);
    re-checks the live-loan rule so a concurrent report cannot slip past."""
    pledges = list(pledges)
    taken = pledged_to_live_loans(((p.kind, p.registration_no) for p in pledges), loan.pk)
    if taken:
        pledge = next(p for p in pledges if (p.kind, p.registration_no) in taken)
        raise ValidationFailed([taken_error(pledge, "registration_no")])
    created = GreenPledge.objects.bulk_create(
        [
            GreenPledge(
                loan=loan,
                kind=p.kind,
                registration_no=p.registration_no,
                authority=p.authority,
                value=p.value,
                registered_on=p.registered_on,
                created_by=actor if getattr(actor, "pk", None) else None,
            )
            for p in pledges
        ]
    )
    for pledge in created:
        audit.record(
            "risk.loan.green_pledge",
            actor=actor,
            obj=loan,
            changes={"pledge": [None, f"{pledge.kind}:{pledge.registration_no}"]},
        )
    return created


def add_pledge(actor, loan: LoanAccount, data: dict[str, Any]) -> GreenPledge:
    """The lending bank adds one green-rights pledge to a live loan of its own."""
    if not perms.is_lender(actor, loan):
        raise NotAllowed(_("只有贷款机构可以报送该笔贷款的情况"))
    errors: list[FieldError] = []
    pledge = _pledge(data, errors, "")
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        locked = LoanAccount.objects.select_for_update().get(pk=loan.pk)
        if locked.status != LoanStatus.ACTIVE:
            raise Conflict(_("贷款已不在存续状态，不能再登记质押"), code="loan_closed")
        if locked.green_pledges.filter(
            kind=pledge.kind, registration_no=pledge.registration_no
        ).exists():
            raise ValidationFailed([FieldError("registration_no", _("本笔贷款已登记该编号"))])
        return write_pledges(actor, locked, [pledge])[0]


def report_green(actor, loan: LoanAccount, data: dict[str, Any]) -> LoanAccount:
    """The lending bank reports (or clears, with a blank) the 绿色产业指导目录
    category of one of its loans."""
    if not perms.is_lender(actor, loan):
        raise NotAllowed(_("只有贷款机构可以报送该笔贷款的情况"))
    errors: list[FieldError] = []
    value = parse_green_category(data, errors)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        locked = LoanAccount.objects.select_for_update().get(pk=loan.pk)
        before = locked.green_category
        if before != value:
            locked.green_category = value
            locked.save(update_fields=["green_category", "updated_at"])
            audit.record(
                "risk.loan.green_category",
                actor=actor,
                obj=locked,
                changes={"green_category": [before, value]},
            )
    loan.refresh_from_db()
    return loan
