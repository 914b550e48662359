"""Sign-in and sign-out reach the audit log through Django's own signals, so
every way of logging in (login page, admin, test client) is recorded once.
Failed attempts are recorded by the login backend, which alone knows whether
the password was wrong or the account locked."""

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver

from . import services


@receiver(user_logged_in, dispatch_uid="chanrong.accounts.audit_login")
def audit_login(sender, request, user, **kwargs):
    services.record_login(user)


@receiver(user_logged_out, dispatch_uid="chanrong.accounts.audit_logout")
def audit_logout(sender, request, user, **kwargs):
    services.record_logout(user)
