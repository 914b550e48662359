"""The enterprise list's filters: a plain GET form that narrows a queryset
already scoped by `visible_to` (filters never widen what a user may see)."""

from __future__ import annotations

from django import forms
from django.db.models import QuerySet
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from chanrong.core.codes import SIZE_LABELS, UNKNOWN_SIZE

from .forms import REGION_LEVEL_FIELDS, RegionFieldsMixin, industry_choices
from .models import EnterpriseList, FactStatus, ListType, QualificationKind, TaxGrade
from .search import normalise_query, search


class EnterpriseFilterForm(RegionFieldsMixin, forms.Form):
    q = forms.CharField(
        label=_("名称或统一社会信用代码"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    industry = forms.ChoiceField(label=_("所属行业"), required=False, choices=())
    size = forms.ChoiceField(
        label=_("企业规模"),
        required=False,
        choices=[
            ("", _("全部")),
            *[(value, label) for value, label in SIZE_LABELS.items()],
            (UNKNOWN_SIZE, _("未知")),
        ],
    )

    qualification = forms.ChoiceField(
        label=_("资质（有效）"),
        required=False,
        choices=[("", _("全部")), *QualificationKind.choices],
    )
    list = forms.ChoiceField(label=_("名单（现行版本）"), required=False, choices=())
    tax_grade = forms.ChoiceField(
        label=_("纳税信用等级（最近年度）"),
        required=False,
        choices=[("", _("全部")), *TaxGrade.choices],
    )

    provenance = forms.ChoiceField(
        label=_("核验与一致性"),
        required=False,
        choices=[
            ("", _("全部")),
            ("region_mismatch", _("注册地与统一社会信用代码登记机关不一致")),
            ("figures_declared", _("规模数据企业自报待核验")),
            ("figures_flagged", _("规模数据待复核（数值不合理）")),
        ],
    )

    def __init__(self, data=None, *, user, **kwargs):
        super().__init__(data, **kwargs)
        self.user = user
        self.fields["industry"].choices = industry_choices(_("全部"), sections_selectable=True)
        self.fields["list"].choices = list_choices(user)
        values = {level: (data or {}).get(level, "") for level in REGION_LEVEL_FIELDS}
        self.setup_region_fields(user, values)

    def filter(self, queryset: QuerySet) -> QuerySet:
        if not self.is_bound:
            return queryset
        if not self.is_valid():
            return queryset.none()
        data = self.cleaned_data
        queryset = search(queryset, data.get("q"))
        region = self.region_picker.region
        if region is not None:
            queryset = queryset.filter(region__code__startswith=region.prefix)
        if data.get("industry"):
            queryset = queryset.filter(industry__code__startswith=data["industry"])
        if data.get("size") == UNKNOWN_SIZE:
            queryset = queryset.filter(size="")
        elif data.get("size"):
            queryset = queryset.filter(size=data["size"])
        if data.get("qualification"):
            queryset = queryset.with_active_qualification(data["qualification"])
        choice = data.get("list") or ""
        if choice.startswith("t:"):
            queryset = queryset.on_list(list_type=choice[2:], viewer=self.user)
        elif choice:
            queryset = queryset.on_list(list_id=int(choice), viewer=self.user)
        if data.get("tax_grade"):
            queryset = queryset.with_tax_grade(data["tax_grade"])
        provenance = data.get("provenance")
        if provenance == "region_mismatch":
            queryset = queryset.region_mismatched()
        elif provenance == "figures_declared":
            queryset = queryset.filter(figures_status=FactStatus.DECLARED)
        elif provenance == "figures_flagged":
            queryset = queryset.figures_to_review()
        return queryset

    def has_text_search(self) -> bool:
        return self.is_bound and self.is_valid() and bool(normalise_query(self.cleaned_data["q"]))

    def querystring(self) -> str:
        """The active filters as a query string (for pagination links), ending in '&'."""
        if not self.is_bound or not self.is_valid():
            return ""
        params = {k: v for k, v in self.cleaned_data.items() if v}
        params.update({k: v for k, v in self.region_picker.values().items() if v})
        if not params:
            return ""
        return urlencode(params) + "&"


def list_choices(user) -> list:
    """The "名单" filter: any list of a type, or one list the user may see."""
    lists = EnterpriseList.objects.visible_to(user).order_by("list_type", "name")[:300]
    return [
        ("", _("全部")),
        (_("按名单类型"), [(f"t:{value}", label) for value, label in ListType.choices]),
        (_("按名单"), [(str(lst.pk), lst.name) for lst in lists]),
    ]
