"""`chanrong policy_outreach PROGRAMME_ID [--notify] [--build] [--today YYYY-MM-DD]`

政策找人 for one programme from the command line: prints how many
enterprises qualify, hold a loan the programme could pay on and have not
applied (with the estimated total), and, on request, notifies them (once per
programme and enterprise) and builds their 免申即享 applications. The same
services the agency's page and the daily job call; the actor is the system."""

from __future__ import annotations

import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from chanrong.core.errors import ServiceError
from chanrong.policy.models import Programme
from chanrong.policy.services import outreach


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(_("日期格式应为 YYYY-MM-DD：%(v)s") % {"v": value}) from exc


class Command(BaseCommand):
    help = "政策找人：列出符合条件、持有可申请贷款但尚未申请的企业；可通知企业、生成免申即享申请"

    def add_arguments(self, parser):
        parser.add_argument("programme_id", type=int)
        parser.add_argument(
            "--notify", action="store_true", help="通知找到的企业（每项政策每家企业一次）"
        )
        parser.add_argument(
            "--build", action="store_true", help="为免申即享政策生成待企业确认的申请"
        )
        parser.add_argument("--today", type=_day, default=None, help="按该日计算（默认今天）")
        parser.add_argument("--list", action="store_true", help="逐家列出企业")

    def handle(self, *args, programme_id: int, notify: bool, build: bool, today, **options):
        programme = Programme.objects.select_related("region").filter(pk=programme_id).first()
        if programme is None:
            raise CommandError(_("政策不存在：%(id)s") % {"id": programme_id})
        try:
            started = time.perf_counter()
            found = outreach.find(programme, today=today)
            elapsed = time.perf_counter() - started
            outreach.estimate(found)
            total = found.estimated_total
            self.stdout.write(
                _(
                    "「%(p)s」：%(n)s 家企业、%(l)s 笔贷款符合条件且未申请，"
                    "测算金额合计 %(t)s 元（查找用时 %(s).2f 秒）"
                )
                % {
                    "p": programme.name,
                    "n": found.count,
                    "l": found.loan_count,
                    "t": f"{total:,.2f}" if total is not None else "—",
                    "s": elapsed,
                }
            )
            if options["list"]:
                for row in found.rows:
                    self.stdout.write(
                        f"{row.uscc}\t{row.name}\t{len(row.loans)}\t{row.estimate:,.2f}"
                    )
            if build:
                built = outreach.build(None, programme, found, today=today)
                self.stdout.write(_("已生成 %(n)s 笔免申即享申请") % {"n": len(built)})
            if notify:
                told = outreach.notify_found(None, programme, found, today=today)
                self.stdout.write(_("已通知 %(n)s 家企业") % {"n": told})
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
