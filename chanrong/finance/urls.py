from django.urls import path

from . import pickers, views

app_name = "finance"
urlpatterns = [
    path("", views.institution_list, name="list"),
    path("pick/", pickers.pick, name="pick"),
]

# Financing products and institution pages (chanrong/finance/product_urls.py).
from .product_urls import urlpatterns as product_urlpatterns  # noqa: E402

urlpatterns += product_urlpatterns
