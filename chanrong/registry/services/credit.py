"""Credit records (信用信息): what other departments know about an enterprise —
纳税, 社保, 公积金, 水电气, 不动产, 行政处罚, 司法判决, 海关.

Records come from government (an agency or the 大数据局, in its region) and
platform admins, never from the enterprise or a bank: they are other bodies'
findings. They arrive in bulk (an import file, an API push), so the write is
set-based: every row is checked first, then new records are inserted and
changed ones updated in one transaction, each change audited. The key
(enterprise, kind, source, reference) makes a repeated push or import
idempotent.

Institutions see an enterprise's records only while it authorises them (the
enterprise's visibility rule); every such look is audited, because this is
the enterprise's data shown to a third party.

After commit `credit_records_changed` names the enterprises whose records
changed; the risk app's event rules (行政处罚, 涉诉) look at them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.core import audit
from chanrong.core.codes import normalise_uscc
from chanrong.core.errors import Conflict, FieldError, NotAllowed, ValidationFailed
from chanrong.core.scope import ScopeKind, scope_of

from .. import signals as registry_signals
from ..models import CreditKind, CreditRecord, Enterprise
from .fields import MAX_AMOUNT

#: What a record carries besides its key; an update compares these.
CREDIT_VALUE_FIELDS = ("occurred_on", "summary", "amount", "extra")
MAX_EXTRA_KEYS = 20
MAX_EXTRA_CHARS = 2000
#: One push or import call writes at most this many records (the API says so too).
MAX_BATCH = 5000
#: Rows per query when looking up the records already stored.
LOOKUP_CHUNK = 1000

_KIND_BY_LABEL = {str(label): value for value, label in CreditKind.choices}


def can_record_credit(actor) -> bool:
    """Government users (an agency, the 大数据局) and platform admins."""
    scope = scope_of(actor)
    return scope.kind == ScopeKind.PLATFORM or (
        scope.kind == ScopeKind.GOVERNMENT and bool(getattr(actor, "is_government_user", False))
    )


def can_record_credit_for(actor, enterprise: Enterprise) -> bool:
    """Government records only about enterprises in its region subtree."""
    scope = scope_of(actor)
    if scope.kind == ScopeKind.PLATFORM:
        return True
    return (
        scope.kind == ScopeKind.GOVERNMENT
        and can_record_credit(actor)
        and enterprise.region_id.startswith(scope.region_prefix)
    )


@dataclass(frozen=True)
class CreditRow:
    """One checked record, ready to write."""

    enterprise: Enterprise
    kind: str
    occurred_on: date
    source: str
    reference: str
    summary: str
    amount: Decimal | None
    extra: dict[str, Any]

    @property
    def key(self) -> tuple[int, str, str, str]:
        return (self.enterprise.pk, self.kind, self.source, self.reference)


@dataclass
class CreditWriteResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    enterprise_ids: set[int] = field(default_factory=set)


#: Full-width digits and Latin letters to half-width; round brackets to the
#: full-width form 案号 are written in (（2026）浙0421民初1234号).
_CANONICAL = (
    {c: c - 0xFEE0 for c in range(0xFF10, 0xFF1A)}
    | {c: c - 0xFEE0 for c in range(0xFF21, 0xFF3B)}
    | {c: c - 0xFEE0 for c in range(0xFF41, 0xFF5B)}
    | {ord("("): "（", ord(")"): "）", 0x3000: " "}
)


def _text(value: Any) -> str:
    """One written form, so the same number typed twice is one key: "(2026)
    浙0421民初１２３４号" and "（2026）浙0421民初1234号" are the same case."""
    if value is None:
        return ""
    return " ".join(str(value).translate(_CANONICAL).split())


def _kind(value: Any) -> str | None:
    text = _text(value)
    if text in CreditKind.values:
        return text
    return _KIND_BY_LABEL.get(text)


def _date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(_text(value))
    except ValueError:
        return None


def _amount(value: Any) -> Decimal | str:
    """The amount in 元, or an error message."""
    if isinstance(value, bool):
        return _("应为金额（元）")
    try:
        amount = Decimal(_text(value).replace(",", ""))
    except InvalidOperation:
        return _("应为金额（元）")
    if not amount.is_finite():
        return _("应为金额（元）")
    if amount < 0:
        return _("不能为负数")
    if amount >= MAX_AMOUNT:
        return _("金额过大，请核对单位（元）")
    if amount != amount.quantize(Decimal("0.01")):
        return _("最多两位小数")
    return amount.quantize(Decimal("0.01"))


def _extra(value: Any) -> dict[str, Any] | str:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        return _("应为对象（键值对）")
    if len(value) > MAX_EXTRA_KEYS:
        return _("最多 %(n)s 项") % {"n": MAX_EXTRA_KEYS}
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        return _("只能包含文字、数字和逻辑值")
    if "\\u0000" in text:  # a NUL the database cannot store
        return _("只能包含文字、数字和逻辑值")
    if len(text) > MAX_EXTRA_CHARS:
        return _("内容过长（最多 %(n)s 个字符）") % {"n": MAX_EXTRA_CHARS}
    return json.loads(text)


