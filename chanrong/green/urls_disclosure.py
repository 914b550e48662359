"""Routes of the green app's disclosure pages (included by green/urls.py)."""

urlpatterns: list = []
