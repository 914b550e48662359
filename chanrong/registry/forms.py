"""Web forms for enterprises. They only collect input: every rule (USCC check
digit, county-level region, jurisdiction, size) is the service's, and the
service's field errors are shown next to these fields."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from chanrong.core import pickers
from chanrong.core.errors import ValidationFailed
from chanrong.core.models import Industry, IndustryLevel, Region, RegionLevel
from chanrong.core.scope import ScopeKind, scope_of
from chanrong.core.text import validate_name

from .pickers import ENTERPRISES

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
    name = forms.CharField(label=_("企业名称"), max_length=100, validators=[validate_name])
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
            # Read-only for the enterprise: a browser sends no region, so none
            # is changed; a forged one is refused by the service (403).
            for level in REGION_LEVEL_FIELDS:
                self.fields[level].widget.attrs["disabled"] = "disabled"
            self.fields["county"].help_text = _("所在地区只能由原所在地政府部门变更")

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


# =====================================================================================
# Registry forms beyond the enterprise's core fields. Like EnterpriseForm they
# collect text as typed ("350万元", "2024年3月1日" are fine) and hand it to the
# services, whose field errors are shown next to the fields.
# =====================================================================================


class ServiceForm(forms.Form):
    #: Service field name -> form field that shows its error.
    ERROR_FIELDS: dict[str, str] = {}

    def add_service_errors(self, exc: ValidationFailed) -> None:
        for error in exc.errors:
            field = self.ERROR_FIELDS.get(error.field, error.field)
            self.add_error(field if field in self.fields else None, error.message)
        if not exc.errors:
            self.add_error(None, exc.message)

    def service_data(self) -> dict[str, Any]:
        return {key: self.cleaned_data.get(key, "") for key in self.fields}


def _text_input(mode: str = "text", **attrs) -> forms.TextInput:
    return forms.TextInput(attrs={"inputmode": mode, **attrs})


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _choices(choices, empty_label) -> list:
    return [("", empty_label), *choices]


class ProfileForm(ServiceForm):
    founded_on = forms.CharField(label=_("成立日期"), required=False, widget=_date_input())
    registered_capital_wan = forms.CharField(
        label=_("注册资本（万元）"), required=False, widget=_text_input("decimal")
    )
    legal_representative = forms.CharField(label=_("法定代表人"), required=False, max_length=50)
    legal_rep_id_number = forms.CharField(
        label=_("法定代表人身份证号"),
        required=False,
        max_length=18,
        help_text=_("选填；18 位居民身份证号码"),
    )
    contact_name = forms.CharField(
        label=_("联系人"), required=False, max_length=50, validators=[validate_name]
    )
    contact_phone = forms.CharField(
        label=_("联系电话"), required=False, max_length=30, widget=_text_input("tel")
    )
    contact_email = forms.CharField(
        label=_("电子邮箱"), required=False, max_length=254, widget=_text_input("email")
    )
    address = forms.CharField(label=_("地址"), required=False, max_length=200)
    main_products = forms.CharField(
        label=_("主要产品"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    rd_expense_wan = forms.CharField(
        label=_("上年度研发费用（万元）"), required=False, widget=_text_input("decimal")
    )
    is_above_scale = forms.ChoiceField(
        label=_("规模以上工业企业"),
        required=False,
        choices=[("", _("未知")), ("true", _("是")), ("false", _("否"))],
        help_text=_("年主营业务收入 2000 万元及以上的工业法人单位"),
    )
    strategic_emerging_category = forms.ChoiceField(
        label=_("战略性新兴产业类别"), required=False, choices=()
    )
    chongqing_class = forms.ChoiceField(label=_("三类企业"), required=False, choices=())

    def __init__(self, *args, enterprise, viewer=None, **kwargs):
        from .models import ChongqingClass, StrategicEmergingCategory
        from .services.personal import personal_view

        if "initial" not in kwargs:
            kwargs["initial"] = {
                "founded_on": enterprise.founded_on.isoformat() if enterprise.founded_on else "",
                "registered_capital_wan": _plain_decimal(
                    None
                    if enterprise.registered_capital is None
                    else enterprise.registered_capital / 10000
                ),
                "legal_representative": enterprise.legal_representative,
                "legal_rep_id_number": enterprise.legal_rep_id_number,
                "contact_name": enterprise.contact_name,
                "contact_phone": enterprise.contact_phone,
                "contact_email": enterprise.contact_email,
                "address": enterprise.address,
                "main_products": enterprise.main_products,
                "rd_expense_wan": _plain_decimal(
                    None if enterprise.rd_expense is None else enterprise.rd_expense / 10000
                ),
                "is_above_scale": {True: "true", False: "false"}.get(enterprise.is_above_scale, ""),
                "strategic_emerging_category": enterprise.strategic_emerging_category,
                "chongqing_class": enterprise.chongqing_class,
            }
        # Personal fields are shown as `viewer` may see them: masked unless
        # it is the enterprise itself. A masked value sent back unchanged
        # means "keep what is stored" (service_data drops it).
        self.masked_initial: dict[str, str] = {}
        view = personal_view(viewer, enterprise)
        for name, shown in view.values.items():
            if shown != (getattr(enterprise, name) or ""):
                kwargs["initial"][name] = shown
                self.masked_initial[name] = shown
        super().__init__(*args, **kwargs)
        for name in self.masked_initial:
            self.fields[name].help_text = _("已脱敏显示；不修改则保持原值")
        self.fields["strategic_emerging_category"].choices = _choices(
            StrategicEmergingCategory.choices, _("不属于 / 未填")
        )
        self.fields["chongqing_class"].choices = _choices(
            ChongqingClass.choices, _("不属于 / 未填")
        )

    def service_data(self) -> dict[str, Any]:
        data = super().service_data()
        for name, shown in self.masked_initial.items():
            if data.get(name) == shown:
                del data[name]
        return data


class TaxGradeForm(ServiceForm):
    year = forms.CharField(label=_("评价年度"), max_length=4, widget=_text_input("numeric"))
    grade = forms.ChoiceField(label=_("纳税信用等级"), choices=())

    def __init__(self, *args, **kwargs):
        from .models import TaxGrade

        super().__init__(*args, **kwargs)
        self.fields["grade"].choices = _choices(TaxGrade.choices, _("请选择"))


class QualificationForm(ServiceForm):
    kind = forms.ChoiceField(label=_("资质类型"), choices=())
    board = forms.ChoiceField(
        label=_("上市/挂牌板块"),
        required=False,
        choices=(),
        help_text=_("仅上市/挂牌或上市后备企业填写"),
    )
    issuer = forms.CharField(label=_("认定/发证机构"), max_length=100)
    certificate_no = forms.CharField(label=_("证书/文件编号"), required=False, max_length=100)
    valid_from = forms.CharField(label=_("生效日期"), widget=_date_input())
    valid_until = forms.CharField(
        label=_("有效期至"),
        required=False,
        widget=_date_input(),
        help_text=_("不填为长期有效；到期次日起自动失效"),
    )
    note = forms.CharField(label=_("备注"), required=False, max_length=200)

    def __init__(self, *args, qualification=None, **kwargs):
        from .models import ListingBoard, QualificationKind

        if qualification is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "kind": qualification.kind,
                "board": qualification.board,
                "issuer": qualification.issuer,
                "certificate_no": qualification.certificate_no,
                "valid_from": qualification.valid_from.isoformat(),
                "valid_until": (
                    qualification.valid_until.isoformat() if qualification.valid_until else ""
                ),
                "note": qualification.note,
            }
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = _choices(QualificationKind.choices, _("请选择"))
        self.fields["board"].choices = _choices(ListingBoard.choices, _("不适用"))

    def service_data(self) -> dict[str, Any]:
        data = super().service_data()
        data["valid_until"] = data.get("valid_until") or None
        return data


class RevokeForm(ServiceForm):
    effective = forms.CharField(
        label=_("撤销生效日期"), widget=_date_input(), help_text=_("自该日起不再有效")
    )
    reason = forms.CharField(label=_("撤销原因"), max_length=200)


OPERATING_FORM_FIELDS = (
    "output_value_wan",
    "revenue_wan",
    "profit_wan",
    "tax_paid_wan",
    "employees",
    "electricity_kwh",
)


class OperatingFiguresMixin(forms.Form):
    output_value_wan = forms.CharField(
        label=_("工业总产值（万元）"), required=False, widget=_text_input("decimal")
    )
    revenue_wan = forms.CharField(
        label=_("营业收入（万元）"), required=False, widget=_text_input("decimal")
    )
    profit_wan = forms.CharField(
        label=_("利润总额（万元）"),
        required=False,
        widget=_text_input("decimal"),
        help_text=_("亏损填负数"),
    )
    tax_paid_wan = forms.CharField(
        label=_("实缴税金（万元）"), required=False, widget=_text_input("decimal")
    )
    employees = forms.CharField(
        label=_("从业人员（人）"), required=False, widget=_text_input("numeric")
    )
    electricity_kwh = forms.CharField(
        label=_("用电量（千瓦时）"), required=False, widget=_text_input("decimal")
    )

    def figures(self) -> dict[str, Any]:
        """Only the figures typed in: a blank box leaves the stored figure alone."""
        return {
            key: self.cleaned_data[key]
            for key in OPERATING_FORM_FIELDS
            if (self.cleaned_data.get(key) or "").strip()
        }


class OperatingForm(ServiceForm, OperatingFiguresMixin):
    ERROR_FIELDS = {"period": "period"}
    period = forms.CharField(
        label=_("统计期"),
        max_length=20,
        help_text=_("月度如 2025-03，季度如 2025Q1"),
        widget=forms.TextInput(attrs={"placeholder": "2025-03", "autocomplete": "off"}),
    )
    field_order = ["period", *OPERATING_FORM_FIELDS]


class OperatingReviewForm(ServiceForm, OperatingFiguresMixin):
    note = forms.CharField(
        label=_("核实意见"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("如：已与企业财务负责人电话核实"),
    )
    field_order = ["note", *OPERATING_FORM_FIELDS]


class ProjectForm(RegionFieldsMixin, ServiceForm):
    region_empty_label = _("请选择")
    ERROR_FIELDS = {"region_code": "county", "owner_id": "owner_uscc"}

    owner_uscc = forms.CharField(
        label=_("项目单位统一社会信用代码"),
        max_length=18,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    name = forms.CharField(label=_("项目名称"), max_length=100, validators=[validate_name])
    kind = forms.ChoiceField(label=_("项目类型"), choices=())
    project_class = forms.ChoiceField(label=_("五类项目"), required=False, choices=())
    total_investment_wan = forms.CharField(label=_("总投资（万元）"), widget=_text_input("decimal"))
    financing_need_wan = forms.CharField(
        label=_("融资需求（万元）"), required=False, widget=_text_input("decimal")
    )
    stage = forms.ChoiceField(label=_("项目阶段"), choices=())
    start_year = forms.CharField(
        label=_("开工年份"), required=False, max_length=4, widget=_text_input("numeric")
    )
    description = forms.CharField(
        label=_("建设内容"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, user, project=None, owner=None, **kwargs):
        from .models import ProjectClass, ProjectKind, ProjectStage

        self.project = project
        if project is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "owner_uscc": project.owner.uscc,
                "name": project.name,
                "kind": project.kind,
                "project_class": project.project_class,
                "total_investment_wan": _plain_decimal(project.total_investment / 10000),
                "financing_need_wan": _plain_decimal(
                    None if project.financing_need is None else project.financing_need / 10000
                ),
                "stage": project.stage,
                "start_year": project.start_year or "",
                "description": project.description,
            }
        elif owner is not None and "initial" not in kwargs:
            kwargs["initial"] = {"owner_uscc": owner.uscc}
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = _choices(ProjectKind.choices, _("请选择"))
        self.fields["project_class"].choices = _choices(ProjectClass.choices, _("不属于 / 未填"))
        self.fields["stage"].choices = _choices(ProjectStage.choices, _("请选择"))
        if project is not None or scope_of(user).kind == ScopeKind.ENTERPRISE:
            # The owner never changes; an enterprise's projects are its own.
            del self.fields["owner_uscc"]
        if self.is_bound:
            values = {level: self.data.get(level, "") for level in REGION_LEVEL_FIELDS}
            self.setup_region_fields(user, values)
        else:
            code = project.region_id if project else (owner.region_id if owner else None)
            code = code or jurisdiction_code(user)
            if code is None and scope_of(user).kind == ScopeKind.ENTERPRISE:
                code = user.enterprise.region_id
            picker = RegionPicker.for_region(scope_prefix(user), code)
            self.setup_region_fields(user, picker.values())

    def service_data(self) -> dict[str, Any]:
        data = {
            key: self.cleaned_data.get(key, "")
            for key in self.fields
            if key not in REGION_LEVEL_FIELDS
        }
        region = self.region_picker.region
        if region is not None:
            data["region_code"] = region.code
        elif self.project is not None:
            data["region_code"] = self.project.region_id
        if self.project is not None:
            data.pop("owner_uscc", None)
            for key in ("project_class", "financing_need_wan", "start_year", "description"):
                data[key] = data.get(key) or None
        else:
            data = {k: v for k, v in data.items() if v not in ("", None)}
        return data


class ListForm(ServiceForm):
    list_type = forms.ChoiceField(label=_("名单类型"), choices=())
    sector = forms.ChoiceField(label=_("适用领域"), required=False, choices=())
    name = forms.CharField(label=_("名单名称"), max_length=100, validators=[validate_name])
    region_code = forms.ChoiceField(
        label=_("适用地区"), required=False, choices=(), help_text=_("默认为本部门辖区")
    )
    agency_id = forms.ChoiceField(label=_("维护部门"), choices=())
    description = forms.CharField(
        label=_("说明"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, user, lst=None, **kwargs):
        from chanrong.accounts.models import GovernmentAgency

        from .models import ListSector, ListType

        if lst is not None and "initial" not in kwargs:
            kwargs["initial"] = {"name": lst.name, "description": lst.description}
        super().__init__(*args, **kwargs)
        if lst is not None:
            for key in ("list_type", "sector", "region_code", "agency_id"):
                del self.fields[key]
            return
        self.fields["list_type"].choices = _choices(ListType.choices, _("请选择"))
        self.fields["sector"].choices = list(ListSector.choices)
        scope = scope_of(user)
        if scope.kind == ScopeKind.GOVERNMENT:
            del self.fields["agency_id"]
            agency = user.agency
            if agency.region_id is None:
                regions = Region.objects.exclude(level=RegionLevel.COUNTY)
            else:
                regions = Region.objects.filter(code__startswith=agency.region_prefix)
            default = agency.region.full_name if agency.region_id else _("全国")
            self.fields["region_code"].choices = [
                ("", _("本部门辖区（%(name)s）") % {"name": default}),
                *[(r.code, f"{r.code} {r.name}") for r in regions.order_by("code")[:500]],
            ]
        else:
            self.fields["agency_id"].choices = _choices(
                [(a.pk, str(a)) for a in GovernmentAgency.objects.order_by("level", "name")],
                _("请选择"),
            )
            self.fields["region_code"].choices = [
                ("", _("维护部门辖区")),
                *[
                    (r.code, f"{r.code} {r.name}")
                    for r in Region.objects.exclude(level=RegionLevel.COUNTY).order_by("code")
                ],
            ]


class VersionForm(ServiceForm):
    note = forms.CharField(
        label=_("调整说明"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    effective_from = forms.CharField(label=_("拟生效日期"), required=False, widget=_date_input())

    def service_data(self) -> dict[str, Any]:
        data = super().service_data()
        data["effective_from"] = data.get("effective_from") or None
        return data


class EntryForm(ServiceForm):
    ERROR_FIELDS = {"enterprise_id": "subject", "project_id": "subject", "uscc": "subject"}
    # An enterprise picked by name or USCC (an Enterprise once valid); a
    # project list's form replaces it with a choice of projects (an id).
    subject = pickers.PickerField(ENTERPRISES, label=_("企业"))
    reason = forms.CharField(label=_("列入理由"), max_length=300)

    def __init__(self, *args, projects=None, **kwargs):
        super().__init__(*args, **kwargs)
        if projects is not None:
            self.fields["subject"] = forms.ChoiceField(
                label=_("项目"),
                choices=_choices(
                    [(p.pk, f"{p.name}（{p.owner.name}）") for p in projects], _("请选择")
                ),
            )


class ReasonForm(ServiceForm):
    reason = forms.CharField(label=_("理由"), max_length=300)


class PublishForm(ServiceForm):
    effective_from = forms.CharField(
        label=_("生效日期"), required=False, widget=_date_input(), help_text=_("不能早于今天")
    )
    note = forms.CharField(label=_("审批意见"), required=False, max_length=500)


class RejectForm(ServiceForm):
    note = forms.CharField(label=_("退回理由"), max_length=500)
