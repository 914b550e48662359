"""A throwaway API with only this helper's routers, until the lead mounts them."""

from django.urls import path
from ninja.renderers import JSONRenderer

from chanrong.accounts.api_auth import AUTH
from chanrong.api.api import ChanrongAPI
from chanrong.core.apikit import errors
from chanrong.events.api import router as events_router
from chanrong.insights.api import router as indicators_router
from chanrong.insights.api import stats_router


class Renderer(JSONRenderer):
    json_dumps_params = {"ensure_ascii": False}


api = ChanrongAPI(
    title="test", version="test-insights", urls_namespace="api_test", auth=AUTH, renderer=Renderer()
)
errors.install(api)
api.add_router("/indicators", indicators_router)
api.add_router("/stats", stats_router)
api.add_router("/events", events_router)

urlpatterns = [path("api/v1/", api.urls)]
