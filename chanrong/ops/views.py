"""系统状态: the doctor's report as a page, for the platform admin."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language

from chanrong.core import health
from chanrong.core.health import State

from .models import ProcessHeartbeat

_TAG = {State.OK: "status--ok", State.WARN: "status--warn", State.FAIL: "status--fail"}


@login_required
def status(request):
    """Same checks as `chanrong doctor`, read-only; anyone but a platform
    admin gets a 404, as for any page they may not see."""
    if not getattr(request.user, "is_platform_admin", False):
        raise Http404
    findings = health.run_checks()
    english = (get_language() or "").startswith("en")
    rows = [
        {
            "key": f.key,
            "state": str(f.state),
            "css": _TAG[f.state],
            "message": f.en if english else f.zh,
        }
        for f in findings
    ]
    overall = health.worst(findings)
    return render(
        request,
        "ops/status.html",
        {
            "rows": rows,
            "overall": str(overall),
            "overall_css": _TAG[overall],
            "processes": ProcessHeartbeat.objects.order_by("kind", "-seen_at")[:20],
            "now": timezone.now(),
        },
    )
