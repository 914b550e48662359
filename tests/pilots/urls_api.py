"""The project's URLs plus the pilot router on a throwaway API at
/api/pilot-test/, so the API can be tested before (and independently of)
the lead mounting it under /api/v1/pilot."""

from django.urls import path

from chanrong.accounts.api_auth import AUTH
from chanrong.api.api import ChanrongAPI
from chanrong.core.apikit import errors
from chanrong.pilots.api import router
from chanrong.urls import urlpatterns as project_urlpatterns

api = ChanrongAPI(title="pilot test", version="test", urls_namespace="pilot-test", auth=AUTH)
errors.install(api)
api.add_router("/pilot", router)

PREFIX = "/api/pilot-test/pilot"
urlpatterns = [path("api/pilot-test/", api.urls), *project_urlpatterns]
