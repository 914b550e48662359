"""PostgreSQL search indexes for the enterprise registry.

Chinese names have no word boundaries, so name search is a substring search;
a trigram GIN index (pg_trgm) serves `name ILIKE '%…%'` at a million rows.
(Prefix filters on region_id and uscc already have Django's automatic
varchar_pattern_ops "_like" indexes.) SQLite, the demo database, needs none
of this: it runs only on PostgreSQL.
"""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS registry_enterprise_name_trgm "
    "ON registry_enterprise USING gin (name gin_trgm_ops)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS registry_enterprise_name_trgm",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for sql in statements:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD), elidable=False)]
