"""Run an enterprise import and kill this process (SIGKILL) mid-write, after
the rows were inserted in the import's transaction and before it commits.

    python -m tests.imports.kill_import USERNAME ROWS [--prepare]

With --prepare (a fresh SQLite file), migrate and create the user first.
Used by test_kill.py; never exits normally when the kill works.
"""

from __future__ import annotations

import os
import signal
import sys


def main() -> None:
    username, rows = sys.argv[1], int(sys.argv[2])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chanrong.settings")
    import django

    django.setup()
    if "--prepare" in sys.argv:
        from django.core.management import call_command

        from chanrong.accounts.models import AgencyLevel, GovernmentAgency, Role, User
        from chanrong.core import refdata

        call_command("migrate", verbosity=0)
        refdata.load_all()
        agency = GovernmentAgency.objects.create(
            name="嘉善县经济和信息化局", level=AgencyLevel.COUNTY, region_id="330421"
        )
        User.objects.create(username=username, role=Role.GOV_ADMIN, agency=agency)

    from chanrong.accounts.models import User
    from chanrong.core.importing.services import create_job
    from chanrong.registry.services import enterprise_import
    from tests.imports.conftest import HEADER, enterprise_row, xlsx

    real = enterprise_import._upsert_enterprise_rows

    def upsert_then_die(rows):
        real(rows)
        print("killing after inserting", len(rows), "rows", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

    enterprise_import._upsert_enterprise_rows = upsert_then_die
    data = xlsx([HEADER, *[enterprise_row(5000 + i) for i in range(rows)]])
    create_job(User.objects.get(username=username), "enterprises", filename="kill.xlsx", data=data)
    print("import finished: the kill did not happen", flush=True)
    sys.exit(3)


if __name__ == "__main__":
    main()
