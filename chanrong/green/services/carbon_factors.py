"""The emission-factor database: the shipped reference data
(`chanrong/green/data/carbon_factors.csv`, loaded by migration and by
`load_shipped`), a platform admin's newer year, and which factor a report of
a given year and province uses.

A factor without a source is refused: every number the accounting shows a
user must be traceable to a published document.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from chanrong.core import audit
from chanrong.core.errors import FieldError, NotAllowed, ValidationFailed
from chanrong.core.scope import ScopeKind, scope_of

from ..models import EmissionFactor, FactorCategory
from .carbon_items import ITEMS

SHIPPED_CSV = Path(__file__).resolve().parent.parent / "data" / "carbon_factors.csv"
FIRST_YEAR, LAST_YEAR = 1990, 2100


def _dec(text: str) -> Decimal | None:
    return Decimal(text) if text not in ("", None) else None


def load_shipped(model=None, path: Path = SHIPPED_CSV) -> int:
    """Create the shipped factors missing from the table (by code, year and
    region); rows already there are left as they are. Returns rows created.
    `model` is the historical model when a migration calls this."""
    model = model or EmissionFactor
    existing = set(model.objects.values_list("code", "year", "region_id"))
    # A province's factor waits for the regions: a new database migrates
    # before `chanrong refdata load` fills them, which then loads it.
    regions = set(
        model._meta.get_field("region").related_model.objects.values_list("code", flat=True)
    )
    created = []
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            key = (row["code"], int(row["year"]), row["region"] or None)
            if key in existing or (key[2] is not None and key[2] not in regions):
                continue
            if not row["source"].strip():
                raise ValueError(f"shipped factor {key} has no source")
            created.append(
                model(
                    code=row["code"],
                    name=row["name"],
                    category=row["category"],
                    unit=row["unit"],
                    year=int(row["year"]),
                    region_id=row["region"] or None,
                    ncv=_dec(row["ncv"]),
                    carbon_content=_dec(row["carbon_content"]),
                    oxidation=_dec(row["oxidation"]),
                    factor=_dec(row["factor"]),
                    source=row["source"],
                    note=row["note"],
                )
            )
    model.objects.bulk_create(created)
    return len(created)


# --- which factor a report uses -----------------------------------------------


@dataclass(frozen=True)
class Chosen:
    factor: EmissionFactor
    note: str  # why this year / region, when it is not the report's own


class FactorBook:
    """Every factor in memory, to choose from for many reports at once."""

    def __init__(self, factors=None):
        rows = list(factors if factors is not None else EmissionFactor.objects.all())
        self.by_code: dict[str, list[EmissionFactor]] = {}
        for row in sorted(rows, key=lambda f: f.year):
            self.by_code.setdefault(row.code, []).append(row)
        self._chosen: dict[tuple[str, int, str | None], Chosen | None] = {}

    def choose(self, code: str, year: int, province: str | None = None) -> Chosen | None:
        """The factor of `code` for `year`: of the report's year, else the
        latest earlier year, else the earliest there is; of that year the
        province's when published, else the national. A province's older
        factor never beats a newer national one (2021 浙江 is not used for
        2023, which has a national factor)."""
        key = (code, year, province)
        if key not in self._chosen:
            self._chosen[key] = self._choose(code, year, province)
        return self._chosen[key]

    def _choose(self, code: str, year: int, province: str | None) -> Chosen | None:
        rows = [f for f in self.by_code.get(code) or [] if f.region_id in (None, province or None)]
        if not rows:
            return None
        earlier = [f for f in rows if f.year <= year]
        used = earlier[-1].year if earlier else rows[0].year
        of_year = [f for f in rows if f.year == used]
        regional = [f for f in of_year if f.region_id is not None]
        return self._note((regional or of_year)[0], year)

    @staticmethod
    def _note(factor: EmissionFactor, year: int) -> Chosen:
        if factor.year == year or factor.category in (FactorCategory.FUEL, FactorCategory.PROCESS):
            return Chosen(factor, "")
        return Chosen(
            factor,
            _("%(year)s年因子未发布，采用%(used)s年因子") % {"year": year, "used": factor.year},
        )


# --- a newer year, by a platform admin -------------------------------------------


_DIRECT = {
    "grid_electricity": FactorCategory.ELECTRICITY,
    "heat": FactorCategory.HEAT,
    "clinker": FactorCategory.PROCESS,
    "lime": FactorCategory.PROCESS,
    "limestone": FactorCategory.PROCESS,
}


def category_of(code: str) -> str:
    return _DIRECT.get(code, FactorCategory.FUEL)


def can_add_factor(actor) -> bool:
    return scope_of(actor).kind == ScopeKind.PLATFORM


FACTOR_FIELDS = ("ncv", "carbon_content", "oxidation", "factor")


def clean_factor(data: dict[str, Any]) -> dict[str, Any]:
    """Validate a factor by field; raises ValidationFailed with every error."""
    errors: list[FieldError] = []
    code = str(data.get("code") or "").strip()
    codes = {item.factor_code: item for item in ITEMS.values()}
    if code not in codes:
        errors.append(FieldError("code", _("未知的品种")))
    try:
        year = int(data.get("year"))
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise ValueError
    except (TypeError, ValueError):
        errors.append(FieldError("year", _("请填写有效的年度")))
        year = None
    source = str(data.get("source") or "").strip()
    if not source:
        errors.append(FieldError("source", _("排放因子必须注明来源（发布机构、文件名称和文号）")))
    values: dict[str, Decimal | None] = {}
    for name in FACTOR_FIELDS:
        raw = data.get(name)
        if raw in (None, ""):
            values[name] = None
            continue
        try:
            value = Decimal(str(raw))
            if not value.is_finite() or value <= 0:
                raise InvalidOperation
        except InvalidOperation:
            errors.append(FieldError(name, _("请填写正数")))
            values[name] = None
            continue
        values[name] = value
    item = codes.get(code)
    category = template = None
    if item is not None:
        template = EmissionFactor.objects.filter(code=code).order_by("-year").first()
        category = template.category if template else category_of(code)
        if category == FactorCategory.FUEL:
            for name in ("ncv", "carbon_content", "oxidation"):
                if values[name] is None and not any(e.field == name for e in errors):
                    errors.append(FieldError(name, _("燃料因子须填写此项")))
            if values["oxidation"] is not None and values["oxidation"] > 1:
                errors.append(FieldError("oxidation", _("碳氧化率以小数填写，不大于 1")))
        elif values["factor"] is None and not any(e.field == "factor" for e in errors):
            errors.append(FieldError("factor", _("请填写排放因子")))
    region = str(data.get("region") or "").strip() or None
    if region is not None:
        from chanrong.core.models import Region

        if not Region.objects.filter(code=region, level="province").exists():
            errors.append(FieldError("region", _("请填写省级行政区划代码，如 330000")))
    if errors:
        raise ValidationFailed(errors)
    return {
        "code": code,
        "name": str(template.name if template else item.label),
        "category": category,
        "unit": item.unit,
        "year": year,
        "region_id": region,
        "source": source,
        "note": str(data.get("note") or "").strip()[:300],
        **(
            {k: values[k] for k in ("ncv", "carbon_content", "oxidation")}
            if category == FactorCategory.FUEL
            else {"factor": values["factor"]}
        ),
    }


def add_factor(actor, data: dict[str, Any]) -> EmissionFactor:
    """A newer year's (or a province's) factor, by a platform admin; audited."""
    if not can_add_factor(actor):
        raise NotAllowed(_("只有平台管理员可以维护排放因子"))
    values = clean_factor(data)
    try:
        with transaction.atomic():
            factor = EmissionFactor.objects.create(added_by=actor, **values)
            audit.record(
                "green.factor.create",
                actor=actor,
                obj=factor,
                changes={k: str(v) for k, v in values.items() if v is not None},
            )
    except IntegrityError:
        raise ValidationFailed(
            [FieldError("year", _("该品种该年度（该地区）的因子已存在"))]
        ) from None
    return factor
