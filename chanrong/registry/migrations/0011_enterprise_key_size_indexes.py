"""Two more PostgreSQL indexes for the government's home page (issue 20).

`enterprise_id_region`, (id) INCLUDE (region_id): an enterprise's region
read by its key from the index alone. The government's counts of rows that
belong to enterprises (超期无人接单, 待处理的风险预警: `visible_to` filters
`enterprise__region__code__startswith`) cover a few thousand demands or
open warnings, against 240,000 enterprises in 嘉善 at demo scale 100.
Without this index PostgreSQL hashes every enterprise of the region (the
covering index of 0010) to test them; with it, it probes each demand's
enterprise by key, or merges the open warnings' keys (risk 0011) with it,
and never reads the ~1 KB heap row.

`enterprise_size_region`, (size, region_id varchar_pattern_ops): the home
page's enterprises by size count one size at a time (portal.workbench), each
an index-only range scan that only counts, instead of reading the size of
every enterprise of the region and grouping on it.

PostgreSQL only, as 0010 and for the same reasons: SQLite has no INCLUDE
(Django would warn, models.W040, and make a duplicate of the primary key)
and no operator classes, and its case-insensitive LIKE uses neither.
"""

from django.db import migrations

INDEXES = {
    "enterprise_id_region": '("id") INCLUDE ("region_id")',
    "enterprise_size_region": '("size", "region_id" varchar_pattern_ops)',
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, columns in INDEXES.items():
            schema_editor.execute(
                f'CREATE INDEX IF NOT EXISTS "{name}" ON "registry_enterprise" {columns}'
            )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in INDEXES:
            schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("registry", "0010_enterprise_region_cover")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
