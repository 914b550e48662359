"""PostgreSQL search indexes for the enterprise registry.

Chinese names have no word boundaries, so name search is a substring search;
a trigram GIN index (pg_trgm) serves `name ILIKE '%…%'` at a million rows.
Region-subtree filters are `region_id LIKE '33%'`; in a non-C collation that
needs a varchar_pattern_ops index. SQLite (the demo database) needs neither:
these run only on PostgreSQL.
"""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS registry_enterprise_name_trgm "
    "ON registry_enterprise USING gin (name gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS registry_enterprise_region_pattern "
    "ON registry_enterprise (region_id varchar_pattern_ops)",
    "CREATE INDEX IF NOT EXISTS registry_enterprise_uscc_pattern "
    "ON registry_enterprise (uscc varchar_pattern_ops)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS registry_enterprise_uscc_pattern",
    "DROP INDEX IF EXISTS registry_enterprise_region_pattern",
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
