"""Forms of the public side: they render the controls and carry the
services' field errors; the rules themselves are in services/."""

from __future__ import annotations

from django import forms
from django.forms.utils import ErrorDict
from django.utils.translation import gettext_lazy as _

from chanrong.core.errors import ServiceError

from .models import ArticleCategory, FaqCategory


class ServiceErrorsMixin:
    """The services validate (every error at once, by field); a bound form
    only renders the values and shows those errors beside their controls."""

    def posted(self) -> dict[str, str]:
        """The submitted values, as text, for the service."""
        data = self.data  # type: ignore[attr-defined]
        return {name: data.get(name, "") for name in self.fields}  # type: ignore[attr-defined]

    def show_service_errors(self, exc: ServiceError) -> None:
        self._errors = ErrorDict()
        self.cleaned_data: dict = {}
        self.add_service_errors(exc)

    def add_service_errors(self, exc: ServiceError) -> None:
        if not exc.errors:
            self.add_error(None, exc.message)  # type: ignore[attr-defined]
        for error in exc.errors:
            target = error.field if error.field in self.fields else None  # type: ignore[attr-defined]
            self.add_error(target, error.message)  # type: ignore[attr-defined]


def _text(label, max_length, *, required=True, rows=0, help_text="", **attrs):
    widget = forms.Textarea(attrs={"rows": rows, **attrs}) if rows else forms.TextInput(attrs=attrs)
    # max_length is checked by the services (one message, by field); the
    # browser's own limit is a little above it so a paste is not cut silently.
    return forms.CharField(
        label=label, required=required, widget=widget, help_text=help_text, strip=False
    )


class ConsultationForm(ServiceErrorsMixin, forms.Form):
    addressee = forms.ChoiceField(label=_("咨询对象"))
    subject = _text(_("主题"), 100)
    question = _text(_("留言内容"), 2000, rows=6, help_text=_("纯文本，10 至 2000 字"))
    name = _text(_("姓名"), 50, autocomplete="name")
    phone = _text(_("联系电话"), 20, required=False, inputmode="tel", autocomplete="tel")
    email = _text(_("电子邮箱"), 254, required=False, inputmode="email", autocomplete="email")

    def __init__(self, *args, addressees, signed_in: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["addressee"].choices = addressees
        self.fields["phone"].help_text = _("电话与邮箱至少填一项，仅供答复使用，不会公开")
        if signed_in:
            for name in ("name", "phone", "email"):
                self.fields[name].required = False
                self.fields[name].help_text = _("留空则使用您账户中的信息")


class ArticleForm(ServiceErrorsMixin, forms.Form):
    category = forms.ChoiceField(label=_("栏目"), choices=ArticleCategory.choices)
    title = _text(_("标题"), 200)
    source = _text(_("来源"), 200, required=False, help_text=_("如：人民银行嘉兴市中心支行"))
    body = _text(_("正文"), 20000, rows=14, help_text=_("纯文本，段落之间空一行"))


class FaqForm(ServiceErrorsMixin, forms.Form):
    category = forms.ChoiceField(label=_("分类"), choices=FaqCategory.choices)
    question = _text(_("问题"), 300)
    answer = _text(_("解答"), 5000, rows=6, help_text=_("纯文本，段落之间空一行"))
    position = forms.CharField(label=_("排序"), required=False, help_text=_("数字小的排在前面"))
    published = forms.BooleanField(label=_("公开"), required=False, initial=True)


class AnswerForm(ServiceErrorsMixin, forms.Form):
    answer = _text(_("答复内容"), 5000, rows=6)
    public = forms.BooleanField(
        label=_("公开此问答"),
        required=False,
        help_text=_("公开后出现在“已答复的咨询”中，留言人姓名打码，电话和邮箱不公开"),
    )


class ReassignForm(ServiceErrorsMixin, forms.Form):
    agency = forms.ChoiceField(label=_("转办给"))

    def __init__(self, *args, agencies, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].choices = [(str(a.pk), a.name) for a in agencies]


class ArticleSearchForm(forms.Form):
    q = forms.CharField(label=_("关键词"), required=False, max_length=50)
    category = forms.ChoiceField(label=_("栏目"), required=False)
    region = forms.ChoiceField(label=_("地区"), required=False)

    def __init__(self, *args, regions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", _("全部")), *ArticleCategory.choices]
        self.fields["region"].choices = [("", _("全部")), *regions]

    def values(self) -> dict[str, str]:
        if not self.is_bound or not self.is_valid():
            return {"q": "", "category": "", "region": ""}
        return {k: self.cleaned_data.get(k) or "" for k in ("q", "category", "region")}
