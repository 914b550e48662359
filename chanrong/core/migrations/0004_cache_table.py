"""The database cache's table (settings.CACHES, "database" backend).

`createcachetable` is not part of `migrate`; running it here means every
installation that migrates has the table the API rate limits and the
coalesced refusals count in (chanrong.core.ratelimit, chanrong.core.refusals).
It does nothing when the cache is Redis or the table already exists.
"""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("core", "0003_audit_unsealed_entries")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
