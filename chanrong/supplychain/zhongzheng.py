"""中征应收账款融资服务平台 linkage by file (issue 19 item 4; no network link).

Export: the confirmed receivables (确权) and their financing registrations,
as CSV (UTF-8 with BOM, comma, header row of the Chinese column names) or
JSON (`{"format": "chanrong.zhongzheng.v1", "rows": [...]}`), for a
government user (its region's subtree, `Receivable.visible_to`), a bank (the
receivables it finances) or a platform admin. Every export is recorded
through the platform's export audit (`core.export_policy.record_export`).

Import: the same layout coming back with the 中登网 registration number and
the 中征 confirmation status filled in, matched by the receivable reference
(`YS` + 10 digits). Each row is checked — errors by row and column — and the
file is written in one transaction only when every row is valid; a row that
changes nothing is counted as unchanged, so a re-import writes nothing.
The layout is documented in docs/zhongzheng-linkage.md.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from chanrong.core import audit
from chanrong.core.errors import FieldError, NotAllowed, ValidationFailed
from chanrong.core.export_policy import record_export
from chanrong.core.scope import ScopeKind, scope_of

from .models import Financing, Receivable, ZhongzhengLink, ZhongzhengStatus

FORMAT = "chanrong.zhongzheng.v1"
EXPORT_KIND = "supplychain_zhongzheng"
MAX_ROWS = 20_000
MAX_BYTES = 10 * 1024 * 1024
REFERENCE = re.compile(r"^YS\d{10}$")
#: 中登网 registration numbers: digits and capital letters, 10 to 32 characters.
REGISTRATION = re.compile(r"^[0-9A-Z]{10,32}$")

#: (field, CSV header) in the exported order.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("reference", "应收账款编号"),
    ("creditor_uscc", "债权人统一社会信用代码"),
    ("creditor_name", "债权人名称"),
    ("debtor_uscc", "债务人统一社会信用代码"),
    ("debtor_name", "债务人名称"),
    ("contract_no", "合同编号"),
    ("amount", "应收账款金额（元）"),
    ("issued_on", "债权发生日期"),
    ("due_on", "到期日期"),
    ("state", "平台确权状态"),
    ("confirmed_amount", "确权金额（元）"),
    ("confirmed_on", "确权日期"),
    ("bank", "融资机构"),
    ("financing_mode", "融资方式"),
    ("financing_amount", "融资金额（元）"),
    ("financed_on", "放款日期"),
    ("financing_registration_no", "平台融资登记编号"),
    ("zz_registration_no", "中登网登记编号"),
    ("zz_status", "中征平台确权状态"),
    ("zz_status_on", "中征状态日期"),
)
HEADERS = {header: name for name, header in COLUMNS}
IMPORTED = ("zz_registration_no", "zz_status", "zz_status_on")
STATUS_BY_LABEL = {str(label): value for value, label in ZhongzhengStatus.choices}


def reference_of(receivable_id: int) -> str:
    return f"YS{receivable_id:010d}"


def can_link(actor) -> bool:
    return scope_of(actor).kind in (ScopeKind.GOVERNMENT, ScopeKind.INSTITUTION, ScopeKind.PLATFORM)


def linked_receivables(actor):
    """The receivables `actor` exports and may import statuses for:
    government its region's confirmed ones, a bank those it finances,
    a platform admin all confirmed ones."""
    scope = scope_of(actor)
    if not can_link(actor):
        raise NotAllowed(_("无权导出或导入中征平台数据"))
    receivables = Receivable.objects.visible_to(actor)
    if scope.kind == ScopeKind.INSTITUTION:
        return receivables.filter(
            pk__in=Financing.objects.filter(bank_id=scope.institution_id).values("receivable_id")
        )
    return receivables.confirmed()


def _money(value) -> str:
    return "" if value is None else f"{value:.2f}"


def _day(value) -> str:
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, date) else value.date().isoformat()


def export_rows(actor) -> list[dict[str, str]]:
    """One row per financing visible to `actor`, and one for a receivable
    without any; the 中征 columns as last imported."""
    receivables = list(
        linked_receivables(actor).select_related("creditor", "zhongzheng").order_by("pk")
    )
    financings: dict[int, list[Financing]] = {}
    for financing in (
        Financing.objects.visible_to(actor)
        .filter(receivable__in=[r.pk for r in receivables])
        .select_related("bank")
        .order_by("financed_on", "pk")
    ):
        financings.setdefault(financing.receivable_id, []).append(financing)
    rows = []
    for receivable in receivables:
        link = getattr(receivable, "zhongzheng", None)
        base = {
            "reference": reference_of(receivable.pk),
            "creditor_uscc": receivable.creditor.uscc,
            "creditor_name": receivable.creditor.name,
            "debtor_uscc": receivable.debtor_uscc,
            "debtor_name": receivable.debtor_name,
            "contract_no": receivable.contract_no,
            "amount": _money(receivable.amount),
            "issued_on": _day(receivable.issued_on),
            "due_on": _day(receivable.due_on),
            "state": receivable.get_state_display(),
            "confirmed_amount": _money(receivable.confirmed_amount),
            "confirmed_on": _day(receivable.confirmed_at),
            "zz_registration_no": link.registration_no if link else "",
            "zz_status": link.get_status_display() if link and link.status else "",
            "zz_status_on": _day(link.status_on) if link else "",
        }
        empty = {
            "bank": "",
            "financing_mode": "",
            "financing_amount": "",
            "financed_on": "",
            "financing_registration_no": "",
        }
        for financing in financings.get(receivable.pk) or [None]:
            row = dict(base)
            row.update(
                empty
                if financing is None
                else {
                    "bank": financing.bank.name,
                    "financing_mode": financing.get_mode_display(),
                    "financing_amount": _money(financing.amount),
                    "financed_on": _day(financing.financed_on),
                    "financing_registration_no": financing.registration_no,
                }
            )
            rows.append({name: row[name] for name, _header in COLUMNS})
    return rows


def export_linkage(actor, fmt: str) -> tuple[bytes, int]:
    """The file's bytes and its row count; the export is audited."""
    if fmt not in ("csv", "json"):
        raise ValidationFailed({"format": _("格式只能是 csv 或 json")})
    rows = export_rows(actor)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow([header for _name, header in COLUMNS])
        for row in rows:
            writer.writerow([row[name] for name, _header in COLUMNS])
        data = ("\ufeff" + out.getvalue()).encode("utf-8")
    else:
        data = json.dumps({"format": FORMAT, "rows": rows}, ensure_ascii=False, indent=1).encode()
    record_export(actor, EXPORT_KIND, "中征应收账款平台数据", {"format": fmt}, len(rows))
    return data, len(rows)


