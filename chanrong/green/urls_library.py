"""Routes of the green app's library pages (included by green/urls.py)."""

urlpatterns: list = []
