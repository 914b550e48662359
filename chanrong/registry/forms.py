"""Web forms for enterprises. They only collect input: every rule (USCC check
digit, county-level region, jurisdiction, size) is the service's, and the
service's field errors are shown next to these fields."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from chanrong.accounts.scope import ScopeKind, scope_of
from chanrong.core.errors import ValidationFailed
from chanrong.core.models import Industry, IndustryLevel, Region, RegionLevel

REGION_LEVEL_FIELDS = ("province", "city", "county")


def region_path(code: str | None) -> list[Region]:
    """The region and its ancestors, top first (a self-parented row ends the walk)."""
    path: list[Region] = []
    region = Region.objects.filter(pk=code).select_related("parent").first() if code else None
    seen: set[str] = set()
    while region is not None and region.code not in seen:
        seen.add(region.code)
        path.append(region)
        region = region.parent if region.parent_id and region.parent_id != region.code else None
    return list(reversed(path))


def _in_scope(region: Region, prefix: str) -> bool:
    """Inside the user's jurisdiction, or an ancestor of it (needed to reach it)."""
    return not prefix or region.code.startswith(prefix) or prefix.startswith(region.prefix)


def _children(parent_code: str, prefix: str) -> list[Region]:
    rows = Region.objects.filter(parent_id=parent_code).exclude(code=parent_code).order_by("code")
    return [r for r in rows if _in_scope(r, prefix)]


class RegionPicker:
    """Three chained choices (省 → 市 → 区县) narrowed to the user's jurisdiction.

    A value that does not belong under the level above (the user changed the
    province) is dropped, so the chain is always consistent. Districts of the
    municipalities hang directly under their province, so they are offered
    at the second level and the third stays empty.
    """

    def __init__(self, prefix: str, values: dict[str, str]):
        self.prefix = prefix
        provinces = [
            r
            for r in Region.objects.filter(level=RegionLevel.PROVINCE).order_by("code")
            if _in_scope(r, prefix)
        ]
        self.choices: dict[str, list[Region]] = {"province": provinces, "city": [], "county": []}
        self.selected: dict[str, Region | None] = dict.fromkeys(REGION_LEVEL_FIELDS)
        options = provinces
        for level, next_level in (("province", "city"), ("city", "county"), ("county", None)):
            chosen = next((r for r in options if r.code == (values.get(level) or "")), None)
            if chosen is None:
                break
            self.selected[level] = chosen
            if next_level is None or chosen.level == RegionLevel.COUNTY:
                break
            options = _children(chosen.code, prefix)
            self.choices[next_level] = options

    @classmethod
    def for_region(cls, prefix: str, code: str | None) -> RegionPicker:
        path = region_path(code)
        return cls(
            prefix, {level: r.code for level, r in zip(REGION_LEVEL_FIELDS, path, strict=False)}
        )

    @property
    def region(self) -> Region | None:
        """The deepest region chosen."""
        for level in reversed(REGION_LEVEL_FIELDS):
            if self.selected[level] is not None:
                return self.selected[level]
        return None

    def values(self) -> dict[str, str]:
        return {k: (r.code if r else "") for k, r in self.selected.items()}


def scope_prefix(user) -> str:
    scope = scope_of(user)
    return scope.region_prefix if scope.kind == ScopeKind.GOVERNMENT else ""


def jurisdiction_code(user) -> str | None:
    """The region a government user answers for (None for everyone else)."""
    if scope_of(user).kind != ScopeKind.GOVERNMENT:
        return None
    return user.agency.region_id


class RegionFieldsMixin:
    """Adds the province / city / county selects to a form."""

    region_empty_label = _("全部")

    def setup_region_fields(self, user, values: dict[str, str]) -> None:
        self.region_picker = RegionPicker(scope_prefix(user), values)
        labels = {"province": _("省份"), "city": _("市"), "county": _("区县")}
        current = self.region_picker.values()
        for level in REGION_LEVEL_FIELDS:
            choices = [("", self.region_empty_label)] + [
                (r.code, r.name) for r in self.region_picker.choices[level]
            ]
            self.fields[level] = forms.ChoiceField(
                label=labels[level], choices=choices, required=False
            )
            self.fields[level].widget.attrs["data-region-level"] = level
            self.initial[level] = current[level]
            if self.is_bound:
                # Values dropped by the picker (no longer under their parent) are cleared.
                self.data = self.data.copy()
                self.data[level] = current[level]

    def region_bound_fields(self):
        return [self[level] for level in REGION_LEVEL_FIELDS]

    def region_errors(self) -> list[str]:
        return [str(e) for level in REGION_LEVEL_FIELDS for e in self.errors.get(level, [])]


