"""The 信用报告 of one enterprise (issue 19 item 3): its registry facts, its
credit records grouped by kind, and a summary, in one document that the page,
the API and the PDF all render.

Who may see it is exactly who may see the credit records: the records come
through `credit.credit_records_for` (the enterprise's visibility rule, an
institution only under the enterprise's DataAuthorisation, each look by an
institution audited as `credit.view`). On top of that every report shown is
audited as `credit.report.view` and every PDF as `credit.report.download`,
whoever asks. Personal fields (法定代表人) are masked by `personal_view`,
never unmasked here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from chanrong.core import audit

from ..models import CreditKind, CreditRecord, Enterprise, ListEntry, Qualification
from ..models.lists import ListType
from .credit import credit_records_for
from .personal import personal_view

REPORT_VIEW = "credit.report.view"
REPORT_DOWNLOAD = "credit.report.download"
#: The kinds whose presence makes a record 不良 (adverse).
ADVERSE_KINDS = (CreditKind.PENALTY, CreditKind.JUDGMENT)
FOOTER = "本报告仅供授权机构用于融资审查"


@dataclass
class ReportRecord:
    occurred_on: date
    source: str
    reference: str
    summary: str
    amount: Decimal | None
    severity: str


@dataclass
class KindSection:
    kind: str
    label: str
    records: list[ReportRecord] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.records)


@dataclass
class CreditReport:
    enterprise_id: int
    generated_at: datetime
    requested_by: str  # the requesting organisation (or the user, when it has none)
    facts: dict[str, Any]
    qualifications: list[dict[str, Any]]
    lists: list[dict[str, Any]]
    tax_grades: list[dict[str, Any]]
    sections: list[KindSection]
    latest_penalty: ReportRecord | None
    latest_judgment: ReportRecord | None

    @property
    def counts(self) -> dict[str, int]:
        return {section.kind: section.count for section in self.sections}

    @property
    def total(self) -> int:
        return sum(section.count for section in self.sections)

    @property
    def adverse(self) -> bool:
        """有不良记录: any 行政处罚 or 司法判决, or membership of a 失信黑名单."""
        return any(self.counts[kind] for kind in ADVERSE_KINDS) or any(
            entry["list_type"] == ListType.BLACK for entry in self.lists
        )

    @property
    def footer(self) -> str:
        return FOOTER


def requesting_organisation(actor) -> str:
    """The organisation the actor acts for, as printed on the report."""
    for attribute in ("institution", "agency", "enterprise"):
        org = getattr(actor, attribute, None)
        if org is not None and getattr(org, "name", ""):
            return str(org.name)
    return actor.get_full_name() or actor.get_username()


def _record(row: CreditRecord) -> ReportRecord:
    extra = row.extra if isinstance(row.extra, dict) else {}
    return ReportRecord(
        occurred_on=row.occurred_on,
        source=row.source,
        reference=row.reference,
        summary=row.summary,
        amount=row.amount,
        severity=str(extra.get("severity", "")),
    )


def build_credit_report(
    actor, enterprise: Enterprise, *, action: str = REPORT_VIEW
) -> CreditReport:
    """The report as `actor` may see it; `enterprise` came through
    `visible_to` (else the caller answered 404). Audited as `action`."""
    today = timezone.localdate()
    records = credit_records_for(actor, enterprise)
    sections = {
        value: KindSection(kind=value, label=str(label)) for value, label in CreditKind.choices
    }
    for row in records:
        sections[row.kind].records.append(_record(row))
    personal = personal_view(actor, enterprise)
    facts = {
        "name": enterprise.name,
        "uscc": enterprise.uscc,
        "region": enterprise.region.name,
        "region_code": enterprise.region_id,
        "industry": enterprise.industry.name,
        "industry_code": enterprise.industry_id,
        "size": enterprise.get_size_display() if enterprise.size else "",
        "founded_on": enterprise.founded_on,
        "legal_representative": personal["legal_representative"],
    }
    qualifications = [
        {
            "kind": q.get_kind_display(),
            "issuer": q.issuer,
            "certificate_no": q.certificate_no,
            "valid_from": q.valid_from,
            "valid_until": q.valid_until,
        }
        for q in Qualification.objects.visible_to(actor)
        .filter(enterprise=enterprise)
        .counting()
        .active_on(today)
        .order_by("kind", "valid_from")
    ]
    lists = [
        {
            "list_type": entry.version.list.list_type,
            "list_type_label": entry.version.list.get_list_type_display(),
            "name": entry.version.list.name,
            "effective_from": entry.version.effective_from,
            "effective_until": entry.version.effective_until,
        }
        for entry in ListEntry.objects.visible_to(actor)
        .in_force(today)
        .filter(enterprise=enterprise)
        .select_related("version__list")
        .order_by("version__list__list_type", "version__list__name")
    ]
    tax_grades = [
        {"year": grade.year, "grade": grade.grade}
        for grade in enterprise.tax_grades.order_by("-year")
    ]
    penalties = sections[CreditKind.PENALTY].records
    judgments = sections[CreditKind.JUDGMENT].records
    report = CreditReport(
        enterprise_id=enterprise.pk,
        generated_at=timezone.now(),
        requested_by=requesting_organisation(actor),
        facts=facts,
        qualifications=qualifications,
        lists=lists,
        tax_grades=tax_grades,
        sections=list(sections.values()),
        latest_penalty=penalties[0] if penalties else None,
        latest_judgment=judgments[0] if judgments else None,
    )
    audit.record(
        action,
        actor=actor,
        obj=enterprise,
        changes={"records": report.total, "adverse": report.adverse},
    )
    return report


def adverse_label(report: CreditReport) -> str:
    return _("有不良记录") if report.adverse else _("无不良记录")
