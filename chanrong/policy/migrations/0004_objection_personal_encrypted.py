"""Objectors' name and contact encrypted at rest (issue 15), as registry 0006:
turn the columns into encrypted text, then write every stored value back
through the encrypted field, which encrypts it under the current field key.
Reversible while that key is still configured (going back decrypts)."""

from django.db import migrations

import chanrong.core.fieldcrypt

FIELDS = ("name", "contact")
BATCH = 2000


def encrypt_existing(apps, schema_editor):
    """Plain text reads back as it is (no `enc:v1:` prefix); saving it
    through the encrypted field encrypts it."""
    Objection = apps.get_model("policy", "Objection")
    last = 0
    while True:
        batch = list(
            Objection.objects.filter(pk__gt=last).order_by("pk").only("pk", *FIELDS)[:BATCH]
        )
        if not batch:
            return
        Objection.objects.bulk_update(batch, FIELDS)
        last = batch[-1].pk


def decrypt_back(apps, schema_editor):
    Objection = apps.get_model("policy", "Objection")
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    table = quote(Objection._meta.db_table)
    sets = ", ".join(f"{quote(name)} = %s" for name in FIELDS)
    sql = f"UPDATE {table} SET {sets} WHERE {quote('id')} = %s"  # noqa: S608 (names only)
    last = 0
    while True:
        batch = list(
            Objection.objects.filter(pk__gt=last).order_by("pk").only("pk", *FIELDS)[:BATCH]
        )
        if not batch:
            return
        with connection.cursor() as cursor:
            cursor.executemany(sql, [[getattr(o, n) for n in FIELDS] + [o.pk] for o in batch])
        last = batch[-1].pk


class Migration(migrations.Migration):
    dependencies = [
        ("policy", "0003_outreach"),
    ]

    operations = [
        migrations.AlterField(
            model_name="objection",
            name="contact",
            field=chanrong.core.fieldcrypt.EncryptedTextField(
                max_length=64, verbose_name="联系方式"
            ),
        ),
        migrations.AlterField(
            model_name="objection",
            name="name",
            field=chanrong.core.fieldcrypt.EncryptedTextField(max_length=64, verbose_name="异议人"),
        ),
        migrations.RunPython(encrypt_existing, decrypt_back, elidable=False),
    ]
