"""An institution works a dispatch: claim it (接单; on an exclusive demand
the first claim wins), decline it, submit or revise an offer; the enterprise
accepts one offer (exactly one per demand, the others set aside); the
institution whose offer was accepted reports the outcome (授信, 放款 or
未获批). A disbursement is announced through the `financing_disbursed`
domain signal, which the insights app records as a financing fact in the
same transaction.

Every service here locks the demand's row, then the dispatch's; the unique
constraints on Dispatch and Offer are the backstop.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.core import audit
from chanrong.core.errors import Conflict, FieldError, NotAllowed, ValidationFailed
from chanrong.core.workdays import deadline_after
from chanrong.finance import eligibility as el
from chanrong.finance.models import Product

from .. import signals as demand_signals
from .. import workflows
from ..models import LIVE_DISPATCH_STATES, Demand, DemandState, Dispatch, DispatchState, Offer
from .common import _emit, _Event, _move, decide_workdays, enterprise_users, institution_users
from .deadlines import _settle
from .parsing import MAX_TERM_MONTHS, _amount, _int, _rate, _text, _valid_pk

# --- institutions: claim, decline, offer, outcome ------------------------------------------


def _lock(dispatch: Dispatch) -> tuple[Demand, Dispatch]:
    """The demand, then its dispatch (the services' lock order). `of=("self",)`
    locks the dispatch row only, not the institution it is read with: that lock
    serialised every claim and offer of one institution and deadlocked crossing
    ones under load (bench/soak.py)."""
    demand = Demand.objects.select_for_update().get(pk=dispatch.demand_id)
    locked = (
        Dispatch.objects.select_for_update(of=("self",))
        .select_related("institution")
        .get(pk=dispatch.pk)
    )
    return demand, locked


def _require_owner(actor, dispatch: Dispatch, what: str) -> None:
    if not workflows.owns_dispatch(actor, dispatch):
        raise NotAllowed(_("无权%(what)s：该派单不属于贵机构") % {"what": what})


def claim_dispatch(actor, dispatch: Dispatch) -> Dispatch:
    """接单. On an exclusive demand the first claim wins and the other
    dispatches are cancelled; otherwise several institutions may claim."""
    _require_owner(actor, dispatch, _("接单"))
    try:
        with transaction.atomic():
            demand, locked = _lock(dispatch)
            if demand.state not in (
                DemandState.DISPATCHED,
                DemandState.CLAIMED,
                DemandState.NEGOTIATING,
            ):
                raise Conflict(
                    _("需求当前为「%(state)s」，不能接单") % {"state": demand.get_state_display()},
                    code="invalid_transition",
                )
            if demand.exclusive and demand.state != DemandState.DISPATCHED:
                raise Conflict(_("该需求为独家接单，已由其他机构接单"), code="already_claimed")
            now = timezone.now()
            name = str(locked.institution)
            locked = _move(
                workflows.DISPATCH, locked, "claim", actor,
                changes={
                    "claimed_at": now, "claimed_by_id": actor.pk,
                    "decide_due_at": deadline_after(timezone.localtime(now), decide_workdays()),
                },
                event=_Event(
                    _("%(name)s 已接单") % {"name": name},
                    enterprise_users(demand),
                    institution_id=locked.institution_id,
                ),
            )  # fmt: skip
            if demand.state == DemandState.DISPATCHED:
                _move(workflows.DEMAND, demand, "claim", actor)
            if demand.exclusive:
                for other in (
                    demand.dispatches.select_for_update()
                    .exclude(pk=locked.pk)
                    .filter(state__in=LIVE_DISPATCH_STATES)
                    .order_by("pk")
                ):
                    _move(
                        workflows.DISPATCH, other, "cancel", actor,
                        event=_Event(
                            _("该需求已由其他机构独家接单，派单取消"),
                            institution_users(other.institution_id, other.branch_id),
                            institution_id=other.institution_id,
                            private=True,
                        ),
                    )  # fmt: skip
    except IntegrityError:
        raise Conflict(_("该需求为独家接单，已由其他机构接单"), code="already_claimed") from None
    return locked


def decline_dispatch(actor, dispatch: Dispatch, reason: str) -> Dispatch:
    _require_owner(actor, dispatch, _("谢绝"))
    reason = _text(reason)
    if not reason:
        raise ValidationFailed({"reason": _("请填写谢绝原因")})
    if len(reason) > 500:
        raise ValidationFailed({"reason": _("最多 500 个字符")})
    with transaction.atomic():
        demand, locked = _lock(dispatch)
        locked = _move(
            workflows.DISPATCH, locked, "decline", actor,
            changes={"decline_reason": reason, "decided_at": timezone.now()},
            event=_Event(
                _("%(name)s 谢绝了该需求：%(reason)s") % {"name": locked.institution, "reason": reason},
                enterprise_users(demand),
                institution_id=locked.institution_id,
            ),
        )  # fmt: skip
        _settle(demand, actor, _("已派单机构均已谢绝或超时"))
    return locked


def clean_offer_data(data: dict[str, Any], *, institution_id: int) -> dict[str, Any]:
    errors: list[FieldError] = []
    out: dict[str, Any] = {}
    out["amount"] = _amount(data.get("amount_wan"), "amount_wan", errors, required=True)
    rate = _rate(data.get("rate"), "rate", errors)
    out["rate"] = rate
    out["term_months"] = _int(
        data.get("term_months"), "term_months", errors, 1, MAX_TERM_MONTHS,
        _("期限应为 1–%(n)s 个月") % {"n": MAX_TERM_MONTHS},
    )  # fmt: skip
    terms = str(data.get("terms") or "").strip()
    if len(terms) > 5000:
        errors.append(FieldError("terms", _("方案说明最多 5000 个字符")))
    out["terms"] = terms
    product_id = data.get("product_id")
    out["product"] = None
    if product_id not in (None, ""):
        try:
            number = int(product_id)
            if not _valid_pk(number):
                raise ValueError
        except (TypeError, ValueError):
            errors.append(FieldError("product_id", _("应为产品编号")))
        else:
            product = Product.objects.filter(pk=number, institution_id=institution_id).first()
            if product is None:
                errors.append(FieldError("product_id", _("产品须为贵机构的产品")))
            out["product"] = product
    if errors:
        raise ValidationFailed(errors)
    return out


def check_offer_fits(values: dict[str, Any], demand: Demand) -> None:
    """An offer stays within what was asked and what its product allows: not
    more than the demand's amount, and inside the product's amount and term
    range. (The rate is negotiated and may leave the product's published range.)
    Every breach is reported at once, by field."""
    errors: list[FieldError] = []
    amount, term, product = values["amount"], values["term_months"], values["product"]
    if demand.amount is not None and amount > demand.amount:
        errors.append(
            FieldError(
                "amount_wan",
                _("方案金额 %(amount)s 超过需求金额 %(asked)s")
                % {"amount": el.wan(amount), "asked": el.wan(demand.amount)},
            )
        )
    if product is not None:
        if not product.amount_min <= amount <= product.amount_max:
            errors.append(
                FieldError(
                    "amount_wan",
                    _("方案金额应在所选产品的额度 %(low)s–%(high)s 之内")
                    % {"low": el.wan(product.amount_min), "high": el.wan(product.amount_max)},
                )
            )
        if not product.term_min_months <= term <= product.term_max_months:
            errors.append(
                FieldError(
                    "term_months",
                    _("期限应在所选产品的 %(low)s–%(high)s 个月之内")
                    % {"low": product.term_min_months, "high": product.term_max_months},
                )
            )
    if errors:
        raise ValidationFailed(errors)


def make_offer(actor, dispatch: Dispatch, data: dict[str, Any]) -> Offer:
    """Submit (or, until the enterprise decides, revise) this institution's offer."""
    _require_owner(actor, dispatch, _("提交融资方案"))
    values = clean_offer_data(data, institution_id=dispatch.institution_id)
    with transaction.atomic():
        demand, locked = _lock(dispatch)
        check_offer_fits(values, demand)
        now = timezone.now()
        offer = Offer.objects.filter(dispatch=locked).first()
        revising = locked.state == DispatchState.OFFERED
        if offer is None:
            offer = Offer(
                dispatch=locked, demand=demand, institution_id=locked.institution_id,
                created_by=actor, created_at=now, **values,
            )  # fmt: skip
        else:
            for key, value in values.items():
                setattr(offer, key, value)
        message = _("%(name)s %(what)s：%(amount)s，%(term)s 个月%(rate)s") % {
            "name": locked.institution,
            "what": _("修改了融资方案") if revising else _("提交了融资方案"),
            "amount": el.wan(values["amount"]),
            "term": values["term_months"],
            "rate": _("，年利率 %(r)s") % {"r": el.percent(values["rate"])}
            if values["rate"] is not None
            else "",
        }
        locked = _move(
            workflows.DISPATCH, locked, "revise" if revising else "offer", actor,
            changes={"decided_at": now},
            event=_Event(message, enterprise_users(demand), institution_id=locked.institution_id),
        )  # fmt: skip
        offer.save()
        audit.record(
            "offer.revise" if revising else "offer.create",
            actor=actor,
            obj=offer,
            changes={
                "amount": str(offer.amount),
                "rate": None if offer.rate is None else str(offer.rate),
                "term_months": offer.term_months,
            },
        )
        if demand.state == DemandState.CLAIMED:
            _move(workflows.DEMAND, demand, "offer", actor)
    return offer


def accept_offer(actor, offer: Offer) -> Offer:
    """The enterprise takes one offer; the others are set aside. Exactly one
    acceptance per demand, however many arrive at once."""
    if not workflows.is_owner(actor, offer.demand):
        raise NotAllowed(_("只有发布需求的企业可以采纳融资方案"))
    try:
        with transaction.atomic():
            demand = Demand.objects.select_for_update().get(pk=offer.demand_id)
            if demand.accepted_offer_id is not None:
                raise Conflict(_("该需求已采纳了一个融资方案"), code="already_accepted")
            if demand.state != DemandState.NEGOTIATING:
                raise Conflict(
                    _("需求当前为「%(state)s」，不能采纳融资方案")
                    % {"state": demand.get_state_display()},
                    code="invalid_transition",
                )
            locked_offer = Offer.objects.select_for_update().get(pk=offer.pk)
            dispatch = Dispatch.objects.select_for_update().get(pk=locked_offer.dispatch_id)
            now = timezone.now()
            _move(
                workflows.DISPATCH, dispatch, "accept", actor,
                event=_Event(
                    _("企业采纳了贵机构的融资方案"),
                    institution_users(dispatch.institution_id, dispatch.branch_id),
                    institution_id=dispatch.institution_id,
                    private=True,
                ),
            )  # fmt: skip
            locked_offer.accepted_at = now
            locked_offer.save(update_fields=["accepted_at", "updated_at"])
            _emit(
                [dispatch.institution_id],
                "offer.accepted",
                {"offer_id": locked_offer.pk, "dispatch_id": dispatch.pk, "demand_id": demand.pk},
            )
            _move(
                workflows.DEMAND, demand, "accept", actor,
                changes={
                    "accepted_offer_id": locked_offer.pk,
                    "outcome_institution_id": dispatch.institution_id,
                },
                event=_Event(
                    _("企业采纳了 %(name)s 的融资方案") % {"name": locked_offer.institution},
                    enterprise_users(demand),
                    institution_id=dispatch.institution_id,
                ),
            )  # fmt: skip
            others = demand.dispatches.select_for_update().exclude(pk=dispatch.pk).order_by("pk")
            for other in others:
                if other.state == DispatchState.OFFERED:
                    name, message = (
                        "set_aside",
                        _("企业已采纳其他机构的融资方案，贵机构方案未被采纳"),
                    )
                elif other.state in LIVE_DISPATCH_STATES:
                    name, message = "cancel", _("企业已采纳其他机构的融资方案，派单结束")
                else:
                    continue
                _move(
                    workflows.DISPATCH, other, name, actor,
                    event=_Event(
                        message,
                        institution_users(other.institution_id, other.branch_id),
                        institution_id=other.institution_id,
                        private=True,
                    ),
                )  # fmt: skip
    except IntegrityError:
        raise Conflict(_("该需求已采纳了一个融资方案"), code="already_accepted") from None
    return locked_offer


OUTCOMES = ("granted", "disbursed", "rejected")


def clean_result_data(outcome: str, data: dict[str, Any], demand: Demand) -> dict[str, Any]:
    errors: list[FieldError] = []
    out: dict[str, Any] = {}
    if outcome not in OUTCOMES:
        raise ValidationFailed(
            {"outcome": _("应为 granted（已授信）、disbursed（已放款）或 rejected（未获批）")}
        )
    if outcome == "rejected":
        reason = _text(data.get("reason"))
        if not reason:
            errors.append(FieldError("reason", _("请填写未获批原因")))
        elif len(reason) > 500:
            errors.append(FieldError("reason", _("最多 500 个字符")))
        out["reason"] = reason
    else:
        out["amount"] = _amount(
            data.get("amount_wan"), "amount_wan", errors, required=outcome == "disbursed"
        )
    if outcome == "disbursed":
        out["rate"] = _rate(data.get("rate"), "rate", errors)
        if out["rate"] is None and not any(e.field == "rate" for e in errors):
            errors.append(FieldError("rate", _("必填")))
        out["term_months"] = _int(
            data.get("term_months"), "term_months", errors, 1, MAX_TERM_MONTHS,
            _("期限应为 1–%(n)s 个月") % {"n": MAX_TERM_MONTHS},
        )  # fmt: skip
        on = data.get("disbursed_on")
        if on in (None, ""):
            errors.append(FieldError("disbursed_on", _("必填")))
        else:
            try:
                day = on if isinstance(on, date) else date.fromisoformat(str(on).strip())
            except ValueError:
                errors.append(FieldError("disbursed_on", _("应为日期，如 2026-05-20")))
            else:
                published = (
                    timezone.localtime(demand.published_at).date() if demand.published_at else None
                )
                if day > timezone.localdate():
                    errors.append(FieldError("disbursed_on", _("放款日期不能晚于今天")))
                elif published and day < published:
                    errors.append(FieldError("disbursed_on", _("放款日期不能早于需求发布日期")))
                out["disbursed_on"] = day
    if errors:
        raise ValidationFailed(errors)
    return out


def record_result(actor, dispatch: Dispatch, outcome: str, data: dict[str, Any]) -> Demand:
    """第一时间反馈结果: the institution whose offer was accepted reports
    授信 (granted), 放款 (disbursed: amount, rate, term, date) or 未获批 (reason).
    Reporting 放款 straight after acceptance records 授信 first."""
    _require_owner(actor, dispatch, _("反馈结果"))
    with transaction.atomic():
        demand, locked = _lock(dispatch)
        values = clean_result_data(outcome, data, demand)
        offer = Offer.objects.filter(dispatch=locked).first()
        if outcome == "rejected":
            _move(
                workflows.DISPATCH, locked, "reject", actor, changes={"decided_at": timezone.now()}
            )
            _move(
                workflows.DEMAND, demand, "reject", actor,
                changes={"rejection_reason": values["reason"], "closed_at": timezone.now()},
                event=_Event(
                    _("%(name)s 反馈：未获批。原因：%(reason)s")
                    % {"name": locked.institution, "reason": values["reason"]},
                    enterprise_users(demand),
                    institution_id=locked.institution_id,
                ),
            )  # fmt: skip
            return demand
        if locked.state == DispatchState.ACCEPTED:
            # Reported straight as 放款: the credit granted is the accepted offer's amount.
            granted = (values.get("amount") if outcome == "granted" else None) or (
                offer.amount if offer else values.get("amount")
            )
            _move(workflows.DISPATCH, locked, "grant", actor)
            _move(
                workflows.DEMAND, demand, "grant", actor,
                changes={"granted_amount": granted},
                event=_Event(
                    _("%(name)s 反馈：已授信 %(amount)s")
                    % {"name": locked.institution, "amount": el.wan(granted) if granted else "—"},
                    enterprise_users(demand),
                    institution_id=locked.institution_id,
                ),
            )  # fmt: skip
            if outcome == "granted":
                return demand
        elif outcome == "granted":
            raise Conflict(
                _("派单当前为「%(state)s」，不能反馈授信") % {"state": locked.get_state_display()},
                code="invalid_transition",
            )
        _move(workflows.DISPATCH, locked, "disburse", actor)
        _move(
            workflows.DEMAND, demand, "disburse", actor,
            changes={
                "disbursed_amount": values["amount"], "disbursed_rate": values["rate"],
                "disbursed_term_months": values["term_months"],
                "disbursed_on": values["disbursed_on"], "closed_at": timezone.now(),
            },
            event=_Event(
                _("%(name)s 反馈：已放款 %(amount)s，年利率 %(rate)s，期限 %(term)s 个月，放款日期 %(on)s")
                % {
                    "name": locked.institution, "amount": el.wan(values["amount"]),
                    "rate": el.percent(values["rate"]), "term": values["term_months"],
                    "on": values["disbursed_on"].isoformat(),
                },
                enterprise_users(demand),
                institution_id=locked.institution_id,
            ),
        )  # fmt: skip
        _record_financing(demand, locked, actor)
    return demand


def _record_financing(demand: Demand, dispatch: Dispatch, actor) -> None:
    """已放款 feeds the indicator system's fact table (insights.FinancingRecord)
    in the same transaction; `source_ref` keeps it counted once."""
    enterprise = demand.enterprise
    demand_signals.financing_disbursed.send_in_transaction(
        region=enterprise.region,
        institution=dispatch.institution,
        amount=demand.disbursed_amount,
        on=demand.disbursed_on,
        industry=enterprise.industry,
        enterprise=enterprise,
        source_ref=f"demand:{demand.pk}",
        actor=actor,
        demand=demand,
    )
