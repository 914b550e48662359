"""The 2021 provincial grid factors (省级电力平均二氧化碳排放因子, 生态环境部、
国家统计局公告2024年第12号), now shipped in carbon_factors.csv. Loaded into a
database whose regions are there; rows already present are left alone, so
running it again changes nothing. A database migrated before its regions are
loaded gets them from `chanrong refdata load` (green registers the loader)."""

from django.db import migrations


def forward(apps, schema_editor):
    from chanrong.green.services.carbon_factors import load_shipped

    load_shipped(apps.get_model("green", "EmissionFactor"))


class Migration(migrations.Migration):
    dependencies = [
        ("green", "0008_disclosure_branch"),
        ("core", "0005_counter"),
    ]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
