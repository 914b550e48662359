"""Load the LPR history shipped in chanrong/finance/data/lpr.csv (reference
data the interest-subsidy calculator needs in every database)."""

from django.db import migrations


def load(apps, schema_editor):
    from chanrong.finance.lpr import load_shipped

    load_shipped(apps.get_model("finance", "LprRate"))


class Migration(migrations.Migration):
    dependencies = [("finance", "0003_lpr_rate")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
