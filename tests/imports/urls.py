"""The site's URLs plus a throwaway API carrying only the /imports router,
until the lead mounts it in chanrong/api/api.py."""

from django.urls import path
from ninja.renderers import JSONRenderer

from chanrong.accounts.api_auth import AUTH
from chanrong.api.api import ChanrongAPI
from chanrong.core.api_imports import router
from chanrong.core.apikit import errors
from chanrong.urls import urlpatterns as site


class Renderer(JSONRenderer):
    json_dumps_params = {"ensure_ascii": False}


api = ChanrongAPI(
    title="test",
    version="test-imports",
    urls_namespace="api_imports_test",
    auth=AUTH,
    renderer=Renderer(),
)
errors.install(api)
api.add_router("/imports", router)

urlpatterns = [path("api/t/", api.urls), *site]
