"""Digital payables vouchers (数字债权凭证): issue, split and transfer,
discount, payment at maturity.

A core enterprise on a 应收账款核心企业名单 in force issues a voucher to its
supplier against a payable it has confirmed (a receivable where it is the
debtor); the face amount comes out of the receivable's unfinanced confirmed
balance (`vouchered`, under the receivable's row lock and the same check
constraint as financing), so a payable cannot back both a voucher and a
financing beyond what was confirmed.

The tree invariant: a node's amount never changes. A holder splits a held
node into children — parts transferred to its own suppliers (or kept) and
the remainder kept by the holder — and the node becomes `transferred`; the
children's amounts sum exactly to the node's. A bank discounts a held node
(or a part of it, split off first) and the node becomes `discounted`. At
maturity the issuer pays every outstanding leaf. So at every moment the
leaves of a tree (held, discounted or paid) sum to the root's face amount.

Why it holds under concurrency: every split or discount locks the node's
row (SELECT … FOR UPDATE) and re-checks that it is still held before
creating children; two operations on the same node serialise, and the
second finds it `transferred` or `discounted` and is refused (409).
Operations on different nodes of a tree never wait for each other. The
check constraint `voucher_split_allocates_all` holds that a transferred node
has allocated its whole amount.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, Sum
from django.utils.translation import gettext as _

from chanrong.core import audit, notify
from chanrong.core.errors import Conflict, FieldError, NotAllowed, ValidationFailed
from chanrong.core.workflow import apply_transition
from chanrong.registry.models import DataAuthorisation, Enterprise

from .. import signals
from ..models import (
    CONFIRMED_STATES,
    OUTSTANDING_STATES,
    Receivable,
    Voucher,
    VoucherState,
)
from ..permissions import bank_of, enterprise_of, is_debtor, is_issuer
from ..workflows import VOUCHER
from .common import (
    FEN,
    enterprise_users,
    guard,
    institution_users,
    is_listed_core,
    lock_receivable,
    read_day,
    read_enterprise,
    read_money,
    read_rate,
    read_text,
    today_or,
    yuan,
)

MAX_PARTS = 100
#: Discount interest: simple interest on a 360-day year (票据贴现 convention).
DAY_BASIS = 360
HUNDRED = Decimal(100)


def _tell(users, verb: str, message: str) -> None:
    notify.send(users, f"supplychain.voucher.{verb}", message)


# --- issue -----------------------------------------------------------------------------


def issue_voucher(
    actor, receivable: Receivable, data: dict[str, Any], *, today: date | None = None
) -> Voucher:
    """A core enterprise issues a voucher to its supplier (the receivable's
    creditor) against a payable it confirmed.

    data: amount (元, default all of the unfinanced confirmed balance),
    due_on (default the receivable's due date).

    Refusals, nothing written: not an enterprise user of the debtor (403);
    the enterprise not on a 应收账款核心企业名单 in force today (403); field
    errors (422: amount ≤ 0 or above the confirmed amount, a due date in the
    past); the payable not confirmed, matured, or its unfinanced confirmed
    balance smaller than the amount (409)."""
    day = today_or(today)
    issuer_id = enterprise_of(actor)
    if issuer_id is None or not is_debtor(actor, receivable):
        raise NotAllowed(_("只能由债务人（核心企业）就本企业的应付账款开立凭证"))
    if not is_listed_core(issuer_id, day):
        raise NotAllowed(_("贵企业不在有效的应收账款核心企业名单中，不能开立数字债权凭证"))
    errors: list[FieldError] = []
    amount = read_money(data.get("amount"), "amount", errors, required=False)
    due_on = read_day(data.get("due_on"), "due_on", errors, default=receivable.due_on)
    ceiling = receivable.confirmed_amount or receivable.amount
    if amount is not None and amount > ceiling:
        errors.append(FieldError("amount", _("不能超过确权金额 %(c)s 元") % {"c": yuan(ceiling)}))
    if due_on is not None and due_on <= day:
        errors.append(FieldError("due_on", _("到期日期应晚于今天")))
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        locked = lock_receivable(receivable.pk)
        if locked.state not in CONFIRMED_STATES:
            raise Conflict(
                _("应付账款当前为「%(s)s」，确权后才能开立凭证")
                % {"s": locked.get_state_display()},
                code="receivable_unconfirmed",
            )
        if locked.due_on < day:
            raise Conflict(_("应付账款已到期，应直接付款"), code="receivable_matured")
        available = locked.available
        face = amount if amount is not None else available
        if available <= 0 or face > available:
            raise Conflict(
                _("该应付账款尚未融资的确权余额为 %(a)s 元，不足以开立 %(f)s 元凭证")
                % {"a": yuan(max(available, 0)), "f": yuan(face)},
                code="exceeds_unfinanced",
            )
        serial = Voucher.objects.filter(receivable=locked, parent__isnull=True).count() + 1
        voucher = Voucher.objects.create(
            number=f"V{locked.pk:08d}-{serial}",
            receivable=locked,
            issuer_id=issuer_id,
            holder_id=locked.creditor_id,
            amount=face,
            state=VoucherState.HELD,
            issued_on=day,
            due_on=due_on,
            created_by=actor,
        )
        locked.vouchered += face
        locked.save(update_fields=["vouchered", "updated_at"])
        audit.record(
            "supplychain.voucher.issue",
            actor=actor,
            obj=voucher,
            changes={
                "state": [None, VoucherState.HELD],
                "receivable": locked.pk,
                "holder": locked.creditor_id,
                "amount": str(face),
                "due_on": due_on,
                "vouchered": [str(locked.vouchered - face), str(locked.vouchered)],
            },
        )
        _tell(
            enterprise_users(locked.creditor_id),
            "issue",
            _("%(i)s 向贵企业开立数字债权凭证 %(n)s，金额 %(a)s 元，%(d)s 到期")
            % {"i": locked.debtor_name, "n": voucher.number, "a": yuan(face), "d": due_on},
        )
        signals.receivables_changed.send_after_commit([locked.creditor_id])
    return voucher


# --- split and transfer ----------------------------------------------------------------


def _read_parts(
    raw: Any, voucher: Voucher, errors: list[FieldError]
) -> list[tuple[Enterprise, Decimal]]:
    if not isinstance(raw, list | tuple) or not raw:
        errors.append(FieldError("parts", _("请填写拆分的各部分")))
        return []
    if len(raw) > MAX_PARTS:
        errors.append(FieldError("parts", _("一次最多拆分 %(n)s 份") % {"n": MAX_PARTS}))
        return []
    parts: list[tuple[Enterprise, Decimal]] = []
    for index, item in enumerate(raw):
        field = f"parts[{index}]"
        if not isinstance(item, dict):
            errors.append(FieldError(field, _("每一份应含接收企业和金额")))
            continue
        before = len(errors)
        holder = read_enterprise(item.get("holder"), f"{field}.holder", errors)
        amount = read_money(item.get("amount"), f"{field}.amount", errors)
        if holder is not None and holder.pk == voucher.issuer_id:
            errors.append(FieldError(f"{field}.holder", _("不能转让给开立凭证的核心企业")))
        if len(errors) == before:
            parts.append((holder, amount))
    total = sum((amount for _holder, amount in parts), Decimal(0))
    if len(parts) == 1 and parts[0][0].pk == voucher.holder_id and total == voucher.amount:
        errors.append(FieldError("parts", _("拆分结果与原凭证相同：请转让或拆分出一部分")))
    elif parts and total > voucher.amount:
        errors.append(
            FieldError(
                "parts",
                _("各部分合计 %(t)s 元，超过凭证金额 %(a)s 元")
                % {"t": yuan(total), "a": yuan(voucher.amount)},
            )
        )
    return parts


def _children(parent: Voucher, parts: list[tuple[int, Decimal]], actor, day: date) -> list[Voucher]:
    """Create the children of a locked, held `parent`: the given parts, then
    the remainder (kept by the parent's holder) when they do not use it all.
    Their amounts sum exactly to the parent's."""
    total = sum((amount for _holder, amount in parts), Decimal(0))
    rows = list(parts)
    if total < parent.amount:
        rows.append((parent.holder_id, parent.amount - total))
    root_number = parent.number.split("/", 1)[0]
    children = [
        Voucher(
            number=f"{root_number}/{parent.pk}-{index}",
            receivable_id=parent.receivable_id,
            issuer_id=parent.issuer_id,
            root_id=parent.root_id or parent.pk,
            parent=parent,
            depth=parent.depth + 1,
            holder_id=holder_id,
            amount=amount,
            state=VoucherState.HELD,
            issued_on=day,
            due_on=parent.due_on,
            created_by=actor,
        )
        for index, (holder_id, amount) in enumerate(rows, start=1)
    ]
    return Voucher.objects.bulk_create(children)


def _lock_held(voucher: Voucher, machine_name: str, actor) -> Voucher:
    """The node's row, locked, and still in a state the transition allows
    (409 when a concurrent split, transfer or discount got there first)."""
    locked = Voucher.objects.select_for_update().get(pk=voucher.pk)
    guard(VOUCHER, machine_name, locked, actor)
    return locked


def _not_matured(voucher: Voucher, day: date) -> None:
    if voucher.due_on <= day:
        raise Conflict(
            _("凭证已到期，待核心企业兑付，不能再拆分、转让或贴现"), code="voucher_matured"
        )


def split_voucher(
    actor, voucher: Voucher, parts: list[dict[str, Any]], *, today: date | None = None
) -> list[Voucher]:
    """The holder splits a held voucher: each part ({"holder": enterprise,
    id or USCC, "amount": 元}) becomes a child held by that enterprise (the
    holder itself, to split without transferring, or one of its suppliers),
    and whatever is left becomes a last child kept by the holder. Returns
    the children, remainder last.

    Refusals, nothing written: not the holder (403); parts malformed, to an
    unregistered enterprise or to the issuer, or summing above the voucher
    (422); the voucher no longer held — split, discounted or paid, perhaps a
    moment ago by a concurrent request — or matured (409)."""
    day = today_or(today)
    guard(VOUCHER, "split", voucher, actor)
    errors: list[FieldError] = []
    read = _read_parts(parts, voucher, errors)
    if errors:
        raise ValidationFailed(errors)
    _not_matured(voucher, day)
    with transaction.atomic():
        node = _lock_held(voucher, "split", actor)
        children = _children(node, [(h.pk, a) for h, a in read], actor, day)
        _split(node, "split", actor, children)
        for child in children:
            if child.holder_id != node.holder_id:
                _tell(
                    enterprise_users(child.holder_id),
                    "transfer",
                    _("%(h)s 向贵企业转让数字债权凭证 %(n)s，金额 %(a)s 元，%(d)s 到期")
                    % {
                        "h": node.holder.name,
                        "n": child.number,
                        "a": yuan(child.amount),
                        "d": child.due_on,
                    },
                )
        signals.receivables_changed.send_after_commit(
            sorted({c.holder_id for c in children} | {node.holder_id})
        )
    voucher.state = node.state
    return children


def _split(node: Voucher, name: str, actor, children: list[Voucher]) -> Voucher:
    return apply_transition(
        VOUCHER,
        node,
        name,
        actor,
        changes={"allocated": node.amount},
        audit_extra={
            "children": [
                {"number": c.number, "holder": c.holder_id, "amount": str(c.amount)}
                for c in children
            ]
        },
    )


def transfer_voucher(
    actor, voucher: Voucher, to: Any, amount: Any = None, *, today: date | None = None
) -> Voucher:
    """The holder transfers `amount` (default: all) of a held voucher to
    another enterprise (its supplier down the chain): a split with one part,
    the remainder staying with the holder. Returns the transferred child.
    Refusals as `split_voucher`, plus transferring to oneself (422)."""
    guard(VOUCHER, "split", voucher, actor)
    errors: list[FieldError] = []
    target = read_enterprise(to, "to", errors)
    if target is not None and target.pk == voucher.holder_id:
        errors.append(FieldError("to", _("不能转让给本企业")))
    if errors:
        raise ValidationFailed(errors)
    value = voucher.amount if amount in (None, "") else amount
    return split_voucher(actor, voucher, [{"holder": target, "amount": value}], today=today)[0]


# --- discount --------------------------------------------------------------------------


def discount_voucher(
    actor, voucher: Voucher, data: dict[str, Any], *, today: date | None = None
) -> Voucher:
    """A bank discounts (贴现) a held voucher, or a part of it: the part is
    split off first (the remainder stays with the holder) and the discounted
    node passes to the bank, to be paid to it at maturity. The bank records
    the discount contract it signed with the holder; the holder must have
    authorised this bank (DataAuthorisation), as for financing.

    data: amount (元, default all), discount_rate (annual %, simple interest
    on a 360-day year to the due date), contract_no. Proceeds = amount −
    amount × rate × days / 360, to the fen.

    Refusals, nothing written: not a bank (403); the holder has not
    authorised it (403); field errors (422); the voucher no longer held, or
    matured (409). Returns the discounted node."""
    day = today_or(today)
    bank_id = bank_of(actor)
    if bank_id is None:
        raise NotAllowed(_("只有银行可以办理凭证贴现"))
    errors: list[FieldError] = []
    amount = read_money(data.get("amount"), "amount", errors, required=False)
    rate = read_rate(data.get("discount_rate"), "discount_rate", errors, upper=HUNDRED)
    contract_no = read_text(data.get("contract_no"), "contract_no", errors, limit=64, required=True)
    if amount is not None and amount > voucher.amount:
        errors.append(
            FieldError("amount", _("不能超过凭证金额 %(a)s 元") % {"a": yuan(voucher.amount)})
        )
    if errors:
        raise ValidationFailed(errors)
    authorised = DataAuthorisation.objects.filter(
        enterprise_id=voucher.holder_id, institution_id=bank_id, revoked_at__isnull=True
    ).exists()
    if not authorised:
        raise NotAllowed(_("持有企业尚未向贵行授权，不能办理贴现"))
    guard(VOUCHER, "discount", voucher, actor)
    _not_matured(voucher, day)
    with transaction.atomic():
        node = _lock_held(voucher, "discount", actor)
        value = amount if amount is not None else node.amount
        if value < node.amount:
            children = _children(node, [(node.holder_id, value)], actor, day)
            _split(node, "split_for_discount", actor, children)
            target = children[0]
        else:
            target = node
        days = (target.due_on - day).days
        interest = (value * rate / HUNDRED * days / DAY_BASIS).quantize(FEN, ROUND_HALF_UP)
        proceeds = value - interest
        done = apply_transition(
            VOUCHER,
            target,
            "discount",
            actor,
            changes={
                "bank_id": bank_id,
                "discount_rate": rate,
                "discount_proceeds": proceeds,
                "discounted_on": day,
                "discount_contract_no": contract_no,
            },
            notify=lambda v, t, who: _tell(
                enterprise_users(v.holder_id),
                "discount",
                _("数字债权凭证 %(n)s 金额 %(a)s 元已在 %(b)s 贴现，实付 %(p)s 元")
                % {
                    "n": v.number,
                    "a": yuan(v.amount),
                    "b": actor.institution.name,
                    "p": yuan(proceeds),
                },
            ),
        )
        signals.institution_events.send_in_transaction(
            events=[(bank_id, "supplychain.voucher_discounted", voucher_payload(done))]
        )
    voucher.state = done.state if target is node else VoucherState.TRANSFERRED
    return done


def voucher_payload(voucher: Voucher) -> dict[str, Any]:
    return {
        "voucher_id": voucher.pk,
        "number": voucher.number,
        "root_id": voucher.tree_root_id,
        "issuer_id": voucher.issuer_id,
        "holder_id": voucher.holder_id,
        "amount": str(voucher.amount),
        "due_on": voucher.due_on.isoformat(),
        "state": voucher.state,
        "discount_rate": str(voucher.discount_rate) if voucher.discount_rate is not None else None,
        "discount_proceeds": (
            str(voucher.discount_proceeds) if voucher.discount_proceeds is not None else None
        ),
    }


# --- payment at maturity ---------------------------------------------------------------


def pay_vouchers(actor, voucher: Voucher, *, today: date | None = None) -> list[Voucher]:
    """At maturity the issuer pays every outstanding leaf of the voucher's
    tree: held ones to their holder, discounted ones to the bank. Returns the
    leaves paid. 403 for anyone but the issuer; 409 before the due date or
    when nothing is outstanding."""
    day = today_or(today)
    if not is_issuer(actor, voucher):
        raise NotAllowed(_("只有开立凭证的核心企业可以兑付"))
    if day < voucher.due_on:
        raise Conflict(
            _("凭证 %(d)s 到期，到期后才能兑付") % {"d": voucher.due_on}, code="voucher_not_due"
        )
    root_id = voucher.tree_root_id
    paid: list[Voucher] = []
    with transaction.atomic():
        leaves = list(
            Voucher.objects.tree(root_id)
            .filter(state__in=[str(s) for s in OUTSTANDING_STATES])
            .order_by("pk")
        )
        if not leaves:
            raise Conflict(_("该凭证没有待兑付的部分"), code="nothing_outstanding")
        events = []
        for leaf in leaves:
            done = apply_transition(VOUCHER, leaf, "pay", actor, changes={"paid_on": day})
            paid.append(done)
            if done.bank_id is not None:
                events.append((done.bank_id, "supplychain.voucher_paid", voucher_payload(done)))
        by_holder: dict[int, Decimal] = {}
        by_bank: dict[int, Decimal] = {}
        for leaf in paid:
            if leaf.bank_id is not None:
                by_bank[leaf.bank_id] = by_bank.get(leaf.bank_id, Decimal(0)) + leaf.amount
            else:
                by_holder[leaf.holder_id] = by_holder.get(leaf.holder_id, Decimal(0)) + leaf.amount
        for holder_id, total in by_holder.items():
            _tell(
                enterprise_users(holder_id),
                "pay",
                _("数字债权凭证已到期兑付，贵企业收到 %(a)s 元") % {"a": yuan(total)},
            )
        for bank_id, total in by_bank.items():
            _tell(
                institution_users(bank_id),
                "pay",
                _("贴现的数字债权凭证已到期兑付，贵行收到 %(a)s 元") % {"a": yuan(total)},
            )
        if events:
            signals.institution_events.send_in_transaction(events=events)
    return paid


# --- the invariant, checked ------------------------------------------------------------


@dataclass(frozen=True)
class TreeCheck:
    """What a voucher tree sums to. `holds` when the leaves sum to the face
    amount and every split node's children sum to it."""

    face: Decimal
    leaves: Decimal
    nodes: int
    leaf_count: int
    unbalanced: tuple[int, ...]

    @property
    def holds(self) -> bool:
        return self.leaves == self.face and not self.unbalanced


def check_tree(root_id: int) -> TreeCheck:
    """Recompute the tree invariant from the rows (two aggregate queries),
    independently of the running `allocated` column."""
    tree = Voucher.objects.tree(root_id)
    face = Voucher.objects.values_list("amount", flat=True).get(pk=root_id)
    leaf_rows = tree.exclude(state=VoucherState.TRANSFERRED).aggregate(
        total=Sum("amount"), count=Count("pk")
    )
    children_of = dict(
        tree.filter(parent__isnull=False)
        .values("parent_id")
        .annotate(total=Sum("amount"))
        .values_list("parent_id", "total")
    )
    split = dict(tree.filter(state=VoucherState.TRANSFERRED).values_list("pk", "amount"))
    # A split node whose children do not sum to it, or children under a node not split.
    unbalanced = [pk for pk, amount in split.items() if children_of.get(pk) != amount]
    unbalanced += [pk for pk in children_of if pk not in split]
    return TreeCheck(
        face=face,
        leaves=leaf_rows["total"] or Decimal(0),
        nodes=tree.count(),
        leaf_count=leaf_rows["count"],
        unbalanced=tuple(sorted(set(unbalanced))),
    )
