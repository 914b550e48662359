"""/api/v1: assembles each app's `api.py` router.

An app exposes `router = Router(tags=[...])` in its own `api.py`; it is added
here with `api.add_router("/<plural noun>", router)`. Conventions every router
follows:

- authentication is the API's default (bearer token or session + CSRF);
- the caller is `chanrong.accounts.api_auth.actor(request)`; querysets come from the
  model's `visible_to(actor)`; anything not visible is a 404;
- writes call the app's services; their ServiceErrors become the error shape;
- list operations use `chanrong.core.apikit.pagination.paginated`;
- every operation declares its error responses with `chanrong.core.apikit.errors.responses`.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from functools import wraps
from typing import Any

import orjson
from django.urls import URLPattern, path, re_path
from ninja import NinjaAPI, Swagger
from ninja.errors import ValidationError, ValidationErrorContext
from ninja.renderers import JSONRenderer
from ninja.responses import NinjaJSONEncoder

from chanrong.accounts.api_auth import AUTH
from chanrong.core.apikit import errors
from chanrong.core.apikit.jsondates import write_datetime
from chanrong.core.apikit.media import JsonOnlyParser

from .routing import nest_by_segment

DESCRIPTION = """\
产融通（chanrong）的 REST API。

**认证**：`Authorization: Bearer <令牌>`（令牌由 `chanrong token create 用户名` 生成），
或浏览器会话（登录后的 Cookie；写操作须带 `X-CSRFToken` 头）。令牌与其用户权限相同。

**可见性**：与网页相同的一条规则。看不到的对象一律 404（不会用 403 暴露其存在）；
看得到但无权修改时为 403。

**错误**：所有 4xx 均为
`{"code": "...", "message": "...", "errors": [{"field": "...", "message": "..."}]}`；
`field` 为出错字段的点分路径（如 `uscc`、`page_size`）。未知字段会被拒绝（422）。

**分页**：列表接口接受 `page`（从 1 开始）与 `page_size`（1–200，默认 50），返回
`{"count", "page", "page_size", "results"}`。

**金额**：以万元为单位的 JSON 数字（如 `revenue_wan: 3500.5`），最多 6 位小数；
库内以元存储。
"""


def _shape_405(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and response.has_header("Allow"):
            return errors.method_not_allowed(response)
        return response

    wrapper.csrf_exempt = True  # type: ignore[attr-defined]
    return wrapper


_NINJA_DEFAULT = NinjaJSONEncoder().default


def _default(o: Any) -> Any:
    """What orjson hands back: the values JSON has no type for. Datetimes,
    dates and times come here too (`OPT_PASSTHROUGH_DATETIME`) so that they
    are written as Django writes them (orjson would keep microseconds and
    "+00:00"); exact types first, anything else (lazy translations,
    timedeltas, pydantic models) the way ninja's encoder writes it."""
    kind = type(o)
    if kind is datetime:
        return write_datetime(o)
    if kind is date:
        return o.isoformat()
    if kind is Decimal:
        return str(o)
    return _NINJA_DEFAULT(o)


_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS


class Renderer(JSONRenderer):
    """Responses written by orjson: a list of 50 dispatches spent a tenth of
    its CPU in the standard library's encoder (bench/request_path.py, issue
    20). The bytes differ only in having no spaces after "," and ":". A
    value may be an `orjson.Fragment`, JSON the database already wrote
    (`CompiledList`'s `raw_json` columns), copied in unread. What orjson
    refuses (an integer beyond 64 bits) is written by ninja's encoder, as
    before."""

    def render(self, request, data: Any, *, response_status: int) -> bytes | str:
        try:
            return orjson.dumps(data, default=_default, option=_OPTIONS)
        except TypeError:  # orjson.JSONEncodeError is one: an integer beyond 64 bits
            return json.dumps(data, cls=NinjaJSONEncoder, ensure_ascii=False)


