from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .models import FinancialInstitution


@login_required
def institution_list(request):
    institutions = FinancialInstitution.objects.visible_to(request.user).select_related("region")
    return render(request, "finance/institution_list.html", {"institutions": institutions})
