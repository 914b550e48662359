"""Bulk enterprise import (used by chanrong.registry.imports).

The same rules as create_enterprise / update_enterprise / clean_profile_data,
checked for a batch with a few queries (regions and industries are looked up
in memory), then written with one bulk upsert per chunk inside the caller's
transaction. One audit entry summarises the import: a row per enterprise
would cost more than the import itself at 100,000 rows; the entry carries
the file's SHA-256 (the exact input) and, for up to IMPORT_AUDIT_LIST_MAX
enterprises, their USCCs.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.core import audit
from chanrong.core.codes import normalise_uscc
from chanrong.core.errors import FieldError, NotAllowed, ValidationFailed
from chanrong.core.fieldcrypt import encrypt_row, hash_row
from chanrong.core.models import Industry, IndustryLevel, Region, RegionLevel
from chanrong.core.money import to_halfwidth
from chanrong.core.scope import ScopeKind, scope_of

from ..models import Enterprise
from .access import can_create_enterprise
from .enterprises import clean_enterprise_data, compute_size
from .fields import WAN
from .personal import PERSONAL_FIELDS
from .profile import PROFILE_FIELDS, clean_profile_data
from .provenance import imported_figures

IMPORT_CORE_FIELDS = ("uscc", "name", "employees", "revenue_wan", "assets_wan")
IMPORT_AUDIT_LIST_MAX = 1000
_IMPORT_MODEL_FIELDS = (
    "name",
    "region",
    "industry",
    "employees",
    "revenue",
    "assets",
    "size",
    "founded_on",
    "registered_capital",
    "legal_representative",
    "contact_name",
    "contact_phone",
    "contact_email",
    "address",
    "main_products",
    "rd_expense",
    "is_above_scale",
    "strategic_emerging_category",
    "chongqing_class",
)


@dataclass
class EnterpriseImport:
    """What checking and writing one import's rows needs."""

    actor: Any
    region_prefix: str  # "" = everywhere
    regions: dict[str, Region]
    counties_by_name: dict[str, list[Region]]
    industries: dict[str, Industry]
    divisions_by_number: dict[str, Industry]
    industries_by_name: dict[str, Industry]


def can_import_enterprises(actor) -> bool:
    return can_create_enterprise(actor)


def start_enterprise_import(actor) -> EnterpriseImport:
    if not can_import_enterprises(actor):
        raise NotAllowed(_("只有政府用户或平台管理员可以导入企业"))
    scope = scope_of(actor)
    prefix = scope.region_prefix if scope.kind == ScopeKind.GOVERNMENT else ""
    regions = {r.code: r for r in Region.objects.all()}
    counties: dict[str, list[Region]] = {}
    for region in regions.values():
        if region.level == RegionLevel.COUNTY and region.code.startswith(prefix):
            counties.setdefault(region.name, []).append(region)
    industries = {i.code: i for i in Industry.objects.all()}
    return EnterpriseImport(
        actor=actor,
        region_prefix=prefix or "",
        regions=regions,
        counties_by_name=counties,
        industries=industries,
        divisions_by_number={
            i.code[1:]: i for i in industries.values() if i.level == IndustryLevel.DIVISION
        },
        industries_by_name={i.name: i for i in industries.values()},
    )


def _import_region(ctx: EnterpriseImport, value: Any, errors: list[FieldError]) -> Region | None:
    """A county by its code (as clean_enterprise_data) or, failing that, by a
    name that is unique within the importer's region."""
    code = to_halfwidth(str(value)).strip()
    region = ctx.regions.get(code)
    if region is None:
        named = ctx.counties_by_name.get(code, [])
        if len(named) == 1:
            return named[0]
        if len(named) > 1:
            errors.append(
                FieldError(
                    "region_code",
                    _("地区名称“%(name)s”不唯一（%(codes)s），请填写 6 位行政区划代码")
                    % {"name": code, "codes": "、".join(r.code for r in named)},
                )
            )
            return None
        errors.append(FieldError("region_code", _("行政区划代码 %s 不存在") % code))
        return None
    if region.level != RegionLevel.COUNTY:
        errors.append(FieldError("region_code", _("应为县级行政区划代码（6 位）")))
        return None
    return region


