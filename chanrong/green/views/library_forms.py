"""Web forms of the green library pages. They collect text under the
services' field names and hand it over; every rule is the services'.
`add_service_errors` puts each FieldError beside the control of the same
name (an evidence row's error beside that row's control)."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from chanrong.core.errors import ValidationFailed

from ..models import LibraryStatus

EVIDENCE_ROWS = 3
DATE = {"type": "date"}
_EVIDENCE_FIELD = re.compile(r"^evidence\[(\d+)\]\.(name|number|issued_on)$")


class ServiceForm(forms.Form):
    def field_for(self, name: str) -> str | None:
        match = _EVIDENCE_FIELD.match(name)
        if match:
            name = f"evidence_{match.group(1)}_{match.group(2)}"
        elif name == "evidence":
            name = "evidence_1_name"
        return name if name in self.fields else None

    def add_service_errors(self, exc: ValidationFailed) -> None:
        for error in exc.errors:
            self.add_error(self.field_for(error.field), error.message)
        if not exc.errors:
            self.add_error(None, exc.message)


class ApplicationForm(ServiceForm):
    green_list_id = forms.CharField(label=_("申请列入"), required=False, widget=forms.Select)
    project_id = forms.CharField(label=_("申请主体"), required=False, widget=forms.Select)
    item_code = forms.CharField(
        label=_("绿色产业指导目录条目"), required=False, widget=forms.Select
    )
    description = forms.CharField(
        label=_("绿色属性说明"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("说明企业（项目）的主营业务或建设内容如何符合所选条目，以及节能、减排等效果"),
    )

    def __init__(self, *args, lists=(), projects=(), items=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["green_list_id"].widget.choices = [(str(lst.pk), lst.name) for lst in lists]
        self.fields["project_id"].widget.choices = [
            ("", _("本企业")),
            *((str(p.pk), _("项目：%(name)s") % {"name": p.name}) for p in projects),
        ]
        self.fields["item_code"].widget.choices = [
            ("", "—"),
            *((i.code, f"{i.code} {i.name}") for i in items),
        ]
        for n in range(1, EVIDENCE_ROWS + 1):
            self.fields[f"evidence_{n}_name"] = forms.CharField(
                label=_("材料 %(n)s 名称") % {"n": n}, max_length=200, required=False
            )
            self.fields[f"evidence_{n}_number"] = forms.CharField(
                label=_("文号/证书编号"), max_length=100, required=False
            )
            self.fields[f"evidence_{n}_issued_on"] = forms.CharField(
                label=_("日期"), required=False, widget=forms.DateInput(attrs=DATE)
            )

    def evidence_rows(self):
        return [
            (
                self[f"evidence_{n}_name"],
                self[f"evidence_{n}_number"],
                self[f"evidence_{n}_issued_on"],
            )
            for n in range(1, EVIDENCE_ROWS + 1)
        ]

    def service_data(self) -> dict:
        data = self.cleaned_data
        out = {
            key: data[key]
            for key in ("green_list_id", "project_id", "item_code", "description")
            if data.get(key) not in (None, "")
        }
        out["description"] = data.get("description", "")
        out["item_code"] = data.get("item_code", "")
        out["evidence"] = [
            {
                "name": data.get(f"evidence_{n}_name", ""),
                "number": data.get(f"evidence_{n}_number", ""),
                "issued_on": data.get(f"evidence_{n}_issued_on", ""),
            }
            for n in range(1, EVIDENCE_ROWS + 1)
        ]
        return out


class NoteForm(ServiceForm):
    note = forms.CharField(label=_("审核意见"), max_length=500, required=False)


class ReasonForm(ServiceForm):
    reason = forms.CharField(label=_("原因"), max_length=500, required=False)


class ProposeForm(ServiceForm):
    note = forms.CharField(label=_("调整说明"), max_length=500, required=False)


def status_choices():
    return [("", _("全部")), *LibraryStatus.choices]
