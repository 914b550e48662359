"""A covering index for the government's region filter (issue 20).

Every government view filters enterprises by `region_id LIKE '<prefix>%'`
(visible_to) and mostly wants only the key, the size or the industry back.
An enterprise row is about 1 KB (names, encrypted contacts, figures), so
at demo scale 100 (240,000 enterprises in 嘉善) a county's counts read
~300 MB of heap; this index answers them with an index-only scan over
~40 bytes a row (the sizes of 嘉善's enterprises: 122 → 64 ms).

PostgreSQL only, so it is SQL here rather than a Meta index: SQLite has no
INCLUDE (Django would warn, models.W040, and make a plain duplicate of the
foreign key's index) and no operator classes, and its LIKE cannot use a
b-tree on a case-insensitive match anyway.
"""

from django.db import migrations

NAME = "enterprise_region_cover"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{NAME}" ON "registry_enterprise" '
            '("region_id" varchar_pattern_ops) INCLUDE ("id", "size", "industry_id")'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f'DROP INDEX IF EXISTS "{NAME}"')


class Migration(migrations.Migration):
    dependencies = [("registry", "0009_received_lists")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