def clean_credit_rows(
    actor, rows: Sequence[dict[str, Any]], *, prefix: str = ""
) -> list[CreditRow | list[FieldError]]:
    """One result per row: a CreditRow, or the row's field errors (named
    `<prefix>uscc`, `<prefix>kind` …; `prefix` may hold "{i}" for the row's
    index). The enterprises are looked up in one query, among those the actor
    sees; one outside the actor's region is an error on `uscc`."""
    usccs = {normalise_uscc(_text(row.get("uscc"))) for row in rows if row.get("uscc")}
    found = {e.uscc: e for e in Enterprise.objects.visible_to(actor).filter(uscc__in=usccs)}
    today = timezone.localdate()
    results: list[CreditRow | list[FieldError]] = []
    for index, row in enumerate(rows):
        at = prefix.format(i=index)
        errors: list[FieldError] = []

        def error(name: str, message: str) -> None:
            errors.append(FieldError(f"{at}{name}", message))  # noqa: B023 (used at once)

        uscc = normalise_uscc(_text(row.get("uscc")))
        enterprise = found.get(uscc) if uscc else None
        if not uscc:
            error("uscc", _("必填"))
        elif enterprise is None:
            error("uscc", _("企业未登记或不在您的管辖范围内"))
        elif not can_record_credit_for(actor, enterprise):
            error("uscc", _("无权登记该企业的信用信息"))
        kind = _kind(row.get("kind"))
        if not _text(row.get("kind")):
            error("kind", _("必填"))
        elif kind is None:
            error(
                "kind",
                _("应为以下之一：%(k)s")
                % {"k": "、".join(str(lb) for _v, lb in CreditKind.choices)},
            )
        occurred_on = _date(row.get("occurred_on"))
        if row.get("occurred_on") in (None, ""):
            error("occurred_on", _("必填"))
        elif occurred_on is None:
            error("occurred_on", _("日期格式应为 YYYY-MM-DD"))
        elif occurred_on > today:
            error("occurred_on", _("发生日期不能晚于今天"))
        values: dict[str, str] = {}
        for name, limit, required in (
            ("source", 100, True),
            ("reference", 100, True),
            ("summary", 1000, False),
        ):
            values[name] = _text(row.get(name))
            if required and not values[name]:
                error(name, _("必填"))
            elif len(values[name]) > limit:
                error(name, _("最多 %(n)s 个字符") % {"n": limit})
        amount: Decimal | None = None
        if row.get("amount") not in (None, ""):
            parsed = _amount(row.get("amount"))
            if isinstance(parsed, Decimal):
                amount = parsed
            else:
                error("amount", parsed)
        extra = _extra(row.get("extra"))
        if isinstance(extra, str):
            error("extra", extra)
        if errors:
            results.append(errors)
            continue
        assert enterprise is not None and kind is not None and occurred_on is not None
        assert isinstance(extra, dict)
        results.append(
            CreditRow(
                enterprise=enterprise,
                kind=kind,
                occurred_on=occurred_on,
                source=values["source"],
                reference=values["reference"],
                summary=values["summary"],
                amount=amount,
                extra=extra,
            )
        )
    return results


