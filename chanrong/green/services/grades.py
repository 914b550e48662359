"""碳效等级 (carbon-efficiency grades) of enterprise-years, 1 best … 5 worst,
as 湖州 and 嘉善 grade their 碳效码 (1 级 is the most carbon-efficient).

The measure is t CO2 per 万元 of revenue of the year: the yearly report's,
or the sum of twelve monthly reports' emissions over the sum of their
revenues. An enterprise-year is graded against its peers — the enterprises
of its GB/T 4754 division (C30 …) in its province — by the quintiles of
their intensities (≤ the 20th percentile: 1 级 … above the 80th: 5 级);
with fewer than `carbon_engine.MIN_PEERS` (10) peers in the province, by
the division's quintiles nationally; with fewer than that nationally, not
graded. A benchmark an administrator configured for the division
(`CarbonBenchmark`) replaces the quintiles.

`recompute` redoes a year's grades for some divisions (all when none are
given) in one pass through the engine; saving reports calls it.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

import numpy as np
from django.db import connection, transaction
from django.db.models import Count, F, Lookup, Q, Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from chanrong.core import audit
from chanrong.core.errors import FieldError, NotAllowed, ValidationFailed
from chanrong.core.lookups import PlannedQuery
from chanrong.core.models import Industry
from chanrong.core.scope import ScopeKind, scope_of

from ..models import CarbonBenchmark, CarbonGrade, CarbonReport, GradeBasis
from . import carbon_engine as engine

GRADES = (1, 2, 3, 4, 5)
GRADE_LABELS = {
    1: gettext_lazy("1 级（碳效最优）"),
    2: gettext_lazy("2 级"),
    3: gettext_lazy("3 级"),
    4: gettext_lazy("4 级"),
    5: gettext_lazy("5 级（碳效最差）"),
}
_BASIS = {
    engine.BASIS_BENCHMARK: GradeBasis.BENCHMARK,
    engine.BASIS_PROVINCE: GradeBasis.PROVINCE,
    engine.BASIS_NATIONAL: GradeBasis.NATIONAL,
}


def annual_intensities(year: int, divisions: set[str] | None = None) -> list[dict[str, Any]]:
    """[{enterprise_id, division, province, total, revenue}] of the year:
    yearly reports, else twelve monthly ones summed."""
    reports = CarbonReport.objects.filter(year=year)
    if divisions:
        q = Q()
        for division in divisions:
            q |= Q(enterprise__industry__code__startswith=division)
        reports = reports.filter(q)
    rows: dict[int, dict[str, Any]] = {}
    fields = ("enterprise_id", "enterprise__industry_id", "enterprise__region_id")
    for r in reports.filter(month__isnull=True).values(*fields, "total", "revenue"):
        rows[r["enterprise_id"]] = r
    monthly = (
        reports.filter(month__isnull=False)
        .exclude(enterprise_id__in=list(rows))
        .values(*fields)
        .annotate(n=Count("pk"), n_rev=Count("revenue"), total=Sum("total"), revenue=Sum("revenue"))
    )
    for r in monthly:
        if r["n"] == 12 and r["n_rev"] == 12:
            rows[r["enterprise_id"]] = r
    return [
        {
            "enterprise_id": eid,
            "division": r["enterprise__industry_id"][:3],
            "province": r["enterprise__region_id"][:2],
            "total": r["total"],
            "revenue": r["revenue"],
        }
        for eid, r in rows.items()
    ]


def recompute(year: int, divisions: set[str] | None = None) -> int:
    """Redo the year's grades (of `divisions`, or all); returns grades written."""
    rows = [r for r in annual_intensities(year, divisions) if r["revenue"] and r["revenue"] > 0]
    division_codes = sorted({r["division"] for r in rows} | set(divisions or ()))
    div_index = {code: i for i, code in enumerate(division_codes)}
    benchmarks = {
        div_index[b.division_id]: np.array([float(x) for x in b.bounds])
        for b in CarbonBenchmark.objects.filter(division_id__in=division_codes)
    }
    intensity = np.array(
        [float(r["total"]) / (float(r["revenue"]) / 10000) for r in rows], dtype=float
    )
    result = engine.grade(
        intensity,
        np.array([div_index[r["division"]] for r in rows], dtype=np.int64),
        np.array([int(r["province"]) for r in rows], dtype=np.int64),
        benchmarks=benchmarks,
    )
    grades = []
    for i, r in enumerate(rows):
        if result.grade[i] == 0:
            continue
        basis = _BASIS[int(result.basis[i])]
        grades.append(
            CarbonGrade(
                enterprise_id=r["enterprise_id"],
                year=year,
                grade=int(result.grade[i]),
                intensity=Decimal(repr(float(intensity[i]))).quantize(Decimal("0.000001")),
                basis=basis,
                division=r["division"],
                peer_region=r["province"] + "0000" if basis == GradeBasis.PROVINCE else "",
                peers=int(result.peers[i]),
                bounds=[f"{b:.6f}" for b in result.bounds[i]],
            )
        )
    with transaction.atomic():
        stale = CarbonGrade.objects.filter(year=year)
        if divisions:
            stale = stale.filter(division__in=division_codes)
        stale.delete()
        CarbonGrade.objects.bulk_create(grades, batch_size=2000)
    return len(grades)


