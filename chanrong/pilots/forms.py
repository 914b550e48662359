"""Web forms for the pilot programme. They only collect input; every rule is
in services.py, whose field errors are shown next to these fields."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from chanrong.core.errors import ServiceError
from chanrong.core.text import validate_name

from .models import EligibleLevel, ReportPeriod, Stance

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ServiceErrorsMixin:
    """Show a service's field errors on the matching fields (the rest on top)."""

    service_field_map: dict[str, str] = {}

    def add_service_errors(self, exc: ServiceError) -> None:
        if not exc.errors:
            self.add_error(None, exc.message)  # type: ignore[attr-defined]
            return
        for error in exc.errors:
            name = self.service_field_map.get(error.field, error.field)
            if name in self.fields:  # type: ignore[attr-defined]
                self.add_error(name, error.message)  # type: ignore[attr-defined]
            else:
                self.add_error(None, error.message)  # type: ignore[attr-defined]


class BatchForm(ServiceErrorsMixin, forms.Form):
    number = forms.IntegerField(label=_("批次序号"), min_value=1, max_value=99)
    name = forms.CharField(
        label=_("批次名称"), max_length=64, help_text=_("如：第二批"), validators=[validate_name]
    )
    notice_title = forms.CharField(
        label=_("通知标题"), max_length=200, required=False, validators=[validate_name]
    )
    notice_number = forms.CharField(
        label=_("文号"), max_length=64, required=False, help_text=_("如：工信部联财函〔2020〕161号")
    )
    notice_text = forms.CharField(
        label=_("通知正文"), required=False, widget=forms.Textarea(attrs={"rows": 8})
    )
    application_deadline = forms.DateField(label=_("申报截止日期"), widget=DATE)
    provincial_deadline = forms.DateField(
        label=_("省级确认推荐截止日期"),
        widget=DATE,
        help_text=_("省级在此日期（含）前确认推荐并提交联合上报文件"),
    )
    eligible_level = forms.ChoiceField(label=_("申报对象"), choices=EligibleLevel.choices)
    max_period_years = forms.IntegerField(
        label=_("实施期上限（年）"), min_value=1, max_value=10, initial=3
    )
    province_quota = forms.IntegerField(
        label=_("各省推荐名额"), min_value=1, max_value=20, initial=2
    )
    special_quota = forms.IntegerField(
        label=_("计划单列市、新疆生产建设兵团推荐名额"), min_value=1, max_value=20, initial=1
    )
    outline = forms.CharField(
        label=_("实施方案编制提纲"),
        widget=forms.Textarea(attrs={"rows": 7}),
        help_text=_("每行一章：代码 | 标题 | 编写说明（代码用于延续试点时沿用原方案内容）"),
    )

    @staticmethod
    def outline_text(outline: list[dict]) -> str:
        return "\n".join(
            " | ".join([item["key"], item["title"], item.get("guidance", "")]).rstrip(" |")
            for item in outline
        )

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        outline = []
        for line in data["outline"].splitlines():
            if not line.strip():
                continue
            parts = [p.strip() for p in line.split("|")]
            if len(parts) == 1:
                outline.append({"title": parts[0]})
            else:
                outline.append(
                    {"key": parts[0], "title": parts[1], "guidance": " | ".join(parts[2:])}
                )
        data["outline"] = outline
        return data


class RubricForm(ServiceErrorsMixin, forms.Form):
    criteria = forms.CharField(
        label=_("评分标准"),
        widget=forms.Textarea(attrs={"rows": 7}),
        help_text=_("每行一项：评分项 | 满分 | 评分要点"),
    )
    service_field_map = {"criteria": "criteria"}

    @staticmethod
    def criteria_text(criteria) -> str:
        return "\n".join(
            f"{c.name} | {c.max_score.normalize():f} | {c.description}" for c in criteria
        )

    def rows(self) -> list[dict]:
        rows = []
        for line in self.cleaned_data["criteria"].splitlines():
            if not line.strip():
                continue
            parts = [p.strip() for p in line.split("|")]
            rows.append(
                {
                    "name": parts[0],
                    "max_score": parts[1] if len(parts) > 1 else "",
                    "description": " | ".join(parts[2:]),
                }
            )
        return rows

    def add_service_errors(self, exc: ServiceError) -> None:
        for error in exc.errors or []:
            self.add_error("criteria", f"{error.field}：{error.message}")
        if not exc.errors:
            self.add_error(None, exc.message)


