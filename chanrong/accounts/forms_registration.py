"""Forms of the self-registration pages. They only collect and render: the
rules (formats, duplicates, the password policy) are the service's, whose
field errors come back onto these fields all at once."""

from __future__ import annotations

from django import forms
from django.forms.utils import ErrorDict
from django.utils.translation import gettext_lazy as _

from chanrong.core.errors import ServiceError
from chanrong.core.models import Industry, IndustryLevel, Region, RegionLevel

from .directory import directory_for


def province_choices() -> list[tuple[str, str]]:
    rows = Region.objects.filter(level=RegionLevel.PROVINCE).order_by("code")
    return [("", _("请选择省份"))] + [(r.prefix, r.name) for r in rows if len(r.prefix) == 2]


def region_choices(province: str, *, county_only: bool) -> list[tuple[str, str]]:
    """The regions under a province, labelled with their city ("嘉兴市 嘉善县")."""
    if not province or not province.isdigit() or len(province) != 2:
        return [("", _("请先选择省份"))]
    rows = Region.objects.filter(code__startswith=province).select_related("parent")
    if county_only:
        rows = rows.filter(level=RegionLevel.COUNTY)
    else:
        rows = rows.exclude(level=RegionLevel.PROVINCE)
    choices = [("", _("请选择"))]
    for region in rows.order_by("code"):
        parent = region.parent
        label = region.name
        if parent is not None and parent.level == RegionLevel.PREFECTURE:
            label = f"{parent.name} {region.name}"
        choices.append((region.code, label))
    return choices


class _RegistrationForm(forms.Form):
    county_only = True

    province = forms.ChoiceField(label=_("省份"), required=True)
    region_code = forms.ChoiceField(label=_("所在区县"), required=True)
    contact_name = forms.CharField(label=_("联系人"), max_length=50)
    contact_phone = forms.CharField(
        label=_("手机号码"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    contact_email = forms.CharField(
        label=_("电子邮箱"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    username = forms.CharField(
        label=_("用户名"),
        max_length=150,
        help_text=_("登录时使用，3–150 个字符"),
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    password = forms.CharField(
        label=_("密码"),
        strip=False,
        help_text=_("至少 10 位，包含小写字母、大写字母、数字、符号中的 3 类"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("确认密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    consent = forms.BooleanField(label=_("我已阅读并同意《个人信息保护与隐私政策》"))

    def __init__(self, data=None, **kwargs):
        super().__init__(data, **kwargs)
        province = (data or {}).get("province", "") if data is not None else ""
        self.fields["province"].choices = province_choices()
        self.fields["region_code"].choices = region_choices(province, county_only=self.county_only)
        self.fields["province"].widget.attrs["data-registration-province"] = "1"
        self.fields["region_code"].widget.attrs["data-registration-region"] = "1"

    def raw(self) -> dict:
        """The submitted values as typed (the service validates them)."""
        return {name: self.data.get(name, "") for name in self.fields}

    def add_service_errors(self, exc: ServiceError) -> None:
        # The service is the only validator: start from no errors, then its own.
        self._errors = ErrorDict()
        self.cleaned_data = {}
        for error in exc.errors:
            self.add_error(error.field if error.field in self.fields else None, error.message)
        if not exc.errors:
            self.add_error(None, exc.message)


class EnterpriseRegistrationForm(_RegistrationForm):
    uscc = forms.CharField(label=_("统一社会信用代码"), max_length=30)
    name = forms.CharField(label=_("企业名称"), max_length=100, help_text=_("与营业执照一致"))
    industry_code = forms.ChoiceField(label=_("所属行业"))

    field_order = ["uscc", "name", "province", "region_code", "industry_code"]

    def __init__(self, data=None, **kwargs):
        super().__init__(data, **kwargs)
        divisions = Industry.objects.filter(level=IndustryLevel.DIVISION).order_by("code")
        self.fields["industry_code"].choices = [("", _("请选择行业大类"))] + [
            (i.code, f"{i.code} {i.name}") for i in divisions
        ]


class InstitutionRegistrationForm(_RegistrationForm):
    county_only = False

    name = forms.CharField(label=_("机构名称"), max_length=100, help_text=_("总行/总公司全称"))
    institution_kind = forms.ChoiceField(label=_("机构类型"))
    uscc = forms.CharField(
        label=_("统一社会信用代码或金融许可证机构编码"),
        max_length=30,
    )
    branch_name = forms.CharField(
        label=_("分支机构名称"),
        max_length=100,
        required=False,
        help_text=_("以分支机构名义使用平台时填写，如“嘉善支行”"),
    )

    field_order = ["name", "institution_kind", "uscc", "branch_name", "province", "region_code"]

    def __init__(self, data=None, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["region_code"].label = _("所在地区")
        kinds = directory_for("institution").kinds()
        self.fields["institution_kind"].choices = [("", _("请选择"))] + kinds


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("驳回理由"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("申请人在状态页看到这段话"),
    )
