"""Every 4xx of the API in DESIGN.md's one shape:

    {"code": "...", "message": "...", "errors": [{"field": "...", "message": "..."}]}

`install(api)` replaces django-ninja's default handlers; `responses(...)`
documents the shape in OpenAPI for the status codes an operation can answer.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core import signals
from django.core.exceptions import (
    ObjectDoesNotExist,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError

from chanrong.core.errors import ServiceError

from .media import UnsupportedMediaType
from .schemas import INDUSTRY_CODE_PATTERN, NO_NUL, REGION_CODE_PATTERN, ErrorOut

logger = logging.getLogger("django.request")

# What a client can get from any authenticated operation, besides its own codes.
COMMON_ERRORS = (401, 403)


def error_body(code: str, message: str, errors: Iterable[dict[str, str]] = ()) -> dict[str, Any]:
    return {"code": code, "message": str(message), "errors": list(errors)}


def error_response(
    status: int, code: str, message: str, errors: Iterable[dict[str, str]] = ()
) -> HttpResponse:
    response = JsonResponse(
        error_body(code, message, errors),
        status=status,
        content_type="application/json; charset=utf-8",
        json_dumps_params={"ensure_ascii": False},
    )
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="chanrong"'
    return response


def responses(ok: dict[int, Any] | None = None, *errors: int) -> dict[Any, Any]:
    """The `response=` argument of an operation: its success schemas plus
    ErrorOut for `errors` and the codes every operation can answer."""
    result: dict[Any, Any] = dict(ok or {})
    codes = frozenset((*COMMON_ERRORS, *errors))
    result[codes] = ErrorOut
    return result


# --- pydantic's error types, in words a clerk can act on --------------------


def _limit(ctx: dict[str, Any], key: str) -> str:
    value = ctx.get(key, "")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def _pattern_message(pattern: str | None) -> str:
    if pattern == REGION_CODE_PATTERN:
        return _("应为 6 位数字的行政区划代码，如 330421")
    if pattern == INDUSTRY_CODE_PATTERN:
        return _("应为国民经济行业代码，如 C 或 C39")
    if pattern == NO_NUL:
        return _("不能包含 NUL 字符")
    return _("格式不正确")


def _message(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    messages = {
        "missing": lambda: _("必填"),
        "extra_forbidden": lambda: _("不允许的字段"),
        "int_type": lambda: _("应为整数"),
        "int_parsing": lambda: _("应为整数"),
        "int_from_float": lambda: _("应为整数"),
        "float_type": lambda: _("应为数字"),
        "float_parsing": lambda: _("应为数字"),
        "decimal_type": lambda: _("应为数字"),
        "decimal_parsing": lambda: _("应为数字"),
        "finite_number": lambda: _("应为有限数字"),
        "bool_type": lambda: _("应为 true 或 false"),
        "bool_parsing": lambda: _("应为 true 或 false"),
        "string_type": lambda: _("应为字符串"),
        "string_too_short": lambda: _("至少 %(n)s 个字符") % {"n": _limit(ctx, "min_length")},
        "string_too_long": lambda: _("最多 %(n)s 个字符") % {"n": _limit(ctx, "max_length")},
        "string_pattern_mismatch": lambda: _pattern_message(ctx.get("pattern")),
        "greater_than_equal": lambda: _("不能小于 %(n)s") % {"n": _limit(ctx, "ge")},
        "greater_than": lambda: _("应大于 %(n)s") % {"n": _limit(ctx, "gt")},
        "less_than_equal": lambda: _("不能大于 %(n)s") % {"n": _limit(ctx, "le")},
        "less_than": lambda: _("应小于 %(n)s") % {"n": _limit(ctx, "lt")},
        "enum": lambda: _("应为以下之一：%(values)s") % {"values": _limit(ctx, "expected")},
        "literal_error": lambda: (
            _("应为以下之一：%(values)s") % {"values": _limit(ctx, "expected")}
        ),
        "model_type": lambda: _("应为 JSON 对象"),
        "model_attributes_type": lambda: _("应为 JSON 对象"),
        "dict_type": lambda: _("应为 JSON 对象"),
        "list_type": lambda: _("应为列表"),
    }
    if kind in messages:
        return messages[kind]()
    if kind == "value_error" and "error" in ctx:
        return str(ctx["error"])
    return str(error.get("msg", _("输入有误")))


def field_errors(errors: list[dict[str, Any]]) -> list[dict[str, str]]:
    """ninja's error locations, e.g. ("body", "payload", "uscc") or ("query",
    "page"), as the dotted field name a client sent ("uscc", "page")."""
    result = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ())]
        if loc and loc[0] in {"body", "query", "path", "header", "cookie", "form", "file"}:
            loc = loc[1:]
        body_param = error.get("_body_param")
        if body_param and loc and loc[0] == body_param:
            loc = loc[1:]
        result.append({"field": ".".join(loc), "message": _message(error)})
    return result


# --- handlers -------------------------------------------------------------------


def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return error_response(422, "invalid", _("输入有误"), field_errors(exc.errors))


def _service_error(request: HttpRequest, exc: ServiceError) -> HttpResponse:
    body = exc.as_dict()
    return error_response(exc.status, body["code"], body["message"], body["errors"])


def _not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return error_response(404, "not_found", _("未找到"))


def _unauthenticated(request: HttpRequest, exc: Exception) -> HttpResponse:
    return error_response(
        401, "unauthenticated", _("需要登录，或在 Authorization 头中提供有效的 Bearer 令牌")
    )


def _forbidden(request: HttpRequest, exc: Exception) -> HttpResponse:
    return error_response(403, "forbidden", _("无权执行此操作"))


def _suspicious(request: HttpRequest, exc: Exception) -> HttpResponse:
    return error_response(400, "bad_request", _("请求无效"))


def _bad_multipart(request: HttpRequest, exc: Exception) -> HttpResponse:
    # e.g. "Content-Type: multipart/form-data" without a boundary
    return error_response(400, "bad_request", _("无法解析上传的表单数据"))


def _too_large(request: HttpRequest, exc: Exception) -> HttpResponse:
    return error_response(413, "too_large", _("请求体过大"))


def _server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    """A bug, not bad input: logged (and mailed to ADMINS) like any Django 500,
    reported to the test client, but answered in JSON rather than an HTML page."""
    if settings.DEBUG:
        raise exc
    signals.got_request_exception.send(sender=None, request=request)
    logger.error(
        "Internal Server Error: %s",
        request.path,
        exc_info=exc,
        extra={"status_code": 500, "request": request},
    )
    return error_response(500, "server_error", _("服务器内部错误，已记录"))


def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    status = exc.status_code
    if status == 400 and isinstance(exc.__cause__, UnsupportedMediaType):
        return error_response(
            415,
            "unsupported_media_type",
            _("请求体须为 JSON，Content-Type 应为 application/json"),
            [{"field": "Content-Type", "message": _("应为 application/json")}],
        )
    if status == 400:
        return error_response(400, "bad_request", _("请求体不是有效的 JSON"))
    if status == 403 and "CSRF" in exc.message:
        return error_response(
            403, "csrf_failed", _("CSRF 校验失败：会话方式调用写操作须带 X-CSRFToken 头")
        )
    if status == 429:
        return error_response(429, "throttled", _("请求过于频繁，请稍后再试"))
    codes = {401: "unauthenticated", 403: "forbidden", 404: "not_found", 409: "conflict"}
    return error_response(status, codes.get(status, "error"), exc.message)


def install(api) -> None:
    # The most specific class wins (ninja looks handlers up along the MRO).
    api.add_exception_handler(Exception, _server_error)
    api.add_exception_handler(ValidationError, _validation_error)
    api.add_exception_handler(ServiceError, _service_error)
    api.add_exception_handler(Http404, _not_found)
    api.add_exception_handler(ObjectDoesNotExist, _not_found)
    api.add_exception_handler(AuthenticationError, _unauthenticated)
    api.add_exception_handler(AuthorizationError, _forbidden)
    api.add_exception_handler(PermissionDenied, _forbidden)
    api.add_exception_handler(SuspiciousOperation, _suspicious)
    api.add_exception_handler(RequestDataTooBig, _too_large)
    api.add_exception_handler(MultiPartParserError, _bad_multipart)
    api.add_exception_handler(HttpError, _http_error)


# --- responses outside any operation (unknown URL, wrong method) ------------------


def not_found_view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return error_response(
        404, "not_found", _("没有这个接口；接口列表见 /api/v1/docs 或 /api/v1/openapi.json")
    )


not_found_view.csrf_exempt = True  # type: ignore[attr-defined]


def method_not_allowed(response: HttpResponse) -> HttpResponse:
    shaped = error_response(405, "method_not_allowed", _("该接口不支持此 HTTP 方法"))
    shaped["Allow"] = response["Allow"]
    return shaped
