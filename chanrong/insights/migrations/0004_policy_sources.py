"""The 财政支持 indicators the policy app computes: 贷款贴息资金 and 风险补偿资金
get their computed source, and 转贷应急资金 / 转贷应急笔数 / 平均担保费率 join
the catalogue (after the 32 of the printed table). Same loader as 0002."""

from django.db import migrations


def load(apps, schema_editor):
    from chanrong.insights.catalogue import sync_catalogue

    sync_catalogue(apps.get_model("insights", "IndicatorDefinition"))


class Migration(migrations.Migration):
    dependencies = [("insights", "0003_rollup_index")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
