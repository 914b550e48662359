"""The site's URLs plus a throwaway API with the demands and products routers,
so their tests do not depend on the lead's mounting them under /api/v1; it renders
JSON as /api/v1 does (orjson, `chanrong.api.api.Renderer`)."""

from django.urls import path
from ninja import NinjaAPI

from chanrong.accounts.api_auth import AUTH
from chanrong.api.api import Renderer
from chanrong.core.apikit import errors
from chanrong.demands.api import dispatch_router
from chanrong.demands.api import router as demands
from chanrong.finance.api_products import router as products
from chanrong.urls import urlpatterns as site

api = NinjaAPI(urls_namespace="testapi", auth=AUTH, docs_url=None, renderer=Renderer())
errors.install(api)
api.add_router("/demands", demands)
api.add_router("/dispatches", dispatch_router)
api.add_router("/products", products)

urlpatterns = [path("testapi/", api.urls), *site]
