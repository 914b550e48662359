"""The national grid factors as published by 生态环境部 and 国家统计局: 2022
was shipped as 0.5703 (a reporting-programme figure, not the 2022 national
average), corrected to 0.5366 with the reports that used it accounted again
(services.carbon_corrections); the 2021 citation made precise; 2023 (0.5306)
added. On a new database 0004 already loaded the corrected file and this
changes nothing."""

from django.db import migrations


def forward(apps, schema_editor):
    from chanrong.green.services import carbon_corrections
    from chanrong.green.services.carbon_factors import load_shipped

    carbon_corrections.correct(carbon_corrections.GRID_2022)
    carbon_corrections.refresh_sources()
    load_shipped(apps.get_model("green", "EmissionFactor"))


class Migration(migrations.Migration):
    dependencies = [("green", "0006_catalogue_2019_complete")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
