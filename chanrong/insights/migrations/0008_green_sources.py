"""The catalogue's green indicators (issue 18): 绿色贷款余额（按用途）,
绿色融资额 and the green library's enterprises and projects, computed by the
risk and green apps. Same loader as 0002."""

from django.db import migrations


def load(apps, schema_editor):
    from chanrong.insights.catalogue import sync_catalogue

    sync_catalogue(apps.get_model("insights", "IndicatorDefinition"))


class Migration(migrations.Migration):
    dependencies = [
        ("insights", "0007_actual_source_labels"),
    ]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
