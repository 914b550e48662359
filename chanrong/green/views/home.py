"""绿色金融 hub (`green:home`): one landing page with a section per part of
the app: the library (with its counts), carbon accounting and grades, and
institutions' environmental disclosure, each section showing the links the
user's role may follow."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from ..models import LibraryApplication, LibraryStatus
from ..services import library as library_services
from ..services import library_stats


@login_required
@require_GET
def home(request):
    user = request.user
    mine = LibraryApplication.objects.visible_to(user)
    return render(
        request,
        "green/home.html",
        {
            "library": {
                "published": LibraryApplication.objects.published_to(user).count(),
                "pending": mine.filter(status=LibraryStatus.SUBMITTED).count(),
                "may_apply": library_services.may_apply(user),
                "may_review": library_services.may_review(user),
                "may_view_stats": library_stats.may_view_stats(user),
                "has_applications": mine.exists(),
            }
        },
    )