class BatchDocumentForm(ServiceErrorsMixin, forms.Form):
    kind = forms.ChoiceField(
        label=_("附件类别"),
        choices=[
            ("notice", _("通知文件")),
            ("outline", _("实施方案编制提纲")),
            ("template", _("定量指标统计表模板")),
            ("batch_other", _("其他附件")),
        ],
    )
    title = forms.CharField(label=_("附件名称"), max_length=200, required=False)
    file = forms.FileField(label=_("文件"), help_text=_("PDF、DOC(X)、XLS(X)、JPG 或 PNG"))


class ApplicationForm(ServiceErrorsMixin, forms.Form):
    title = forms.CharField(
        label=_("实施方案名称"),
        max_length=200,
        required=False,
        help_text=_("如：嘉善县国家产融合作试点城市实施方案（2021—2023年）"),
    )
    start_year = forms.IntegerField(
        label=_("实施期起始年份"), min_value=2000, max_value=2100, required=False
    )
    end_year = forms.IntegerField(
        label=_("实施期截止年份"),
        min_value=2000,
        max_value=2100,
        required=False,
        help_text=_("方案实施期不超过3年"),
    )
    contact_name = forms.CharField(
        label=_("联系人"), max_length=64, required=False, validators=[validate_name]
    )
    contact_phone = forms.CharField(label=_("联系电话"), max_length=32, required=False)

    def service_data(self) -> dict:
        return dict(self.cleaned_data)


