from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .todo import todos_for
from .workbench import summary_for


@login_required
def home(request):
    return render(
        request,
        "portal/home.html",
        {"summary": summary_for(request.user), "todos": todos_for(request.user)},
    )