def save_credit_records(
    actor, rows: Sequence[CreditRow], *, origin: dict[str, Any] | None = None
) -> CreditWriteResult:
    """Insert the new records and update the changed ones, in the caller's
    transaction (or one of its own); each change is one audit entry. The rows
    must have distinct keys (the callers check: a repeat inside one file or
    push is the sender's mistake, said by row)."""
    result = CreditWriteResult()
    if not rows:
        return result
    if not can_record_credit(actor):
        raise NotAllowed(_("只有政府部门和平台管理员可以登记信用信息"))
    with transaction.atomic():
        existing: dict[tuple[int, str, str, str], CreditRecord] = {}
        # Per enterprise, in chunks: the unique index (enterprise, kind, source,
        # reference) answers each query, and no query exceeds SQLite's bound
        # parameters however large the file.
        by_enterprise: dict[int, list[CreditRow]] = {}
        for row in rows:
            by_enterprise.setdefault(row.enterprise.pk, []).append(row)
        chunks = [
            (enterprise_id, group[start : start + LOOKUP_CHUNK])
            for enterprise_id, group in by_enterprise.items()
            for start in range(0, len(group), LOOKUP_CHUNK)
        ]
        for enterprise_id, chunk in chunks:
            for record in CreditRecord.objects.filter(
                enterprise_id=enterprise_id,
                kind__in={row.kind for row in chunk},
                source__in={row.source for row in chunk},
                reference__in={row.reference for row in chunk},
            ):
                key = (record.enterprise_id, record.kind, record.source, record.reference)
                existing[key] = record
        new: list[CreditRecord] = []
        changed: list[tuple[CreditRecord, dict[str, Any]]] = []
        for row in rows:
            record = existing.get(row.key)
            if record is None:
                new.append(
                    CreditRecord(
                        enterprise=row.enterprise,
                        kind=row.kind,
                        occurred_on=row.occurred_on,
                        source=row.source,
                        reference=row.reference,
                        summary=row.summary,
                        amount=row.amount,
                        extra=row.extra,
                        recorded_by=actor if getattr(actor, "pk", None) else None,
                    )
                )
                continue
            before = {name: getattr(record, name) for name in CREDIT_VALUE_FIELDS}
            after = {name: getattr(row, name) for name in CREDIT_VALUE_FIELDS}
            diff = audit.diff(before, after)
            if not diff:
                result.unchanged += 1
                continue
            for name, value in after.items():
                setattr(record, name, value)
            record.recorded_by = actor if getattr(actor, "pk", None) else None
            record.updated_at = timezone.now()
            changed.append((record, diff))
        try:
            with transaction.atomic():
                CreditRecord.objects.bulk_create(new, batch_size=1000)
        except IntegrityError as exc:  # the same record pushed concurrently
            raise Conflict(_("有记录正被同时登记，请稍后重试"), code="credit_record_busy") from exc
        if changed:
            CreditRecord.objects.bulk_update(
                [record for record, _diff in changed],
                [*CREDIT_VALUE_FIELDS, "recorded_by", "updated_at"],
                batch_size=1000,
            )
        info = audit.describe_actor(actor)
        # The label looked up once per kind: get_kind_display() per record
        # costs more than the rest of the audit entry.
        labels = {value: str(label) for value, label in CreditKind.choices}
        extra = {"origin": origin} if origin else {}
        audit.record_many(
            [
                audit.entry(
                    "credit.create",
                    obj=record,
                    object_repr=f"{labels[record.kind]} {record.reference}",
                    actor_info=info,
                    changes={
                        "enterprise": record.enterprise_id,
                        "kind": record.kind,
                        "reference": record.reference,
                        "occurred_on": record.occurred_on,
                        "amount": record.amount,
                        **extra,
                    },
                )
                for record in new
            ]
            + [
                audit.entry(
                    "credit.update",
                    obj=record,
                    object_repr=f"{labels[record.kind]} {record.reference}",
                    actor_info=info,
                    changes={**diff, **extra},
                )
                for record, diff in changed
            ]
        )
        result.created = len(new)
        result.updated = len(changed)
        result.enterprise_ids = {r.enterprise_id for r in new} | {
            r.enterprise_id for r, _d in changed
        }
        if result.enterprise_ids:
            registry_signals.credit_records_changed.send_after_commit(result.enterprise_ids)
    return result


def record_credit_records(actor, rows: Sequence[dict[str, Any]]) -> CreditWriteResult:
    """A bulk push (API): all rows valid or nothing is written; errors name
    the row (`rows.3.reference`). A row repeating an earlier row's key is an
    error; a row repeating a stored record updates it (idempotent)."""
    if not can_record_credit(actor):
        raise NotAllowed(_("只有政府部门和平台管理员可以登记信用信息"))
    if len(rows) > MAX_BATCH:
        raise ValidationFailed({"rows": _("一次最多 %(n)s 条") % {"n": MAX_BATCH}})
    results = clean_credit_rows(actor, rows, prefix="rows.{i}.")
    errors: list[FieldError] = []
    checked: list[CreditRow] = []
    seen: dict[tuple, int] = {}
    for index, result in enumerate(results):
        if isinstance(result, list):
            errors.extend(result)
            continue
        if result.key in seen:
            errors.append(
                FieldError(
                    f"rows.{index}.reference",
                    _("与第 %(n)s 条重复（同一企业、类别、来源机构和编号）")
                    % {"n": seen[result.key] + 1},
                )
            )
            continue
        seen[result.key] = index
        checked.append(result)
    if errors:
        raise ValidationFailed(errors)
    return save_credit_records(actor, checked, origin={"via": "api"})


def credit_records_for(actor, enterprise: Enterprise, *, kind: str | None = None):
    """The enterprise's records as `actor` may see them; an institution's look
    (it sees them only under the enterprise's authorisation) is audited. The
    caller has already found `enterprise` through `visible_to`."""
    records = CreditRecord.objects.visible_to(actor).filter(enterprise=enterprise)
    if kind:
        records = records.filter(kind=kind)
    if scope_of(actor).kind == ScopeKind.INSTITUTION:
        audit.record(
            "credit.view",
            actor=actor,
            obj=enterprise,
            changes={"kind": kind or "all", "count": records.count()},
        )
    return records.order_by("-occurred_on", "-pk")