# --- import ------------------------------------------------------------------------------------


@dataclass
class LinkageResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def parse_file(data: bytes, fmt: str) -> list[tuple[int, dict[str, Any]]]:
    """(row number, values by field) for each data row. CSV rows are
    numbered as a spreadsheet shows them (the header is row 1); JSON rows
    from 1. Unknown columns are ignored; the reference column is required."""
    if len(data) > MAX_BYTES:
        raise ValidationFailed({"file": _("文件超过 10 MB")})
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed({"file": _("文件须为 UTF-8 编码")}) from None
    if "\x00" in text:
        raise ValidationFailed({"file": _("文件含有非法字符")})
    if fmt == "json":
        try:
            body = json.loads(text)
        except ValueError:
            raise ValidationFailed({"file": _("不是有效的 JSON")}) from None
        if not isinstance(body, dict) or body.get("format") != FORMAT:
            raise ValidationFailed({"format": _("JSON 须为 %(f)s 格式") % {"f": FORMAT}})
        items = body.get("rows")
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise ValidationFailed({"rows": _("rows 须为对象数组")})
        rows = [(n, item) for n, item in enumerate(items, start=1)]
    elif fmt == "csv":
        reader = csv.reader(io.StringIO(text))
        header = next(reader, None)
        if not header or "应收账款编号" not in [h.strip() for h in header]:
            raise ValidationFailed({"file": _("缺少表头“应收账款编号”")})
        names = [HEADERS.get(h.strip(), "") for h in header]
        rows = []
        for n, cells in enumerate(reader, start=2):
            if not any(c.strip() for c in cells):
                continue
            rows.append((n, {name: cell for name, cell in zip(names, cells, strict=False) if name}))
    else:
        raise ValidationFailed({"format": _("格式只能是 csv 或 json")})
    if not rows:
        raise ValidationFailed({"file": _("文件中没有数据行")})
    if len(rows) > MAX_ROWS:
        raise ValidationFailed({"file": _("一次最多导入 %(n)d 行") % {"n": MAX_ROWS}})
    return rows


