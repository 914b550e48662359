"""待处理的风险预警 (portal.todo, issue 20): the open warnings' enterprises in
key order, so a region's count merges them with the enterprises' keys
(registry 0011) rather than hashing every enterprise of the region."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0011_enterprise_key_size_indexes"),
        ("risk", "0010_book_kept"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="alert",
            index=models.Index(
                condition=models.Q(("state", "open")),
                fields=["enterprise"],
                name="alert_open_enterprise",
            ),
        ),
    ]
