"""The LPR page (/finance/lpr/): the history every signed-in user may read,
and, for platform admins, the form to add or correct one month.

The rules (who may save, what is valid) are `finance.lpr`'s; this module
only turns a request into a call and the answer into a page.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from chanrong.core.errors import NotAllowed, ValidationFailed

from . import lpr
from .models import LprRate, LprTenor

TENOR_LABELS = {
    LprTenor.ONE_YEAR: gettext_lazy("1 年期"),
    LprTenor.FIVE_YEAR: gettext_lazy("5 年期以上"),
}


class LprForm(forms.Form):
    """Plain text in, so that the service's checks (and their messages) decide."""

    tenor = forms.ChoiceField(label=gettext_lazy("品种"), choices=list(TENOR_LABELS.items()))
    published_on = forms.CharField(
        label=gettext_lazy("公布日期"),
        max_length=20,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("每月 20 日（遇节假日顺延）；同一品种同一月份再次保存即为更正"),
    )
    rate = forms.CharField(
        label=gettext_lazy("利率（%）"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        help_text=gettext_lazy("年利率百分比，如 3.45"),
    )
    source = forms.CharField(label=gettext_lazy("来源"), max_length=lpr.SOURCE_MAX, required=False)
    note = forms.CharField(label=gettext_lazy("备注"), max_length=lpr.NOTE_MAX, required=False)

    def add_service_errors(self, exc: ValidationFailed) -> None:
        for error in exc.errors:
            self.add_error(error.field if error.field in self.fields else None, error.message)


def _initial(request) -> dict:
    """The form's starting values: the row to correct (?edit=<id>) or a new month."""
    initial = {"tenor": LprTenor.ONE_YEAR, "source": lpr.DEFAULT_SOURCE}
    edit = request.GET.get("edit", "")
    if edit.isdigit() and len(edit) < 19:
        row = LprRate.objects.filter(pk=int(edit)).first()
        if row is not None:
            initial.update(
                tenor=row.tenor,
                published_on=row.published_on.isoformat(),
                rate=row.rate_text,
                source=row.source,
                note=row.note,
            )
    return initial


@login_required
@require_http_methods(["GET", "POST"])
def lpr_list(request):
    """Listed whole, not paged: one row per month with an LPR publication
    (12 a year, about 70 since the 2019 reform), and the chart beside the
    table needs every month."""
    can_maintain = lpr.can_maintain_lpr(request.user)
    if request.method == "POST" and not can_maintain:
        raise PermissionDenied
    form = None
    if can_maintain:
        form = LprForm(
            request.POST if request.method == "POST" else None, initial=_initial(request)
        )
        if request.method == "POST" and form.is_valid():
            try:
                row, created = lpr.save_lpr(request.user, **form.cleaned_data)
            except NotAllowed:
                raise PermissionDenied from None
            except ValidationFailed as exc:
                form.add_service_errors(exc)
            else:
                values = {
                    "tenor": TENOR_LABELS[row.tenor],
                    "date": row.published_on.isoformat(),
                    "rate": row.rate_text,
                }
                if created:
                    message = _("已添加 %(date)s %(tenor)s LPR：%(rate)s%%") % values
                else:
                    message = _("已更正 %(date)s %(tenor)s LPR：%(rate)s%%") % values
                messages.success(request, message)
                return redirect("lpr:list")
    months = lpr.by_month()
    stale = [
        {"tenor": TENOR_LABELS[tenor], "quote": quote}
        for tenor, quote in lpr.latest_quotes().items()
        if quote is not None and quote.stale
    ]
    return render(
        request,
        "finance/lpr_list.html",
        {
            "months": months,
            "chart_option": lpr.chart_option(months) if months else None,
            "stale": stale,
            "stale_after_days": lpr.STALE_AFTER_DAYS,
            "form": form,
            "can_maintain": can_maintain,
        },
    )