def _import_industry(
    ctx: EnterpriseImport, value: Any, errors: list[FieldError]
) -> Industry | None:
    """A division by its code ("C39"), its bare number ("39") or its name."""
    text = to_halfwidth(str(value)).strip()
    industry = (
        ctx.industries.get(text.upper())
        or ctx.divisions_by_number.get(text)
        or ctx.industries_by_name.get(text)
    )
    if industry is None:
        errors.append(
            FieldError("industry_code", _("行业代码 %(code)s 不存在") % {"code": text.upper()})
        )
        return None
    if industry.level == IndustryLevel.SECTION:
        errors.append(FieldError("industry_code", _("应为行业大类代码，如 C39")))
        return None
    return industry


def clean_enterprise_import(
    ctx: EnterpriseImport, rows: list[dict[str, Any]]
) -> list[dict[str, Any] | list[FieldError]]:
    """Check a batch of rows (service input keys; None = blank cell, which
    keeps what is stored). Returns, per row, the model values to write
    (with "uscc") or the errors."""
    usccs = [normalise_uscc(str(row.get("uscc") or "")) for row in rows]
    existing = dict(
        Enterprise.objects.filter(uscc__in=[u for u in usccs if u]).values_list("uscc", "region_id")
    )
    prefix = ctx.region_prefix
    results: list[dict[str, Any] | list[FieldError]] = []
    for row in rows:
        data = {key: value for key, value in row.items() if value is not None}
        errors: list[FieldError] = []
        values: dict[str, Any] = {}
        core = {key: data[key] for key in IMPORT_CORE_FIELDS if key in data}
        # A masked personal value (an edited export: 138****5678) keeps what is stored.
        profile = {
            key: data[key]
            for key in PROFILE_FIELDS
            if key in data and not (key in PERSONAL_FIELDS and "*" in str(data[key]))
        }
        for cleaner in (
            lambda core=core: clean_enterprise_data(core, partial=True),
            lambda profile=profile: clean_profile_data(profile),
        ):
            try:
                values.update(cleaner())
            except ValidationFailed as exc:
                errors.extend(exc.errors)
        if "region_code" in data:
            region = _import_region(ctx, data["region_code"], errors)
            if region is not None:
                values["region"] = region
                if prefix and not region.code.startswith(prefix):
                    errors.append(FieldError("region_code", _("只能导入本辖区内的企业")))
        if "industry_code" in data:
            industry = _import_industry(ctx, data["industry_code"], errors)
            if industry is not None:
                values["industry"] = industry
        if "uscc" not in data:
            errors.append(FieldError("uscc", _("必填")))
        uscc = values.get("uscc")
        current_region = existing.get(uscc) if uscc else None
        if uscc and current_region is None:
            for key in ("name", "region_code", "industry_code"):
                if key not in data:
                    errors.append(FieldError(key, _("必填（新登记的企业）")))
        elif current_region is not None and prefix and not current_region.startswith(prefix):
            errors.append(FieldError("uscc", _("该统一社会信用代码已由其他辖区登记")))
        results.append(errors or values)
    return results


@dataclass
class EnterpriseImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def _enterprise_columns():
    return [f for f in Enterprise._meta.concrete_fields if not f.primary_key]


