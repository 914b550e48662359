"""Load the emission factors shipped in chanrong/green/data/carbon_factors.csv
(reference data every carbon report needs, each with its source and year)."""

from django.db import migrations


def load(apps, schema_editor):
    from chanrong.green.services.carbon_factors import load_shipped

    load_shipped(apps.get_model("green", "EmissionFactor"))


class Migration(migrations.Migration):
    dependencies = [("green", "0003_carbon")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
