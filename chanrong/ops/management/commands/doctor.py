"""`chanrong doctor`: what needs an operator's attention.

Runs every check registered with chanrong.core.health (worker heartbeat,
scheduler's last tick, audit anchor, task queue, orphaned tasks, pending
migrations, webhook deliveries …) and prints one line each:

    OK    worker        1 个任务进程在运行 / 1 task worker(s) alive

Exit status: 0 all OK, 1 something to look at (WARN), 2 something is not
working (FAIL). `--json` prints the same as one JSON document.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from chanrong.core import health
from chanrong.core.health import State

EXIT = {State.OK: 0, State.WARN: 1, State.FAIL: 2}


class Command(BaseCommand):
    help = "Check worker, scheduler, audit anchors, tasks, webhooks and migrations."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print JSON")

    def handle(self, *args, **options):
        findings = health.run_checks()
        overall = health.worst(findings)
        if options["json"]:
            document = {"state": str(overall), "checks": [f.as_dict() for f in findings]}
            self.stdout.write(json.dumps(document, ensure_ascii=False, indent=2, default=str))
        else:
            width = max((len(f.key) for f in findings), default=0)
            for finding in findings:
                self.stdout.write(
                    f"{finding.state!s:<5} {finding.key:<{width}}  {finding.zh} / {finding.en}"
                )
            self.stdout.write(f"{overall!s:<5} {'overall':<{width}}  总体 / overall")
        if overall != State.OK:
            raise SystemExit(EXIT[overall])
