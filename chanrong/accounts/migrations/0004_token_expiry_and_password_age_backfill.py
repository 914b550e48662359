# Data for 0003's new columns, in its own migration (transaction): on
# PostgreSQL a table cannot be altered in the transaction that updated it.

from datetime import timedelta

from django.conf import settings
from django.db import migrations
from django.utils import timezone


def expire_existing_tokens(apps, schema_editor):
    # Existing tokens get the default lifetime, counted from their creation.
    ApiToken = apps.get_model("accounts", "ApiToken")
    days = getattr(settings, "CHANRONG_TOKEN_DAYS", 365)
    for token in ApiToken.objects.filter(expires_at__isnull=True).only("pk", "created_at"):
        ApiToken.objects.filter(pk=token.pk).update(
            expires_at=token.created_at + timedelta(days=days)
        )


def start_password_age(apps, schema_editor):
    # Existing passwords start their maximum age now (a grace period), rather
    # than all expiring at once on the day this is deployed.
    apps.get_model("accounts", "User").objects.filter(password_changed_at__isnull=True).update(
        password_changed_at=timezone.now()
    )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_security_policy_otp_roles_token_expiry")]

    operations = [
        migrations.RunPython(expire_existing_tokens, migrations.RunPython.noop),
        migrations.RunPython(start_password_age, migrations.RunPython.noop),
    ]