def _clean(values: dict[str, Any], errors: list[FieldError], n: int) -> dict[str, Any]:
    def error(field: str, message: str) -> None:
        errors.append(FieldError(f"rows.{n}.{field}", message))

    def text(field: str) -> str:
        value = values.get(field)
        if value is None:
            return ""
        if not isinstance(value, str):
            error(field, _("须为文本"))
            return ""
        return value.strip()

    reference = text("reference")
    if not reference:
        error("reference", _("必填"))
    elif not REFERENCE.match(reference):
        error("reference", _("应收账款编号格式应为 YS 加 10 位数字"))
    registration_no = text("zz_registration_no").upper()
    if registration_no and not REGISTRATION.match(registration_no):
        error("zz_registration_no", _("中登网登记编号应为 10 至 32 位数字或大写字母"))
    label = text("zz_status")
    status = STATUS_BY_LABEL.get(label, label if label in ZhongzhengStatus.values else None)
    if label and status is None:
        error("zz_status", _("确权状态只能是 待确权、已确权、部分确权 或 有异议"))
    day_text = text("zz_status_on")
    status_on = None
    if day_text:
        try:
            status_on = date.fromisoformat(day_text)
        except ValueError:
            error("zz_status_on", _("日期格式应为 YYYY-MM-DD"))
    if not registration_no and not label:
        error("zz_registration_no", _("中登网登记编号和确权状态至少填写一项"))
    return {
        "reference": reference,
        "registration_no": registration_no,
        "status": status or "",
        "status_on": status_on,
    }


def import_linkage(actor, rows: Iterable[tuple[int, dict[str, Any]]]) -> LinkageResult:
    """Check every row, then write all of them in one transaction or none."""
    allowed = linked_receivables(actor)
    errors: list[FieldError] = []
    cleaned: list[tuple[int, dict[str, Any]]] = []
    seen: dict[str, int] = {}
    for n, values in rows:
        row = _clean(values, errors, n)
        reference = row["reference"]
        if reference and REFERENCE.match(reference):
            if reference in seen:
                errors.append(
                    FieldError(
                        f"rows.{n}.reference",
                        _("与第 %(n)d 行的应收账款编号重复") % {"n": seen[reference]},
                    )
                )
            seen.setdefault(reference, n)
        cleaned.append((n, row))
    ids = {ref: int(ref[2:]) for ref in seen}
    found = set(allowed.filter(pk__in=ids.values()).values_list("pk", flat=True))
    for n, row in cleaned:
        ref = row["reference"]
        if ref in ids and ids[ref] not in found:
            errors.append(FieldError(f"rows.{n}.reference", _("应收账款不存在或不在您的范围内")))
    if errors:
        raise ValidationFailed(errors)
    result = LinkageResult()
    with transaction.atomic():
        links = {
            link.receivable_id: link
            for link in ZhongzhengLink.objects.select_for_update().filter(receivable_id__in=found)
        }
        for _n, row in cleaned:
            receivable_id = ids[row["reference"]]
            new = {
                "registration_no": row["registration_no"],
                "status": row["status"],
                "status_on": row["status_on"],
            }
            link = links.get(receivable_id)
            if link is None:
                link = ZhongzhengLink.objects.create(
                    receivable_id=receivable_id, imported_by=actor, **new
                )
                result.created += 1
                before = None
            else:
                before = {k: getattr(link, k) for k in new}
                if before == new:
                    result.unchanged += 1
                    continue
                for key, value in new.items():
                    setattr(link, key, value)
                link.imported_by = actor
                link.save()
                result.updated += 1
            audit.record(
                "supplychain.zhongzheng.import",
                actor=actor,
                object_type="supplychain.Receivable",
                object_id=receivable_id,
                object_repr=row["reference"],
                changes={
                    key: [None if before is None else str(before[key] or ""), str(value or "")]
                    for key, value in new.items()
                },
            )
    return result
