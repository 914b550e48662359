"""Load the 绿色产业指导目录（2019年版） shipped in chanrong/green/data/, so
every deployment (and every test database) has it. Later refreshes and
newer editions go through `chanrong load_green_catalogue`."""

from django.db import migrations


def load(apps, schema_editor):
    from chanrong.green.services.catalogue import DEFAULT_FILE, load_edition

    load_edition(
        DEFAULT_FILE,
        models=(
            apps.get_model("green", "CatalogueEdition"),
            apps.get_model("green", "CatalogueItem"),
        ),
    )


class Migration(migrations.Migration):
    dependencies = [("green", "0001_library")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
