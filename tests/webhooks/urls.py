"""The project's URLs, plus the webhook pages and API for as long as the lead
has not mounted them (then this adds nothing)."""

from django.urls import include, path

from chanrong.accounts.api_auth import AUTH
from chanrong.api.api import ChanrongAPI, api
from chanrong.api.webhooks_api import router
from chanrong.core.apikit.errors import install
from chanrong.urls import urlpatterns as project_patterns

urlpatterns = list(project_patterns)

if any(mounted is router for _, mounted in api._routers):
    API_PREFIX = "/api/v1/webhooks"
else:
    test_api = ChanrongAPI(
        title="webhooks (test)", version="test", urls_namespace="webhooks-test", auth=AUTH
    )
    install(test_api)
    test_api.add_router("/webhooks", router)
    urlpatterns.insert(0, path("api/test-webhooks/", test_api.urls))
    API_PREFIX = "/api/test-webhooks/webhooks"

if not any(getattr(p, "namespace", None) == "webhooks" for p in project_patterns):
    urlpatterns.insert(0, path("webhooks/", include("chanrong.api.urls")))
