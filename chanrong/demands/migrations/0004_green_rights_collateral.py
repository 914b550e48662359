"""The former collateral kind 排污权/碳排放权 ("emission_rights") split into
碳排放权, 用能权 and 排污权 (finance 0006, issue 18). A demand that offered it
offered one of 排污权 or 碳排放权 without saying which, so it now names both:
the products it matched before (which accepted the old kind, now both) it
still matches, and nobody has to guess which right the enterprise holds."""

from django.db import migrations

OLD = "emission_rights"
NEW = ["pollutant_rights", "carbon_rights"]


def forwards(apps, schema_editor):
    Demand = apps.get_model("demands", "Demand")
    rows = Demand.objects.exclude(collateral_offered=[]).only("pk", "collateral_offered")
    for demand in rows.iterator(chunk_size=2000):
        values = demand.collateral_offered or []
        if OLD not in values:
            continue
        out = []
        for value in values:
            for new in NEW if value == OLD else [value]:
                if new not in out:
                    out.append(new)
        Demand.objects.filter(pk=demand.pk).update(collateral_offered=out)


def backwards(apps, schema_editor):
    Demand = apps.get_model("demands", "Demand")
    rows = Demand.objects.exclude(collateral_offered=[]).only("pk", "collateral_offered")
    for demand in rows.iterator(chunk_size=2000):
        values = demand.collateral_offered or []
        if not any(v in NEW for v in values):
            continue
        out = []
        for value in values:
            value = OLD if value in NEW else value
            if value not in out:
                out.append(value)
        Demand.objects.filter(pk=demand.pk).update(collateral_offered=out)


class Migration(migrations.Migration):
    dependencies = [
        ("demands", "0003_demand_project"),
        ("finance", "0006_green_rights_collateral"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
