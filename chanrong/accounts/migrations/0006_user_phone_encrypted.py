"""User.phone encrypted at rest (issue 15, finding 4; chanrong.core.fieldcrypt).

Encrypts the numbers already stored under the current field key. Reversible
while that key is configured: going back writes them in plain text again.
"""

from django.db import migrations

import chanrong.core.fieldcrypt

BATCH = 2000


def encrypt_existing(apps, schema_editor):
    """Read through the encrypted field (plain text comes back as it is),
    written back encrypted."""
    User = apps.get_model("accounts", "User")
    last = 0
    while True:
        batch = list(
            User.objects.exclude(phone="")
            .filter(pk__gt=last)
            .order_by("pk")
            .only("pk", "phone")[:BATCH]
        )
        if not batch:
            return
        User.objects.bulk_update(batch, ["phone"])
        last = batch[-1].pk


def decrypt_back(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    sql = f"UPDATE {quote(User._meta.db_table)} SET {quote('phone')} = %s WHERE {quote('id')} = %s"  # noqa: S608
    last = 0
    while True:
        batch = list(User.objects.filter(pk__gt=last).order_by("pk").only("pk", "phone")[:BATCH])
        if not batch:
            return
        with connection.cursor() as cursor:
            cursor.executemany(sql, [[u.phone, u.pk] for u in batch])
        last = batch[-1].pk


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_token_expiry_required"),
    ]

    operations = [
        migrations.AlterField(
            model_name="user",
            name="phone",
            field=chanrong.core.fieldcrypt.EncryptedTextField(
                blank=True, max_length=20, verbose_name="手机"
            ),
        ),
        migrations.RunPython(encrypt_existing, decrypt_back, elidable=False),
    ]
