from django.urls import path

from . import views

# Un-namespaced on purpose: LOGIN_REDIRECT_URL and the menus use "home".
urlpatterns = [
    path("", views.home, name="home"),
]
