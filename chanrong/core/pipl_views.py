"""个人信息请求 (PIPL) page for the system and security administrators:
find a person by username, download their data as JSON, or anonymise them
after typing the username again. Both go through `core.pipl`, audited."""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from . import pipl
from .errors import NotAllowed


class PersonForm(forms.Form):
    username = forms.CharField(label=gettext_lazy("用户名"), max_length=150)
    action = forms.ChoiceField(
        label=gettext_lazy("请求"),
        choices=[("export", gettext_lazy("导出个人信息")), ("anonymise", gettext_lazy("匿名化"))],
    )
    confirm = forms.CharField(
        label=gettext_lazy("确认匿名化：再次输入用户名"),
        max_length=150,
        required=False,
        help_text=gettext_lazy("匿名化不可撤销：替换个人信息、停用账户、吊销令牌；审计日志保留。"),
    )

    def clean(self):
        data = super().clean()
        User = get_user_model()
        username = data.get("username")
        if username:
            person = User.objects.filter(**{User.USERNAME_FIELD: username}).first()
            if person is None:
                self.add_error("username", _("没有该用户"))
            data["person"] = person
        if data.get("action") == "anonymise" and data.get("confirm") != username:
            self.add_error("confirm", _("请再次输入相同的用户名以确认"))
        return data


@login_required
@require_http_methods(["GET", "POST"])
def pipl_requests(request):
    if not pipl.can_handle_requests(request.user):
        raise Http404
    form = PersonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        person = form.cleaned_data["person"]
        try:
            if form.cleaned_data["action"] == "export":
                data = pipl.export_person(request.user, person)
                response = HttpResponse(
                    json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True),
                    content_type="application/json; charset=utf-8",
                )
                response["Content-Disposition"] = (
                    f'attachment; filename="pipl-user-{person.pk}.json"'
                )
                return response
            pipl.anonymise_person(request.user, person)
        except NotAllowed as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("已匿名化用户 #%(id)d") % {"id": person.pk})
            return redirect("core:pipl")
    return render(request, "core/pipl.html", {"form": form})