# --- what users see ----------------------------------------------------------------


def latest_grade(user, enterprise) -> CarbonGrade | None:
    """The enterprise's latest grade if `user` may see it (a bank: only with
    the enterprise's authorisation), else None."""
    return (
        CarbonGrade.objects.visible_to(user).filter(enterprise=enterprise).order_by("-year").first()
    )


def _grades_of(ids: list[int]):
    """Grades of `ids` (on SQLite at most _CHUNK), each enterprise's latest
    year first (on PostgreSQL only that one: one row per enterprise, read from the
    (enterprise, year) unique index, with the ids as ONE array parameter, so
    the statement's text and the rows sent do not grow with the years graded)."""
    grades = CarbonGrade.objects.order_by("enterprise_id", "-year")
    if connection.vendor == "postgresql":
        grades = grades.filter(_AnyId(F("enterprise_id"), ids)).distinct("enterprise_id")
    else:
        grades = grades.filter(enterprise_id__in=ids)
    return grades.values_list("enterprise_id", "grade")


def _grades_of_one(enterprise_id: int):
    """One enterprise's latest grade (`_grades_of` for one id): the first row
    of the (enterprise, year) unique index read backwards."""
    grades = CarbonGrade.objects.filter(enterprise_id=enterprise_id).order_by("-year")
    return grades.values_list("enterprise_id", "grade")[:1]


#: One enterprise's grades (each publish ranks one demand), compiled once: core.lookups.PlannedQuery.
_one_enterprise = PlannedQuery(lambda _context, eid: _grades_of_one(eid))


def latest_grades(enterprise_ids) -> dict[int, int]:
    """{enterprise id: its latest year's grade} for `finance.carbon` (product
    conditions and matching; finance never imports green)."""
    ids = sorted({int(e) for e in enterprise_ids if e is not None})
    if not ids:
        return {}
    if len(ids) == 1:
        parts = [_one_enterprise.rows("one", None, ids[0])]
    elif connection.vendor == "postgresql":
        parts = [_grades_of(ids)]
    else:
        parts = [_grades_of(ids[i : i + _CHUNK]) for i in range(0, len(ids), _CHUNK)]
    out: dict[int, int] = {}
    for rows in parts:
        for enterprise_id, grade in rows:
            out.setdefault(enterprise_id, grade)
    return out


_CHUNK = 5000


class _AnyId(Lookup):
    """`column = ANY(%s)`: an id set as one array parameter (PostgreSQL)."""

    lookup_name = "green_any_id"
    prepare_rhs = False

    def get_prep_lookup(self):
        return list(self.rhs)

    def as_sql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s::bigint[])", (*params, self.rhs)


def describe(grade: CarbonGrade) -> str:
    """How the grade was reached, in one sentence."""
    bounds = "、".join(str(Decimal(b).normalize()) for b in grade.bounds)
    if grade.basis == GradeBasis.BENCHMARK:
        where = _("%(div)s 行业配置的碳效基准") % {"div": grade.division}
    elif grade.basis == GradeBasis.PROVINCE:
        where = _("本省 %(div)s 行业 %(n)s 家企业的五分位") % {
            "div": grade.division,
            "n": grade.peers,
        }
    else:
        where = _("全国 %(div)s 行业 %(n)s 家企业的五分位（本省同行业不足 %(min)s 家）") % {
            "div": grade.division,
            "n": grade.peers,
            "min": engine.MIN_PEERS,
        }
    return _(
        "%(year)s 年万元营业收入排放 %(x)s tCO2/万元，按%(where)s评定；1–4 级上限依次为 %(b)s tCO2/万元。"
    ) % {
        "year": grade.year,
        "x": grade.intensity.normalize(),
        "where": where,
        "b": bounds,
    }


