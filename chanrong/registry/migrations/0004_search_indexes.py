"""Indexes for registry.search on PostgreSQL (see that module).

Replaces 0002's trigram index on `name`, which Django's `icontains`
(`UPPER(name::text) LIKE UPPER(%s)`) could not use, by one on `UPPER(name)`,
and adds the two-character index that trigrams cannot give. SQLite needs
none of this.
"""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    """CREATE OR REPLACE FUNCTION chanrong_bigrams(t text) RETURNS text[]
       LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
         SELECT coalesce(array_agg(DISTINCT substr(t, i, 2)), '{}')
         FROM generate_series(1, greatest(length(t) - 1, 0)) AS i
       $$""",
    "DROP INDEX IF EXISTS registry_enterprise_name_trgm",
    "CREATE INDEX IF NOT EXISTS registry_enterprise_name_upper_trgm "
    "ON registry_enterprise USING gin (upper(name::text) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS registry_enterprise_name_bigrams "
    "ON registry_enterprise USING gin (chanrong_bigrams(upper(name::text)))",
]
BACKWARD = [
    "DROP INDEX IF EXISTS registry_enterprise_name_bigrams",
    "DROP INDEX IF EXISTS registry_enterprise_name_upper_trgm",
    "DROP FUNCTION IF EXISTS chanrong_bigrams(text)",
    "CREATE INDEX IF NOT EXISTS registry_enterprise_name_trgm "
    "ON registry_enterprise USING gin (name gin_trgm_ops)",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for sql in statements:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("registry", "0003_profile_lists_projects_operating")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD), elidable=False)]