def _upsert_enterprise_rows(rows: list[dict[str, Any]]) -> None:
    """INSERT … ON CONFLICT (uscc) DO UPDATE for rows of column values.

    On PostgreSQL one statement per chunk over unnest() arrays, built here
    rather than by bulk_create: at 100,000 rows Django's per-value
    preparation and the model instances cost more than the database does.
    Elsewhere (SQLite) bulk_create(update_conflicts=True) does the same."""
    fields = _enterprise_columns()
    keep = {"uscc", "created_at"}
    if connection.vendor == "postgresql":
        quote = connection.ops.quote_name
        # Raw SQL skips the fields' own preparation: encrypt the personal
        # columns here (bulk_create below does it through the field).
        rows = [encrypt_row(Enterprise, row) for row in rows]
        columns = ", ".join(quote(f.column) for f in fields)
        arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in fields)
        updates = ", ".join(
            f"{quote(f.column)} = EXCLUDED.{quote(f.column)}"
            for f in fields
            if f.attname not in keep
        )
        # Only the model's own table, column names and types go into the text;
        # every value is a bound parameter.
        sql = (
            f"INSERT INTO {quote(Enterprise._meta.db_table)} ({columns}) "  # noqa: S608
            f"SELECT * FROM unnest({arrays}) ON CONFLICT ({quote('uscc')}) DO UPDATE SET {updates}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [[row[f.attname] for row in rows] for f in fields])
        return
    Enterprise.objects.bulk_create(
        [Enterprise(**row) for row in rows],
        update_conflicts=True,
        unique_fields=["uscc"],
        update_fields=[f.name for f in fields if f.attname not in keep],
    )


def save_enterprise_import(
    ctx: EnterpriseImport,
    rows: list[dict[str, Any]],
    *,
    source: dict[str, Any] | None = None,
    chunk_size: int = 5000,
) -> EnterpriseImportResult:
    """Write rows from clean_enterprise_import: create new USCCs, update
    existing ones (stored values stay where a row left a cell blank), skip
    rows that change nothing; one summary audit entry. Idempotent by USCC.
    All or nothing: one transaction (savepoint inside the caller's). The
    size is computed by compute_size, as for every other write."""
    if not can_import_enterprises(ctx.actor):
        raise NotAllowed(_("只有政府用户或平台管理员可以导入企业"))
    fields = _enterprise_columns()
    names = [f.attname for f in fields]
    compared = [n for n in names if n not in ("created_at", "updated_at")]
    defaults = {f.attname: f.get_default() for f in fields}
    result = EnterpriseImportResult()
    created: list[str] = []
    updated: list[str] = []
    now = timezone.now()
    with transaction.atomic():
        for start in range(0, len(rows), chunk_size):
            chunk = rows[start : start + chunk_size]
            current = {
                row["uscc"]: row
                for row in Enterprise.objects.select_for_update()
                .filter(uscc__in=[values["uscc"] for values in chunk])
                .values(*names)
            }
            batch = []
            for values in chunk:
                stored = current.get(values["uscc"])
                row = dict(stored) if stored else {**defaults, "created_at": now}
                for key, value in values.items():
                    if key in ("region", "industry"):
                        row[f"{key}_id"] = value.pk
                    else:
                        row[key] = value
                row["size"] = compute_size(_SizeFacts(row))
                if stored is None or any(
                    row[k] != stored[k] for k in ("employees", "revenue", "assets")
                ):
                    # Figures from an official import by government are verified.
                    row.update(imported_figures(ctx.actor))
                hash_row(Enterprise, row)  # lookup hashes of the personal fields
                if stored is None:
                    created.append(row["uscc"])
                elif all(row[n] == stored[n] for n in compared):
                    result.unchanged += 1
                    continue
                else:
                    updated.append(row["uscc"])
                row["updated_at"] = now
                batch.append(row)
            if batch:
                _upsert_enterprise_rows(batch)
        result.created, result.updated = len(created), len(updated)
        changes: dict[str, Any] = {
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            **(source or {}),
        }
        if result.created + result.updated <= IMPORT_AUDIT_LIST_MAX:
            changes["created_usccs"] = created
            changes["updated_usccs"] = updated
        audit.record(
            "enterprise.import",
            actor=ctx.actor,
            object_type="registry.enterprise",
            object_id="import",
            object_repr=_("批量导入 %(n)d 家企业") % {"n": result.created + result.updated},
            changes=changes,
        )
    return result


class _SizeFacts:
    """What compute_size reads from an enterprise, from a row of values."""

    def __init__(self, row: dict[str, Any]):
        self.industry_id = row["industry_id"]
        self.employees = row["employees"]
        self.revenue_wan = None if row["revenue"] is None else row["revenue"] / WAN
        self.assets_wan = None if row["assets"] is None else row["assets"] / WAN


def import_enterprises(
    actor, rows: list[dict[str, Any]], *, valid_only: bool = False
) -> tuple[EnterpriseImportResult, list[tuple[int, list[FieldError]]]]:
    """Check and write rows in one call (scripts, the API without a file):
    all or nothing unless `valid_only`. Returns the result and the
    (row index, errors) of rejected rows; writes nothing when any row is bad
    and not `valid_only`."""
    ctx = start_enterprise_import(actor)
    checked = clean_enterprise_import(ctx, rows)
    bad = [(i, r) for i, r in enumerate(checked) if not isinstance(r, dict)]
    counts = Counter(r["uscc"] for r in checked if isinstance(r, dict))
    for i, values in enumerate(checked):
        if isinstance(values, dict) and counts[values["uscc"]] > 1:
            bad.append((i, [FieldError("uscc", _("统一社会信用代码在本批数据中重复出现"))]))
    if bad and not valid_only:
        return EnterpriseImportResult(), bad
    rejected = {i for i, _errors in bad}
    good = [v for i, v in enumerate(checked) if isinstance(v, dict) and i not in rejected]
    return save_enterprise_import(ctx, good), bad
