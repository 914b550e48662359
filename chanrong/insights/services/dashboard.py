"""Dashboard figures for a region subtree the actor may see: the
summary (入驻企业数, 入驻金融机构数, 累计融资笔数, 累计融资额) and financing by
month, child region, industry section and institution, all read from the
rollup; and the catalogue's indicator counts per category.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Sum
from django.utils.translation import gettext as _

from chanrong.core.errors import NotFound
from chanrong.core.models import Region
from chanrong.core.money import YI

from ..models import FinancingRollup, IndicatorDefinition
from .access import visible_region_prefix
from .financing import financing_totals
from .values import format_number


def _region_code_for_prefix(prefix: str) -> str:
    return prefix.ljust(6, "0") if prefix else ""


# --------------------------------------------------------------------------
# dashboard


@dataclass
class Summary:
    region_prefix: str
    region_name: str
    enterprises: int
    institutions: int
    financing_count: int
    financing_amount: Decimal  # 元

    def as_dict(self) -> dict[str, Any]:
        return {
            "region_code": _region_code_for_prefix(self.region_prefix),
            "region_name": self.region_name,
            "enterprises": self.enterprises,
            "institutions": self.institutions,
            "financing_count": self.financing_count,
            "financing_amount": str(self.financing_amount),
            "financing_amount_yi": format_number(self.financing_amount / YI),
        }


def resolve_scope_region(actor, region_code: str | None) -> tuple[str, Region | None]:
    """The subtree a dashboard shows: the requested region if inside the
    actor's scope, else the actor's own scope. Raises NotFound outside it."""
    base = visible_region_prefix(actor)
    if base is None:
        raise NotFound(_("未找到"))
    if not region_code:
        if not base:
            return "", None
        region = Region.objects.filter(prefix=base).order_by("code").first()
        return base, region
    region = Region.objects.filter(code=str(region_code)).first()
    if region is None or not region.code.startswith(base):
        raise NotFound(_("未找到该地区"))
    return region.prefix, region


def summary(actor, region_code: str | None = None) -> Summary:
    """入驻企业数, 入驻金融机构数, 累计融资笔数, 累计融资额 for a subtree (厦门's
    plan counts these cumulatively)."""
    from chanrong.finance.models import FinancialInstitution
    from chanrong.registry.models import Enterprise

    prefix, region = resolve_scope_region(actor, region_code)
    enterprises = Enterprise.objects.all()
    # An institution is 入驻 in a region when it is based there or has a branch
    # there: the directory's region filter counts the same way.
    institutions = FinancialInstitution.objects.present_in(prefix)
    if prefix:
        enterprises = enterprises.filter(region__code__startswith=prefix)
    count, amount = financing_totals(prefix)
    return Summary(
        region_prefix=prefix,
        region_name=region.name if region else _("全国"),
        enterprises=enterprises.count(),
        institutions=institutions.count(),
        financing_count=count,
        financing_amount=amount,
    )


def financing_by_month(prefix: str, *, section: str = "", institution_id: int = 0):
    rows = (
        FinancingRollup.objects.filter(
            region=prefix, section=section, institution_id=institution_id
        )
        .order_by("month")
        .values_list("month", "count", "amount")
    )
    return list(rows)


def financing_by_child_region(prefix: str, *, section: str = "", institution_id: int = 0):
    """Drill-down one level: each child node's totals."""
    if prefix:
        parent = Region.objects.filter(prefix=prefix).order_by("code").first()
        children = list(Region.objects.filter(parent=parent)) if parent else []
    else:
        children = list(Region.objects.filter(parent__isnull=True))
    names = {c.prefix: c for c in children}
    rows = (
        FinancingRollup.objects.filter(
            region__in=list(names), section=section, institution_id=institution_id
        )
        .values("region")
        .annotate(n=Sum("count"), a=Sum("amount"))
        .order_by("-a")
    )
    return [(names[r["region"]], int(r["n"]), r["a"]) for r in rows]


def financing_by_section(prefix: str, *, institution_id: int = 0):
    rows = (
        FinancingRollup.objects.filter(region=prefix, institution_id=institution_id)
        .exclude(section="")
        .values("section")
        .annotate(n=Sum("count"), a=Sum("amount"))
        .order_by("-a")
    )
    return [(r["section"], int(r["n"]), r["a"]) for r in rows]


def financing_by_institution(prefix: str, *, section: str = ""):
    rows = (
        FinancingRollup.objects.filter(region=prefix, section=section)
        .exclude(institution_id=0)
        .values("institution_id")
        .annotate(n=Sum("count"), a=Sum("amount"))
        .order_by("-a")
    )
    return [(r["institution_id"], int(r["n"]), r["a"]) for r in rows]


def counts_by_category() -> dict[str, int]:
    return dict(
        IndicatorDefinition.objects.values("category")
        .annotate(n=Count("pk"))
        .values_list("category", "n")
    )
