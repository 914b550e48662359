"""The site's URLs plus a throwaway API with the statistics router."""

from django.urls import path
from ninja import NinjaAPI

from chanrong.accounts.api_auth import AUTH
from chanrong.api.api import Renderer
from chanrong.core.apikit import errors
from chanrong.demands.api_stats import router as stats
from chanrong.urls import urlpatterns as site

api = NinjaAPI(urls_namespace="statsapi", auth=AUTH, docs_url=None, renderer=Renderer())
errors.install(api)
api.add_router("/stats", stats)

urlpatterns = [path("statsapi/", api.urls), *site]
