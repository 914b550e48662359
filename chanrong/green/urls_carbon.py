"""Routes of the green app's carbon pages (included by green/urls.py)."""

urlpatterns: list = []
