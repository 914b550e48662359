from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from .models import Enterprise


@login_required
def enterprise_list(request):
    enterprises = Enterprise.objects.visible_to(request.user).select_related("region", "industry")
    return render(request, "registry/enterprise_list.html", {"enterprises": enterprises[:50]})


@login_required
def enterprise_detail(request, pk: int):
    enterprise = (
        Enterprise.objects.visible_to(request.user)
        .select_related("region", "industry")
        .filter(pk=pk)
        .first()
    )
    if enterprise is None:
        raise Http404
    return render(request, "registry/enterprise_detail.html", {"enterprise": enterprise})
