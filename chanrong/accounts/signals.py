"""Receivers that keep account rules true whichever way a change arrives
(pages, /admin/, commands, the test client).

- Sign-in and sign-out reach the audit log through Django's own signals, so
  every way of logging in is recorded once; the session also remembers when
  the sign-in happened (its absolute lifetime, see middleware.py). Failed
  attempts are recorded by the login backend, which alone knows whether the
  password was wrong or the address locked.
- A real password change (not a hash upgrade: Django clears `_password`
  for those) stamps the date, keeps the hash in the history and revokes the
  user's API tokens; deactivating an account revokes them too.
"""

import time

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import post_init, post_save
from django.dispatch import receiver

from . import services
from .models import User
from .services import otp

#: Session keys: when the password step succeeded (epoch seconds), and
#: whether the user then had a second factor (so the 动态口令 step is due).
SESSION_AUTH_AT = "chanrong_auth_at"
SESSION_HAS_OTP = "chanrong_has_otp"


@receiver(user_logged_in, dispatch_uid="chanrong.accounts.audit_login")
def audit_login(sender, request, user, **kwargs):
    services.record_login(user)
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_AUTH_AT] = int(time.time())
        request.session[SESSION_HAS_OTP] = otp.has_second_factor(user)


@receiver(user_logged_out, dispatch_uid="chanrong.accounts.audit_logout")
def audit_logout(sender, request, user, **kwargs):
    services.record_logout(user)


@receiver(post_init, sender=User, dispatch_uid="chanrong.accounts.remember_active")
def remember_active(sender, instance, **kwargs):
    # From __dict__: a deferred field must not cost a query here.
    instance._chanrong_was_active = instance.__dict__.get("is_active")


@receiver(post_save, sender=User, dispatch_uid="chanrong.accounts.credentials_changed")
def credentials_changed(sender, instance, created, raw=False, update_fields=None, **kwargs):
    if raw:
        return
    if getattr(instance, "_password", None) is not None:
        services.password_was_set(instance, created=created)
    was_active = getattr(instance, "_chanrong_was_active", None)
    if not created and was_active and instance.__dict__.get("is_active") is False:
        services.account_deactivated(instance)
    instance._chanrong_was_active = instance.__dict__.get("is_active")