class ChanrongAPI(NinjaAPI):
    def _get_urls(self) -> list[Any]:
        return nest_by_segment(self.flat_urls())

    def flat_urls(self) -> list[Any]:
        """Every pattern in ninja's order, before `nest_by_segment` (the
        routing test resolves paths both ways)."""
        urls = []
        for pattern in super()._get_urls():
            if isinstance(pattern, URLPattern) and pattern.name == "api-root":
                # ninja's root view raises a plain (HTML) 404; keep its name,
                # which ninja reverses to build paths, but answer in our shape.
                urls.append(path("", errors.not_found_view, name="api-root"))
            elif isinstance(pattern, URLPattern):
                pattern.callback = _shape_405(pattern.callback)
                urls.append(pattern)
            else:
                urls.append(pattern)
        # Anything else under /api/v1/ is a 404 in the error shape, not HTML.
        urls.append(re_path(r"^.*$", errors.not_found_view))
        return urls

    def validation_error_from_error_contexts(
        self, error_contexts: list[ValidationErrorContext]
    ) -> ValidationError:
        """Remember each body error's parameter name, so that the error shape
        can name the field the client sent ("uscc"), not the handler's
        argument ("payload.uscc")."""
        error = super().validation_error_from_error_contexts(error_contexts)
        body_params = {
            name
            for context in error_contexts
            if context.model.__ninja_param_source__ == "body"
            for name in context.model.model_fields
        }
        if len(body_params) == 1:
            (name,) = body_params
            for item in error.errors:
                if tuple(item.get("loc", ()))[:1] == ("body",):
                    item["_body_param"] = name
        return error

    def get_openapi_schema(self, *args, **kwargs):
        """Every operation answers errors in one shape; document that once, here,
        so a router cannot forget a status code the error handlers can produce."""
        schema = super().get_openapi_schema(*args, **kwargs)
        if "ErrorOut" not in schema["components"].get("schemas", {}):
            return schema
        error = {
            "description": "错误（统一格式）",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}},
        }
        for operations in schema["paths"].values():
            for method, operation in operations.items():
                codes = {"401", "403", "404", "422", "429"}
                if method in {"post", "put", "patch", "delete"}:
                    codes |= {"400", "409", "413", "415"}
                # ninja keys declared responses by int, openapi_extra by string:
                # 404 beside "404" is a duplicated key in the JSON, which Swagger
                # UI refuses to render. One string key each; openapi_extra wins.
                responses = operation["responses"]
                merged = {str(k): v for k, v in responses.items() if not isinstance(k, str)}
                merged |= {k: v for k, v in responses.items() if isinstance(k, str)}
                operation["responses"] = merged
                for code in sorted(codes):
                    merged.setdefault(code, error)
        return schema


api = ChanrongAPI(
    title="产融通 API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    auth=AUTH,
    renderer=Renderer(),
    parser=JsonOnlyParser(),  # JSON bodies only as application/json (415 otherwise)
    # Served from django-ninja's own static files (ninja is in INSTALLED_APPS),
    # never a CDN; and no call to the public swagger.io validator either.
    docs=Swagger(settings={"validatorUrl": None, "persistAuthorization": True}),
)
errors.install(api)


def _add_routers() -> None:
    from chanrong.api.health import router as health
    from chanrong.api.webhooks_api import router as webhooks
    from chanrong.content.api import router as public_content
    from chanrong.core.api import industries, regions
    from chanrong.core.api_imports import router as imports
    from chanrong.demands.api import dispatch_router as dispatches
    from chanrong.demands.api import router as demands
    from chanrong.demands.api_stats import router as demand_stats
    from chanrong.events.api import router as events
    from chanrong.exchange.api import router as exchange
    from chanrong.finance.api import router as institutions
    from chanrong.finance.api_lpr import router as lpr
    from chanrong.finance.api_products import router as products
    from chanrong.funds.api import router as funds
    from chanrong.funds.api import stats_router as equity_stats
    from chanrong.green.api import router as green
    from chanrong.insights.api import router as indicators
    from chanrong.insights.api import stats_router as stats
    from chanrong.listing.api import router as listing
    from chanrong.matching.api import router as matching
    from chanrong.pilots.api import router as pilots
    from chanrong.policy.api import router as policy
    from chanrong.policy.api_pools import router as policy_pools
    from chanrong.registry.api import router as enterprises
    from chanrong.registry.api_credit import enterprise_router as enterprise_credit
    from chanrong.registry.api_credit import router as credit_records
    from chanrong.registry.api_lists import router as lists
    from chanrong.registry.api_profile import operating_router
    from chanrong.registry.api_profile import router as enterprise_profile
    from chanrong.registry.api_projects import router as projects
    from chanrong.registry.api_provenance import router as provenance
    from chanrong.risk.api import router as risk
    from chanrong.risk.api_consultation import router as risk_consultations
    from chanrong.risk.api_groups import router as group_stats
    from chanrong.supplychain.api import router as supplychain

    api.add_router("/regions", regions)
    api.add_router("/industries", industries)
    api.add_router("/enterprises", enterprises)
    api.add_router("/enterprises", enterprise_profile)
    api.add_router("/enterprises", provenance)
    api.add_router("/enterprises", enterprise_credit)
    api.add_router("/operating-data", operating_router)
    api.add_router("/credit-records", credit_records)
    api.add_router("/projects", projects)
    api.add_router("/lists", lists)
    api.add_router("/imports", imports)
    api.add_router("/institutions", institutions)
    api.add_router("/webhooks", webhooks)
    api.add_router("/products", products)
    api.add_router("/lpr", lpr)
    api.add_router("/demands", demands)
    api.add_router("/dispatches", dispatches)
    api.add_router("/events", events)
    api.add_router("/indicators", indicators)
    api.add_router("/stats/demands", demand_stats)
    api.add_router("/stats/equity", equity_stats)
    api.add_router("/stats", stats)
    api.add_router("/stats", group_stats)
    api.add_router("/pilot", pilots)
    api.add_router("/policy", policy)
    api.add_router("/policy/pools", policy_pools)
    api.add_router("/supplychain", supplychain)
    api.add_router("/risk", risk)
    api.add_router("/risk", risk_consultations)
    api.add_router("/listing", listing)
    api.add_router("/public", public_content)
    api.add_router("/funds", funds)
    api.add_router("/green", green)
    api.add_router("/exchange", exchange)
    api.add_router("/health", health)
    api.add_router("", matching)  # /demands/{id}/matches, /institutions/me/…, /policy-weights


_add_routers()