class NewApplicationForm(ApplicationForm):
    kind = forms.ChoiceField(
        label=_("申报类型"),
        choices=[("new", _("新申报")), ("renewal", _("延续试点（原试点实施期满）"))],
        widget=forms.RadioSelect,
        initial="new",
    )
    previous = forms.TypedChoiceField(
        label=_("原试点"), coerce=int, required=False, empty_value=None
    )

    field_order = ["kind", "previous"]

    def __init__(self, *args, renewable=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["previous"].choices = [("", "—")] + [
            (a.pk, f"{a.batch.name}（{a.period_label}）") for a in renewable
        ]
        if not renewable:
            self.fields["kind"].choices = [("new", _("新申报"))]
            del self.fields["previous"]


class SectionsForm(ServiceErrorsMixin, forms.Form):
    """One textarea per chapter of the batch's 编制提纲."""

    def __init__(self, *args, sections=(), outline=(), **kwargs):
        super().__init__(*args, **kwargs)
        guidance = {item["key"]: item.get("guidance", "") for item in outline}
        self.section_keys = []
        for section in sections:
            name = f"section_{section.key}"
            self.section_keys.append((name, section.key))
            self.fields[name] = forms.CharField(
                label=section.title,
                required=False,
                initial=section.body,
                help_text=guidance.get(section.key, ""),
                widget=forms.Textarea(attrs={"rows": 10}),
            )
        self.service_field_map = {f"sections.{key}": name for name, key in self.section_keys}

    def bodies(self) -> dict[str, str]:
        return {key: self.cleaned_data.get(name, "") for name, key in self.section_keys}


class DocumentForm(ServiceErrorsMixin, forms.Form):
    kind = forms.ChoiceField(
        label=_("材料类别"),
        choices=[("declaration", _("申报文件（PDF）")), ("material", _("相关材料"))],
    )
    title = forms.CharField(
        label=_("材料名称"),
        max_length=200,
        required=False,
        help_text=_("如：嘉善县金融支持制造业发展若干政策"),
    )
    file = forms.FileField(
        label=_("文件"),
        help_text=_("申报文件须为 PDF；相关材料可为 PDF、DOC(X)、XLS(X)、JPG 或 PNG"),
    )


class IndicatorTableForm(ServiceErrorsMixin, forms.Form):
    """A value (and, for compound indicators, a second value) per indicator
    and year: the 定量指标统计表."""

    def __init__(self, *args, definitions=(), years=(), targets=None, **kwargs):
        super().__init__(*args, **kwargs)
        targets = targets or {}
        self.grid = []
        self.cell_labels: dict[str, tuple[str, str]] = {}
        # The form fields behind each row rows() hands the service, in order,
        # so "rows[42].value" comes back to the cell it was typed in.
        self._row_fields: list[tuple[str, str | None]] = []
        for definition in definitions:
            cells = []
            for year in years:
                target = targets.get((definition.pk, year))
                value_name = f"v_{definition.code}_{year}"
                first_label = _("%(year)s年 目标值（%(unit)s）") % {
                    "year": year,
                    "unit": definition.unit,
                }
                self.fields[value_name] = forms.CharField(
                    label=f"{definition.name} {year}",
                    required=False,
                    max_length=24,
                    initial=_fmt(target.value, target.value_places) if target else "",
                    widget=forms.TextInput(
                        attrs={
                            "aria-label": f"{definition.name} {first_label}",
                            "title": first_label,
                        }
                    ),
                )
                self.cell_labels[value_name] = (definition.name, first_label)
                second_name = None
                if definition.second_kind != "none":
                    second_name = f"s_{definition.code}_{year}"
                    second_label = (
                        _("%(year)s年 目标增速（%%）") % {"year": year}
                        if definition.second_kind == "growth"
                        else _("%(year)s年 第二项数值（%(unit)s）")
                        % {"year": year, "unit": definition.second_unit}
                    )
                    self.fields[second_name] = forms.CharField(
                        label=f"{definition.name} {year} {definition.second_unit}",
                        required=False,
                        max_length=24,
                        initial=_fmt(target.second_value, target.second_places) if target else "",
                        widget=forms.TextInput(
                            attrs={
                                "aria-label": f"{definition.name} {second_label}",
                                "title": second_label,
                            }
                        ),
                    )
                    self.cell_labels[second_name] = (definition.name, second_label)
                cells.append((year, value_name, second_name))
            self.grid.append((definition, cells))

    def rows(self) -> list[dict]:
        rows = []
        self._row_fields = []
        for definition, cells in self.grid:
            for year, value_name, second_name in cells:
                value = self.cleaned_data.get(value_name, "")
                second = self.cleaned_data.get(second_name, "") if second_name else ""
                if value == "" and second == "":
                    continue
                self._row_fields.append((value_name, second_name))
                rows.append(
                    {
                        "definition": definition.code,
                        "year": year,
                        "value": value,
                        "second_value": second or None,
                    }
                )
        return rows

    def grid_rows(self):
        """(definition, [(year, bound value field, bound second field | None)])."""
        return [
            (d, [(y, self[v], self[s] if s else None) for y, v, s in cells])
            for d, cells in self.grid
        ]

    def add_service_errors(self, exc: ServiceError) -> None:
        """Each of the service's errors ("rows[42].value: 百分比不能超过 100")
        at the cell it concerns, all at once, and listed at the top by
        indicator and year, so the clerk sees where without counting rows."""
        if not exc.errors:
            self.add_error(None, exc.message)
            return
        for error in exc.errors:
            name = self._cell_for(error.field)
            if name in self.fields:
                self.add_error(name, error.message)
                self.add_error(
                    None,
                    _("%(indicator)s %(cell)s：%(message)s")
                    % {
                        "indicator": self.cell_labels[name][0],
                        "cell": self.cell_labels[name][1],
                        "message": error.message,
                    },
                )
            else:
                self.add_error(None, error.message)

    def _cell_for(self, field: str) -> str | None:
        match = _ROW_FIELD.fullmatch(field or "")
        if not match or int(match["index"]) >= len(self._row_fields):
            return None
        value_name, second_name = self._row_fields[int(match["index"])]
        return second_name if match["part"] == "second_value" else value_name


_ROW_FIELD = re.compile(r"rows\[(?P<index>\d+)\](?:\.(?P<part>\w+))?")


def _fmt(value, places) -> str:
    if value is None:
        return ""
    if places is None:
        return f"{value.normalize():f}"
    return f"{value:.{places}f}"


class IndicatorImportForm(ServiceErrorsMixin, forms.Form):
    table = forms.CharField(
        label=_("粘贴定量指标表"),
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("从实施方案附件中复制的定量指标表（制表符分隔）；将替换现有目标值"),
    )


class OpinionForm(ServiceErrorsMixin, forms.Form):
    stance = forms.ChoiceField(label=_("意见"), choices=Stance.choices, widget=forms.RadioSelect)
    text = forms.CharField(
        label=_("意见说明"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class DecisionForm(ServiceErrorsMixin, forms.Form):
    comment = forms.CharField(
        label=_("推荐意见或理由"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class JointReportForm(ServiceErrorsMixin, forms.Form):
    file = forms.FileField(
        label=_("联合上报文件"), help_text=_("PDF，工信、财政、人行、金融监管、证监联合出具")
    )
    service_field_map = {"joint_report": "file"}


class ConfirmForm(ServiceErrorsMixin, forms.Form):
    note = forms.CharField(
        label=_("说明"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ScoreForm(ServiceErrorsMixin, forms.Form):
    comment = forms.CharField(
        label=_("评审意见"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, criteria=(), existing=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria = list(criteria)
        items = existing.items if existing else {}
        for criterion in self.criteria:
            name = f"c_{criterion.pk}"
            self.fields[name] = forms.DecimalField(
                label=_("%(name)s（满分 %(max)s）")
                % {"name": criterion.name, "max": format(criterion.max_score.normalize(), "f")},
                help_text=criterion.description,
                min_value=0,
                max_value=criterion.max_score,
                decimal_places=2,
                initial=items.get(str(criterion.pk)),
            )
        if existing:
            self.fields["comment"].initial = existing.comment
        self.order_fields([f"c_{c.pk}" for c in self.criteria] + ["comment"])
        self.service_field_map = {f"items.{c.pk}": f"c_{c.pk}" for c in self.criteria}

    def items(self) -> dict[int, str]:
        return {c.pk: str(self.cleaned_data[f"c_{c.pk}"]) for c in self.criteria}


class DecideForm(ServiceErrorsMixin, forms.Form):
    decision = forms.ChoiceField(
        label=_("评审结论"),
        choices=[("approve", _("确定为试点 / 延续试点")), ("reject", _("不予入选 / 不予延续"))],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("结论说明"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class PublishForm(ServiceErrorsMixin, forms.Form):
    title = forms.CharField(
        label=_("公布标题"),
        required=False,
        max_length=200,
        help_text=_("留空则为「第N批产融合作试点城市名单」"),
    )


class ReportForm(ServiceErrorsMixin, forms.Form):
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)
    period = forms.ChoiceField(label=_("报告期"), choices=ReportPeriod.choices)
    summary = forms.CharField(label=_("工作进展"), widget=forms.Textarea(attrs={"rows": 8}))
    problems = forms.CharField(
        label=_("存在问题"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    next_steps = forms.CharField(
        label=_("下一步计划"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["year"]
            del self.fields["period"]


class ReportDocumentForm(ServiceErrorsMixin, forms.Form):
    title = forms.CharField(label=_("附件名称"), max_length=200, required=False)
    file = forms.FileField(label=_("附件"), help_text=_("PDF、DOC(X)、XLS(X)、JPG 或 PNG"))


class TrackingForm(forms.Form):
    year = forms.IntegerField(label=_("评估年度"), min_value=2000, max_value=2100, required=False)
    batch = forms.TypedChoiceField(label=_("批次"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args, batches=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["batch"].choices = [("", _("全部批次"))] + [(b.pk, b.name) for b in batches]
