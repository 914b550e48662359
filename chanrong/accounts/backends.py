from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from . import services


class LockoutModelBackend(ModelBackend):
    """ModelBackend that refuses accounts locked after repeated failures.

    The lock is checked before the password, so while it lasts even the right
    password is refused (and no hash is computed). PermissionDenied stops
    Django from trying any other backend; the login form then asks
    `services.is_locked` to tell the user why.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None
        if services.is_locked(username):
            services.register_login_refused(username)
            raise PermissionDenied
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            services.register_login_failure(username)
            return None
        services.register_login_success(username)
        return user
