"""The /admin/ site: Django's, with the second factor required.

Installed in chanrong/urls.py the way django-otp documents for its
OTPAdminSite (`admin.site.__class__ = …`), so every app's @admin.register
still lands on the one site. Unlike OTPAdminSite it asks for verification
whenever the user needs a second factor at all (by role, or enrolled), so
that the tests' empty required-roles setting also governs /admin/; with the
default settings every user who can reach /admin/ (system and security
administrators) needs a verified session. Its login page is the platform's,
so that throttling, the 动态口令 step and the audit apply there too.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import admin
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse

from .services import otp


class ChanrongAdminSite(admin.AdminSite):
    def has_permission(self, request) -> bool:
        if not super().has_permission(request):
            return False
        user = request.user
        verified = getattr(user, "is_verified", lambda: False)()
        return verified or not otp.needs_verification(user)

    def login(self, request, extra_context=None):
        """Anonymous users sign in on the platform's page. A signed-in user
        who may not use /admin/ (not staff) gets 404: sending them to the
        login page, which sends signed-in users back to `next`, looped."""
        user = request.user
        if user.is_authenticated and not (user.is_active and user.is_staff):
            raise Http404
        target = request.GET.get("next") or reverse("admin:index")
        return redirect(reverse("accounts:login") + "?" + urlencode({"next": target}))
