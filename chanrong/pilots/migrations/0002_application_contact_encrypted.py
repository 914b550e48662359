"""Pilot applications' contact name and phone encrypted at rest (issue 15), as registry 0006:
turn the columns into encrypted text, then write every stored value back
through the encrypted field, which encrypts it under the current field key.
Reversible while that key is still configured (going back decrypts)."""

from django.db import migrations

import chanrong.core.fieldcrypt

FIELDS = ("contact_name", "contact_phone")
BATCH = 2000


def encrypt_existing(apps, schema_editor):
    """Plain text reads back as it is (no `enc:v1:` prefix); saving it
    through the encrypted field encrypts it."""
    Application = apps.get_model("pilots", "Application")
    last = 0
    while True:
        batch = list(
            Application.objects.filter(pk__gt=last).order_by("pk").only("pk", *FIELDS)[:BATCH]
        )
        if not batch:
            return
        Application.objects.bulk_update(batch, FIELDS)
        last = batch[-1].pk


def decrypt_back(apps, schema_editor):
    Application = apps.get_model("pilots", "Application")
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    table = quote(Application._meta.db_table)
    sets = ", ".join(f"{quote(name)} = %s" for name in FIELDS)
    sql = f"UPDATE {table} SET {sets} WHERE {quote('id')} = %s"  # noqa: S608 (names only)
    last = 0
    while True:
        batch = list(
            Application.objects.filter(pk__gt=last).order_by("pk").only("pk", *FIELDS)[:BATCH]
        )
        if not batch:
            return
        with connection.cursor() as cursor:
            cursor.executemany(sql, [[getattr(o, n) for n in FIELDS] + [o.pk] for o in batch])
        last = batch[-1].pk


class Migration(migrations.Migration):
    dependencies = [
        ("pilots", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="application",
            name="contact_name",
            field=chanrong.core.fieldcrypt.EncryptedTextField(
                blank=True, max_length=64, verbose_name="联系人"
            ),
        ),
        migrations.AlterField(
            model_name="application",
            name="contact_phone",
            field=chanrong.core.fieldcrypt.EncryptedTextField(
                blank=True, max_length=32, verbose_name="联系电话"
            ),
        ),
        migrations.RunPython(encrypt_existing, decrypt_back, elidable=False),
    ]
