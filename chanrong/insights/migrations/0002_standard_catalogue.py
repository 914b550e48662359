"""Load the standard 定量指标 catalogue (reference data every plan refers to)."""

from django.db import migrations


def load(apps, schema_editor):
    from chanrong.insights.catalogue import sync_catalogue

    sync_catalogue(apps.get_model("insights", "IndicatorDefinition"))


class Migration(migrations.Migration):
    dependencies = [("insights", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