def grade_panel(user=None, enterprise=None, **_kwargs) -> dict[str, Any]:
    """The registry's enterprise page (core.panels "registry.enterprise_detail"):
    the latest 碳效等级 for whoever may see the enterprise's data."""
    if user is None or enterprise is None:
        return {}
    grade = latest_grade(user, enterprise)
    if grade is None:
        return {"carbon_grade_panel": {"grade": None}}
    return {
        "carbon_grade_panel": {
            "grade": grade,
            "label": GRADE_LABELS[grade.grade],
            "description": describe(grade),
        }
    }


def overview(user, year: int) -> list[dict[str, Any]]:
    """By industry division, within what `user` may see: enterprises
    reported, their emissions, and how many of each grade."""
    reports = CarbonReport.objects.visible_to(user).filter(year=year)
    by_div: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"enterprises": set(), "total": Decimal(0), "grades": dict.fromkeys(GRADES, 0)}
    )
    for r in reports.values("enterprise_id", "enterprise__industry_id", "total").iterator():
        row = by_div[r["enterprise__industry_id"][:3]]
        row["enterprises"].add(r["enterprise_id"])
        row["total"] += r["total"]
    grades = (
        CarbonGrade.objects.visible_to(user)
        .filter(year=year)
        .values("division", "grade")
        .annotate(n=Count("pk"))
    )
    for g in grades:
        by_div[g["division"]]["grades"][g["grade"]] = g["n"]
    names = dict(Industry.objects.filter(code__in=list(by_div)).values_list("code", "name"))
    return [
        {
            "division": code,
            "name": names.get(code, ""),
            "enterprises": len(row["enterprises"]),
            "total": row["total"],
            "grades": [row["grades"][g] for g in GRADES],
        }
        for code, row in sorted(by_div.items(), key=lambda kv: -kv[1]["total"])
    ]


# --- configured benchmarks ------------------------------------------------------------


def set_benchmark(actor, data: dict[str, Any]) -> CarbonBenchmark:
    """A division's four upper bounds (increasing), with their basis; platform
    admins only; the years graded so far are recomputed for that division."""
    if scope_of(actor).kind != ScopeKind.PLATFORM:
        raise NotAllowed(_("只有平台管理员可以配置碳效基准"))
    errors: list[FieldError] = []
    division = Industry.objects.filter(
        code=str(data.get("division") or ""), level="division"
    ).first()
    if division is None:
        errors.append(FieldError("division", _("请填写国民经济行业大类代码，如 C30")))
    bounds: list[Decimal] = []
    for k in range(1, 5):
        try:
            value = Decimal(str(data.get(f"bound{k}")))
            if not value.is_finite() or value < 0:
                raise ValueError
            bounds.append(value)
        except Exception:  # noqa: BLE001 (any unparsable input is a field error)
            errors.append(FieldError(f"bound{k}", _("请填写非负数")))
    if len(bounds) == 4 and bounds != sorted(bounds):
        errors.append(FieldError("bound4", _("各级上限须逐级递增")))
    source = str(data.get("source") or "").strip()
    if not source:
        errors.append(FieldError("source", _("请注明基准的依据")))
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        benchmark, _created = CarbonBenchmark.objects.update_or_create(
            division=division,
            defaults={
                **{f"bound{k}": bounds[k - 1] for k in range(1, 5)},
                "source": source,
                "set_by": actor,
            },
        )
        audit.record(
            "green.benchmark.set",
            actor=actor,
            obj=benchmark,
            changes={"bounds": [str(b) for b in bounds], "source": source},
        )
        reported = CarbonReport.objects.filter(enterprise__industry__code__startswith=division.code)
        for year in reported.values_list("year", flat=True).distinct().order_by("year"):
            recompute(year, divisions={division.code})
    return benchmark