class RegionForm(RegionFieldsMixin, forms.Form):
    """Only the region selects: re-rendered when a level above them changes."""

    def __init__(self, data, *, user, mode: str):
        super().__init__(data)
        self.region_empty_label = _("请选择") if mode == "form" else _("全部")
        values = {level: data.get(level, "") for level in REGION_LEVEL_FIELDS}
        self.setup_region_fields(user, values)


def industry_choices(empty_label: str, *, sections_selectable: bool) -> list:
    """Divisions (and the few groups loaded) under their sections (门类), as <optgroup>s."""
    rows = list(Industry.objects.all().order_by("code").values_list("code", "name", "level"))
    groups: list = []
    for code, name, level in rows:
        if level == IndustryLevel.SECTION:
            options = []
            if sections_selectable:
                options.append(
                    (code, _("%(code)s %(name)s（全部）") % {"code": code, "name": name})
                )
            groups.append((f"{code} {name}", options))
        elif groups:
            indent = "\u3000" if level == IndustryLevel.GROUP else ""
            groups[-1][1].append((code, f"{indent}{code} {name}"))
    return [("", empty_label), *groups]


def _plain_decimal(value: Decimal | None) -> str:
    if value is None:
        return ""
    return format(value.normalize(), "f")


class EnterpriseForm(RegionFieldsMixin, forms.Form):
    """Create or edit an enterprise; `save` hands the input to the service."""

    region_empty_label = _("请选择")
    # Service field name -> form field that shows its error.
    ERROR_FIELDS = {"region_code": "county", "region": "county", "industry": "industry_code"}

    uscc = forms.CharField(
        label=_("统一社会信用代码"),
        max_length=18,
        help_text=_("18 位，字母须大写"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    name = forms.CharField(label=_("企业名称"), max_length=100)
    industry_code = forms.ChoiceField(label=_("所属行业"), choices=())
    employees = forms.CharField(
        label=_("从业人员（人）"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    revenue_wan = forms.CharField(
        label=_("营业收入（万元）"),
        required=False,
        help_text=_("上一年度，单位：万元"),
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    assets_wan = forms.CharField(
        label=_("资产总额（万元）"),
        required=False,
        help_text=_("上一年末，单位：万元"),
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )

    def __init__(self, *args, user, enterprise=None, **kwargs):
        self.user = user
        self.enterprise = enterprise
        if enterprise is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "uscc": enterprise.uscc,
                "name": enterprise.name,
                "industry_code": enterprise.industry_id,
                "employees": "" if enterprise.employees is None else enterprise.employees,
                "revenue_wan": _plain_decimal(enterprise.revenue_wan),
                "assets_wan": _plain_decimal(enterprise.assets_wan),
            }
        super().__init__(*args, **kwargs)
        self.fields["industry_code"].choices = industry_choices(
            _("请选择"), sections_selectable=False
        )
        if self.is_bound:
            values = {level: self.data.get(level, "") for level in REGION_LEVEL_FIELDS}
            self.setup_region_fields(user, values)
        else:
            if enterprise is not None:
                region_code = enterprise.region_id
            else:
                # A new enterprise starts inside the user's own jurisdiction.
                region_code = jurisdiction_code(user)
            picker = RegionPicker.for_region(scope_prefix(user), region_code)
            self.setup_region_fields(user, picker.values())
        if enterprise is not None and scope_of(user).kind == ScopeKind.ENTERPRISE:
            self.fields["uscc"].disabled = True
            self.fields["uscc"].help_text = _("统一社会信用代码不能由企业自行修改")

    def service_data(self) -> dict[str, Any]:
        region = self.region_picker.region
        data = {key: self.cleaned_data.get(key, "") for key in self.service_fields()}
        data["region_code"] = region.code if region is not None else ""
        return data

    @staticmethod
    def service_fields() -> tuple[str, ...]:
        return ("uscc", "name", "industry_code", "employees", "revenue_wan", "assets_wan")

    def add_service_errors(self, exc: ValidationFailed) -> None:
        for error in exc.errors:
            field = self.ERROR_FIELDS.get(error.field, error.field)
            self.add_error(field if field in self.fields else None, error.message)
        if not exc.errors:
            self.add_error(None, exc.message)
