"""绿色金融 pages (mounted at /green/). Route names are stable. Each subdomain
keeps its routes in its own module, included here in the one namespace."""

from . import urls_carbon, urls_disclosure, urls_library

app_name = "green"

urlpatterns = [*urls_library.urlpatterns, *urls_carbon.urlpatterns, *urls_disclosure.urlpatterns]
