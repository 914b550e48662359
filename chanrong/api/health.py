"""GET /health: a trivial unauthenticated answer, for load balancers and as
the framework's ceiling in the load benchmark (bench/demands_load.py)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from chanrong.core.apikit.errors import responses

router = Router(tags=["health"])


class HealthOut(Schema):
    status: str


@router.get("", response=responses({200: HealthOut}, 422), auth=None, summary="健康检查")
def health(request: HttpRequest):
    return {"status": "ok"}
