"""One value per query parameter in the API.

Every query parameter of /api/v1 is a scalar (none is declared as an array in
the OpenAPI document), and django-ninja silently takes the last of repeated
values: `?programme_id=x&programme_id=9` would be answered as if only 9 had
been asked. A client that repeats a parameter has made a mistake it should
hear about, so the API answers 422 in the usual error shape, naming the
parameter, before any view runs.
"""

from __future__ import annotations

from django.http import JsonResponse
from django.utils.translation import gettext as _

from .errors import error_body

API_PREFIX = "/api/"


class RepeatedQueryParameterMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(API_PREFIX):
            repeated = sorted(key for key, values in request.GET.lists() if len(values) > 1)
            if repeated:
                return JsonResponse(
                    error_body(
                        "invalid",
                        _("查询参数不能重复"),
                        [{"field": key, "message": _("只能出现一次")} for key in repeated],
                    ),
                    status=422,
                )
        return self.get_response(request)
