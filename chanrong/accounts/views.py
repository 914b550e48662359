"""Account pages: API tokens and password change. Login/logout are Django's
own views, wired in urls.py with this app's login form; their templates are
Django's default names under registration/ (styled by the web shell)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from chanrong.core.errors import ServiceError
from chanrong.core.paging import paginate

from . import services
from .forms import AuditedPasswordChangeForm, TokenCreateForm
from .services import otp


def _visible_token(user, pk: int):
    token = services.tokens_visible_to(user).filter(pk=pk).first()
    if token is None:
        raise Http404
    return token


@login_required
def token_list(request):
    pager = paginate(
        request, services.tokens_visible_to(request.user).order_by("-created_at", "-pk")
    )
    manages_others = request.user.is_platform_admin or request.user.is_institution_manager
    return render(
        request,
        "accounts/token_list.html",
        {"tokens": pager["page_obj"].object_list, "pager": pager, "manages_others": manages_others},
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def token_create(request):
    form = TokenCreateForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            issued = services.create_token(
                request.user,
                form.cleaned_data["owner"],
                form.cleaned_data["name"],
                client_cert_sha256=form.cleaned_data["client_cert_sha256"],
            )
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            # Rendered, not redirected: the raw token exists only in this
            # response (never_cache keeps it out of caches and history).
            return render(
                request,
                "accounts/token_created.html",
                {"token": issued.token, "raw_token": issued.raw},
            )
    return render(request, "accounts/token_create.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def token_revoke(request, pk: int):
    token = _visible_token(request.user, pk)
    if request.method == "POST":
        try:
            services.revoke_token(request.user, token)
        except ServiceError as exc:
            raise PermissionDenied(exc.message) from exc
        messages.success(request, _("令牌 %(prefix)s… 已吊销。") % {"prefix": token.prefix})
        return redirect("accounts:tokens")
    return render(request, "accounts/token_revoke_confirm.html", {"token": token})


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's view (template registration/password_change_form.html, owned by
    the web shell), saving through the audited service."""

    form_class = AuditedPasswordChangeForm
    success_url = reverse_lazy("accounts:password_change_done")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["change_reason"] = services.password_change_reason(self.request.user)
        context["has_second_factor"] = otp.has_second_factor(self.request.user)
        return context
