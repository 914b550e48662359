"""Personal fields of enterprises encrypted at rest (issue 15, finding 4).

Adds the legal representative's ID number and the keyed hashes used for
lookups, turns the four personal columns into encrypted text, and encrypts
the values already stored under the current field key (CHANRONG_FIELD_KEYS,
or the key derived from SECRET_KEY; see chanrong.core.fieldcrypt).

Reversible while the key that encrypted the values is still configured:
going back decrypts every value into plain text again (and drops the new
columns, so any ID numbers stored meanwhile are lost).
"""

from django.db import migrations

import chanrong.core.fieldcrypt

PERSONAL = ("legal_representative", "contact_name", "contact_phone", "contact_email")
HASHES = {
    "contact_phone_hash": ("contact_phone", "phone"),
    "contact_email_hash": ("contact_email", "email"),
}
BATCH = 2000


def encrypt_existing(apps, schema_editor):
    """Values read through the encrypted field come back as they are (plain
    text is recognised by the missing `enc:v1:` prefix); writing them back
    encrypts them and fills the hashes."""
    from chanrong.core.fieldcrypt import keyed_hash

    Enterprise = apps.get_model("registry", "Enterprise")
    queryset = Enterprise.objects.exclude(
        legal_representative="", contact_name="", contact_phone="", contact_email=""
    ).order_by("pk")
    last = 0
    while True:
        batch = list(queryset.filter(pk__gt=last).only("pk", *PERSONAL)[:BATCH])
        if not batch:
            return
        for enterprise in batch:
            for hash_name, (source, purpose) in HASHES.items():
                setattr(
                    enterprise, hash_name, keyed_hash(getattr(enterprise, source), purpose=purpose)
                )
        Enterprise.objects.bulk_update(batch, [*PERSONAL, *HASHES])
        last = batch[-1].pk


def decrypt_back(apps, schema_editor):
    Enterprise = apps.get_model("registry", "Enterprise")
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    table = quote(Enterprise._meta.db_table)
    sets = ", ".join(f"{quote(name)} = %s" for name in PERSONAL)
    sql = f"UPDATE {table} SET {sets} WHERE {quote('id')} = %s"  # noqa: S608 (names only)
    last = 0
    while True:
        batch = list(
            Enterprise.objects.filter(pk__gt=last).order_by("pk").only("pk", *PERSONAL)[:BATCH]
        )
        if not batch:
            return
        with connection.cursor() as cursor:
            cursor.executemany(
                sql, [[getattr(e, name) for name in PERSONAL] + [e.pk] for e in batch]
            )
        last = batch[-1].pk


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0005_name_grams"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="enterprise",
            options={
                "ordering": ["name"],
                "permissions": [("unmask_personal", "查看企业联系人等个人信息的完整内容")],
                "verbose_name": "企业",
                "verbose_name_plural": "企业",
            },
        ),
        migrations.AddField(
            model_name="enterprise",
            name="legal_rep_id_number",
            field=chanrong.core.fieldcrypt.EncryptedTextField(
                blank=True, max_length=18, verbose_name="法定代表人身份证号"
            ),
        ),
        migrations.AddField(
            model_name="enterprise",
            name="legal_rep_id_hash",
            field=chanrong.core.fieldcrypt.KeyedHashField(
                purpose="id_number", source="legal_rep_id_number"
            ),
        ),
        migrations.AddField(
            model_name="enterprise",
            name="contact_phone_hash",
            field=chanrong.core.fieldcrypt.KeyedHashField(purpose="phone", source="contact_phone"),
        ),
        migrations.AddField(
            model_name="enterprise",
            name="contact_email_hash",
            field=chanrong.core.fieldcrypt.KeyedHashField(purpose="email", source="contact_email"),
        ),
        migrations.AlterField(
            model_name="enterprise",
            name="legal_representative",
            field=chanrong.core.fieldcrypt.EncryptedTextField(
                blank=True, max_length=50, verbose_name="法定代表人"
            ),
        ),
        migrations.AlterField(
            model_name="enterprise",
            name="contact_name",
            field=chanrong.core.fieldcrypt.EncryptedTextField(
                blank=True, max_length=50, verbose_name="联系人"
            ),
        ),
        migrations.AlterField(
            model_name="enterprise",
            name="contact_phone",
            field=chanrong.core.fieldcrypt.EncryptedTextField(
                blank=True, max_length=30, verbose_name="联系电话"
            ),
        ),
        migrations.AlterField(
            model_name="enterprise",
            name="contact_email",
            field=chanrong.core.fieldcrypt.EncryptedTextField(
                blank=True, max_length=254, verbose_name="电子邮箱"
            ),
        ),
        migrations.RunPython(encrypt_existing, decrypt_back, elidable=False),
    ]
