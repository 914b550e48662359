"""/api/v1: assembles each app's `api.py` router."""

from ninja import NinjaAPI

api = NinjaAPI(
    title="产融通 API",
    version="1",
    urls_namespace="api",
)
