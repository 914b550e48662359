"""URL patterns of the product pages, appended to finance/urls.py (mounted at /institutions/)."""

from django.urls import path

from . import product_views

urlpatterns = [
    path("products/", product_views.product_list, name="product_list"),
    path("products/new/", product_views.product_create, name="product_create"),
    path("products/<int:pk>/", product_views.product_detail, name="product_detail"),
    path("products/<int:pk>/edit/", product_views.product_edit, name="product_edit"),
    path("products/<int:pk>/<str:action>/", product_views.product_action, name="product_action"),
    path("<int:pk>/", product_views.institution_detail, name="institution_detail"),
]
