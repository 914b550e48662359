from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from chanrong.core.context import client_ip

from . import services


class LockoutModelBackend(ModelBackend):
    """ModelBackend that refuses attempts from a locked (account, address)
    pair or a locked address (services/throttle.py says why those keys).

    The lock is checked before the password, so while it lasts even the right
    password is refused (and no hash is computed). PermissionDenied stops
    Django from trying any other backend; the login form then asks
    `services.locked_until` to tell the user how long to wait.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None
        ip = client_ip(request) if request is not None else None
        if services.is_locked(username, ip):
            services.register_login_refused(username, ip)
            raise PermissionDenied
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            services.register_login_failure(username, ip)
            return None
        services.register_login_success(username, ip)
        return user
