"""应收账款融资额 / 应收账款融资笔数, computed by the supplychain app, join the
catalogue (after the 32 of the printed table). Same loader as 0002."""

from django.db import migrations


def load(apps, schema_editor):
    from chanrong.insights.catalogue import sync_catalogue

    sync_catalogue(apps.get_model("insights", "IndicatorDefinition"))


class Migration(migrations.Migration):
    dependencies = [("insights", "0004_policy_sources")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
