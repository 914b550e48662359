"""Opening a pipeline, recording each stage reached, withdrawing.

Every stage change goes through `chanrong.core.workflow.apply_transition`
with the PIPELINE table (actor checked, audited, notified) under the
pipeline's row lock; the checks that are about the data — the stage asked
for is the next one, 上市 only for exchange boards and 挂牌 only for
新三板/区域性股权市场, dates in order and not in the future, the stock code
and proceeds of a listing — come first and refuse with the field named (422).

On 上市/挂牌 the enterprise gets a registry Qualification of kind LISTED
through the registry's own service, in the same transaction.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.accounts.models import User
from chanrong.core import audit, notify
from chanrong.core.errors import Conflict, FieldError, NotAllowed, NotFound, ValidationFailed
from chanrong.core.scope import ScopeKind, scope_of
from chanrong.core.workflow import Transition, apply_transition
from chanrong.registry.models import Enterprise, QualificationKind
from chanrong.registry.services import add_qualification

from .. import permissions as p
from ..models import (
    EXCHANGE_BOARDS,
    FINAL,
    QUOTED_BOARDS,
    REGIONAL_BOARDS,
    Board,
    Pipeline,
    Stage,
    StageRecord,
    final_stage,
    next_stage,
)
from ..workflows import PIPELINE
from . import common as f

CREATE_FIELDS = {"enterprise", "board", "agency_id", "reached_on", "document_no", "evidence"}
ADVANCE_FIELDS = {
    "stage",
    "reached_on",
    "agency_id",
    "document_no",
    "evidence",
    "stock_code",
    "proceeds",
}
WITHDRAW_FIELDS = {"withdrawn_on", "reason"}

#: Who admits to (or quotes on) each board: the Qualification's issuer.
ISSUERS = {
    Board.MAIN: "上海证券交易所/深圳证券交易所",
    Board.CHINEXT: "深圳证券交易所",
    Board.STAR: "上海证券交易所",
    Board.BSE: "北京证券交易所",
    Board.NEEQ: "全国中小企业股份转让系统",
    Board.REGIONAL: "区域性股权市场",
    Board.REGIONAL_SME: "区域性股权市场专精特新专板",
}
#: The registry's board codes (it has one 区域性股权市场 for both).
REGISTRY_BOARD = {Board.REGIONAL_SME: "regional"}


def _unknown(data: dict[str, Any], allowed: set[str]) -> list[FieldError]:
    return [FieldError(k, _("不允许的字段")) for k in sorted(set(data) - allowed)]


def get_visible_pipeline(actor, pk: int) -> Pipeline:
    found = (
        Pipeline.objects.visible_to(actor)
        .select_related("enterprise", "agency", "agency__region")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise NotFound(_("未找到该上市培育进程"))
    return found


def _enterprise(actor, value: Any, errors: list[FieldError]) -> Enterprise | None:
    scope = scope_of(actor)
    if f.blank(value):
        if scope.kind == ScopeKind.ENTERPRISE:
            return Enterprise.objects.get(pk=scope.enterprise_id)
        errors.append(FieldError("enterprise", _("必填")))
        return None
    visible = Enterprise.objects.visible_to(actor)
    text = str(value).strip()
    found = (
        visible.filter(pk=int(text)).first()
        if text.isdigit() and len(text) < 18
        else visible.filter(uscc=text.upper()).first()
    )
    if found is None:
        errors.append(FieldError("enterprise", _("企业不存在")))
    return found


def _recipients(pipeline: Pipeline) -> list:
    return list(User.objects.filter(is_active=True, enterprise_id=pipeline.enterprise_id)) + list(
        User.objects.filter(is_active=True, agency_id=pipeline.agency_id)
    )


def _notify(pipeline: Pipeline, transition: Transition | None, actor) -> None:
    label = transition.label if transition else _("孵化")
    notify.send(
        [u for u in _recipients(pipeline) if u != actor],
        "listing.stage",
        _("%(enterprise)s 上市培育（%(board)s）：%(action)s")
        % {
            "enterprise": pipeline.enterprise.name,
            "board": pipeline.get_board_display(),
            "action": label,
        },
        pipeline.get_absolute_url(),
    )


def create_pipeline(actor, data: dict[str, Any], *, today: date | None = None) -> Pipeline:
    """Open a pipeline at 孵化: government for an enterprise of its region,
    or an enterprise for itself (its 孵化 application)."""
    today = today or timezone.localdate()
    errors = _unknown(data, CREATE_FIELDS)
    enterprise = _enterprise(actor, data.get("enterprise"), errors)
    board = f.choice(data, "board", Board, errors, required=True)
    reached_on = f.day(data, "reached_on", errors, today) or today
    document_no = f.text(data, "document_no", errors, 100)
    evidence = f.text(data, "evidence", errors, 500)
    if errors or enterprise is None:
        raise ValidationFailed(errors)
    if not p.may_open(actor, enterprise):
        raise NotAllowed(_("无权为该企业建立上市培育进程"))
    default_agency = actor.agency if scope_of(actor).kind == ScopeKind.GOVERNMENT else None
    agency = f.agency_for(data, "agency_id", errors, enterprise, default_agency)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        Enterprise.objects.select_for_update().get(pk=enterprise.pk)
        if (
            Pipeline.objects.filter(enterprise=enterprise, board=board)
            .exclude(stage=Stage.WITHDRAWN)
            .exists()
        ):
            raise Conflict(_("该企业在此板块已有上市培育进程"), code="pipeline_exists")
        pipeline = Pipeline.objects.create(
            enterprise=enterprise, board=board, agency=agency, created_by=actor
        )
        StageRecord.objects.create(
            pipeline=pipeline,
            stage=Stage.INCUBATION,
            reached_on=reached_on,
            agency=agency,
            document_no=document_no,
            evidence=evidence,
            recorded_by=actor,
        )
        audit.record(
            "listing.pipeline.create",
            actor=actor,
            obj=pipeline,
            changes={
                "enterprise": enterprise.pk,
                "board": board,
                "agency": agency.pk,
                "reached_on": reached_on,
                "document_no": document_no or None,
            },
        )
        _notify(pipeline, None, actor)
    return pipeline


def last_record(pipeline: Pipeline) -> StageRecord | None:
    return StageRecord.objects.filter(pipeline=pipeline).order_by("-reached_on", "-pk").first()


def _check_stage(pipeline: Pipeline, stage: str | None, errors: list[FieldError]) -> None:
    if stage is None:
        return
    expected = next_stage(pipeline.stage, pipeline.board)
    if expected is None:
        errors.append(
            FieldError(
                "stage",
                _("该进程已处于「%(s)s」，不能再推进") % {"s": pipeline.get_stage_display()},
            )
        )
    elif stage == Stage.LISTED and pipeline.board in QUOTED_BOARDS:
        errors.append(FieldError("stage", _("新三板和区域性股权市场只能挂牌，不是上市")))
    elif stage == Stage.QUOTED and pipeline.board in EXCHANGE_BOARDS:
        errors.append(FieldError("stage", _("交易所板块（主板、创业板、科创板、北交所）只能上市")))
    elif stage != expected:
        errors.append(
            FieldError(
                "stage",
                _("阶段只能逐级推进：下一阶段为「%(s)s」") % {"s": Stage(expected).label},
            )
        )


def _check_dates(pipeline: Pipeline, stage: str | None, reached_on: date | None, errors) -> None:
    if reached_on is None:
        return
    if stage in FINAL:
        filing = StageRecord.objects.filter(pipeline=pipeline, stage=Stage.FILING).first()
        if filing is not None and reached_on < filing.reached_on:
            errors.append(
                FieldError(
                    "reached_on",
                    _("上市/挂牌日期不能早于申报日期 %(d)s") % {"d": filing.reached_on},
                )
            )
            return
    previous = last_record(pipeline)
    if previous is not None and reached_on < previous.reached_on:
        errors.append(
            FieldError(
                "reached_on",
                _("日期不能早于上一阶段「%(s)s」的日期 %(d)s")
                % {"s": previous.get_stage_display(), "d": previous.reached_on},
            )
        )


def _listing_values(pipeline: Pipeline, stage: str, data: dict[str, Any], errors) -> dict:
    code = f.text(data, "stock_code", errors, 20, required=True)
    six_digits = code.isdigit() and len(code) == 6
    if code and pipeline.board not in REGIONAL_BOARDS and not six_digits:
        errors.append(FieldError("stock_code", _("证券代码应为 6 位数字")))
    proceeds = f.money(data, "proceeds", errors)
    if (
        proceeds is None
        and stage == Stage.LISTED
        and not any(e.field == "proceeds" for e in errors)
    ):
        errors.append(FieldError("proceeds", _("必填：募集资金（元）")))
    return {"stock_code": code, "proceeds": proceeds}


def advance(actor, pipeline: Pipeline, data: dict[str, Any], *, today: date | None = None):
    """Record the next stage reached (see the module docstring)."""
    today = today or timezone.localdate()
    errors = _unknown(data, ADVANCE_FIELDS)
    stage = f.choice(data, "stage", Stage, errors, required=True)
    reached_on = f.day(data, "reached_on", errors, today, required=True)
    document_no = f.text(data, "document_no", errors, 100)
    evidence = f.text(data, "evidence", errors, 500)
    with transaction.atomic():
        locked = (
            Pipeline.objects.select_for_update().select_related("enterprise").get(pk=pipeline.pk)
        )
        if not p.may_advance(actor, locked):
            raise NotAllowed(_("无权推进该企业的上市培育进程"))
        _check_stage(locked, stage, errors)
        _check_dates(locked, stage, reached_on, errors)
        agency = f.agency_for(data, "agency_id", errors, locked.enterprise, locked.agency)
        changes: dict[str, Any] = {}
        if stage in FINAL and stage == final_stage(locked.board):
            changes = _listing_values(locked, stage, data, errors)
            changes["listed_on"] = reached_on
        elif stage not in FINAL and (
            not f.blank(data.get("stock_code")) or not f.blank(data.get("proceeds"))
        ):
            key = "stock_code" if not f.blank(data.get("stock_code")) else "proceeds"
            errors.append(FieldError(key, _("证券代码和募集资金只在上市/挂牌时填写")))
        if errors:
            raise ValidationFailed(errors)
        record = StageRecord.objects.create(
            pipeline=locked,
            stage=stage,
            reached_on=reached_on,
            agency=agency,
            document_no=document_no,
            evidence=evidence,
            recorded_by=actor,
        )
        moved = apply_transition(
            PIPELINE,
            locked,
            stage,
            actor,
            changes=changes,
            notify=_notify,
            audit_extra={
                "reached_on": reached_on,
                "agency": agency.pk,
                "document_no": document_no or None,
                "record": record.pk,
            },
        )
        if stage in FINAL:
            add_qualification(
                actor,
                locked.enterprise,
                {
                    "kind": QualificationKind.LISTED,
                    "board": REGISTRY_BOARD.get(locked.board, locked.board),
                    "issuer": ISSUERS[locked.board],
                    "certificate_no": changes["stock_code"],
                    "valid_from": reached_on,
                    "note": _("上市培育进程 %(pk)s") % {"pk": locked.pk},
                },
            )
    pipeline.stage = moved.stage
    for key, value in changes.items():
        setattr(pipeline, key, value)
    return moved


def withdraw(actor, pipeline: Pipeline, data: dict[str, Any], *, today: date | None = None):
    """撤回/终止 from any stage before the last, with the date and the reason."""
    today = today or timezone.localdate()
    errors = _unknown(data, WITHDRAW_FIELDS)
    withdrawn_on = f.day(data, "withdrawn_on", errors, today) or today
    reason = f.text(data, "reason", errors, 300, required=True)
    with transaction.atomic():
        locked = (
            Pipeline.objects.select_for_update().select_related("enterprise").get(pk=pipeline.pk)
        )
        previous = last_record(locked)
        if previous is not None and withdrawn_on < previous.reached_on:
            errors.append(
                FieldError(
                    "withdrawn_on",
                    _("日期不能早于上一阶段「%(s)s」的日期 %(d)s")
                    % {"s": previous.get_stage_display(), "d": previous.reached_on},
                )
            )
        if errors:
            raise ValidationFailed(errors)
        moved = apply_transition(
            PIPELINE,
            locked,
            "withdraw",
            actor,
            changes={"withdrawn_on": withdrawn_on, "withdraw_reason": reason},
            notify=_notify,
        )
    pipeline.stage = moved.stage
    pipeline.withdrawn_on, pipeline.withdraw_reason = withdrawn_on, reason
    return moved


def actions(actor, pipeline: Pipeline) -> list[str]:
    """The transitions `actor` may take now (for the page's buttons)."""
    return [t.name for t in PIPELINE.available(pipeline, actor)]
