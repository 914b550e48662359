"""Correcting a shipped emission factor that was wrong, on a database that
already has it (factors are otherwise never edited: a newer number is a
newer year's row, `carbon_factors.add_factor`).

Why a correction accounts its reports again: a carbon line keeps the factor
it used and the t CO2 it gave; changing the factor's number alone would
leave the page explaining "1000 MWh × 0.5366" beside the 570.3 t computed
with 0.5703. So every report with a line on the corrected factor is
accounted again from its own lines, as its enterprise entered them (each
re-accounting audited by `save_cleaned`, grades recomputed), and the factor
change itself is audited with both numbers and sources.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from chanrong.core import audit

from ..models import CarbonLine, CarbonReport, EmissionFactor
from .carbon import clean_report, save_cleaned
from .carbon_factors import SHIPPED_CSV


@dataclass(frozen=True)
class Correction:
    """A shipped national factor (code, year) whose earlier shipped number
    was `wrong`; the right number and source are the shipped CSV's row."""

    code: str
    year: int
    wrong: Decimal


#: 2022 全国电网: 0.5703 was shipped, the MEE/NBS 2022 average is 0.5366.
GRID_2022 = Correction("grid_electricity", 2022, Decimal("0.5703"))


def _shipped_row(code: str, year: int) -> dict[str, str]:
    with SHIPPED_CSV.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["code"] == code and int(row["year"]) == year and not row["region"]:
                return row
    raise LookupError(f"no shipped factor {code} {year}")


def refresh_sources() -> int:
    """Put the shipped CSV's source and note on the shipped national rows
    whose number is the CSV's (a citation made precise, the number as it
    was); returns rows changed, each audited."""
    changed = 0
    with SHIPPED_CSV.open(encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if not r["region"] and r["factor"]]
    for row in rows:
        factor = EmissionFactor.objects.filter(
            code=row["code"], year=int(row["year"]), region__isnull=True, added_by__isnull=True
        ).first()
        if factor is None or factor.factor != Decimal(row["factor"]):
            continue
        if (factor.source, factor.note) == (row["source"], row["note"]):
            continue
        with transaction.atomic():
            before = {"source": factor.source, "note": factor.note}
            factor.source, factor.note = row["source"], row["note"]
            factor.save(update_fields=["source", "note"])
            audit.record(
                "green.factor.source_corrected",
                obj=factor,
                changes={"before": before, "after": {"source": row["source"], "note": row["note"]}},
            )
        changed += 1
    return changed


def correct(correction: Correction = GRID_2022) -> int:
    """Correct the factor when it still carries the wrong shipped number and
    account again the reports that used it; returns reports re-accounted
    (0 when there was nothing to correct)."""
    factor = EmissionFactor.objects.filter(
        code=correction.code, year=correction.year, region__isnull=True
    ).first()
    if factor is None or factor.factor != correction.wrong:
        return 0
    row = _shipped_row(correction.code, correction.year)
    report_ids = sorted(
        set(CarbonLine.objects.filter(factor=factor).values_list("report_id", flat=True))
    )
    with transaction.atomic():
        before = {"factor": str(factor.factor), "source": factor.source}
        factor.factor = Decimal(row["factor"])
        factor.source, factor.note = row["source"], row["note"]
        factor.save(update_fields=["factor", "source", "note"])
        audit.record(
            "green.factor.corrected",
            obj=factor,
            changes={"before": before, "after": {"factor": row["factor"], "source": row["source"]}},
        )
        # One accounting pass per (who entered, how): grades recomputed once
        # per group and year, not once per report.
        groups: dict[tuple, list] = {}
        reports = (
            CarbonReport.objects.filter(pk__in=report_ids)
            .select_related("enterprise", "entered_by")
            .prefetch_related("lines")  # in position order (CarbonLine.Meta.ordering)
        )
        for report in reports:
            data = {
                "year": report.year,
                "month": report.month,
                "output_quantity": report.output_quantity,
                "output_unit": report.output_unit,
                "lines": [
                    {"item": line.item, "quantity": line.quantity, "unit": line.unit}
                    for line in report.lines.all()
                ],
            }
            cleaned = clean_report(data)
            if cleaned.errors:  # stored lines are valid; a rule added since may say otherwise
                continue
            key = (report.entered_by_id, report.source)
            groups.setdefault(key, [report.entered_by, []])[1].append((report.enterprise, cleaned))
        for (_who, source), (entered_by, rows) in groups.items():
            save_cleaned(entered_by, rows, source=source)
    return len(report_ids)
