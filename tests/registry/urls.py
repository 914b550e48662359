"""The site's URLs plus the registry's web pages and a throwaway API with
the registry's routers, so the tests do not depend on the lead's mounting
them (under /projects/, /lists/ and /api/v1)."""

from django.urls import include, path

from chanrong.accounts.api_auth import AUTH
from chanrong.api.api import ChanrongAPI
from chanrong.core.apikit import errors
from chanrong.registry.api import router as enterprises
from chanrong.registry.api_lists import router as lists
from chanrong.registry.api_profile import operating_router
from chanrong.registry.api_profile import router as profile
from chanrong.registry.api_projects import router as projects
from chanrong.urls import urlpatterns as site

api = ChanrongAPI(urls_namespace="testapi", auth=AUTH, docs_url=None)
errors.install(api)
api.add_router("/enterprises", enterprises)
api.add_router("/enterprises", profile)
api.add_router("/operating-data", operating_router)
api.add_router("/projects", projects)
api.add_router("/lists", lists)

_mounted = {getattr(p, "namespace", None) for p in site}
extra = [
    path(prefix, include(module))
    for prefix, module, namespace in (
        ("projects/", "chanrong.registry.project_urls", "projects"),
        ("lists/", "chanrong.registry.list_urls", "lists"),
    )
    if namespace not in _mounted
]
urlpatterns = [path("testapi/", api.urls), *extra, *site]
