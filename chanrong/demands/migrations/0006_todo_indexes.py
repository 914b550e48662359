"""超期无人接单 (demands.todo, issue 20): whether an expired demand was ever
claimed is a probe into this partial index of the claimed dispatches, not a
read of each of the demand's dispatches (about a dozen per expired demand)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("demands", "0005_supervision_snapshot"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="dispatch",
            index=models.Index(
                condition=models.Q(("claimed_at__isnull", False)),
                fields=["demand"],
                name="dispatch_claimed_demand",
            ),
        ),
    ]
