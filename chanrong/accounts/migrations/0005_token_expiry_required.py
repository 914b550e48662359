from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_token_expiry_and_password_age_backfill")]

    operations = [
        migrations.AlterField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(verbose_name="到期时间"),
        ),
    ]
