"""`chanrong demo`: build the demo pilot county (嘉善县) and print the accounts."""

from __future__ import annotations

import argparse
import datetime as dt

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from chanrong.core.errors import ServiceError
from chanrong.demo import services
from chanrong.demo.builders.base import default_today


def _scale(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(_("规模应为数字，如 0.1、1、10")) from None
    if not (0 < number <= services.MAX_SCALE):
        raise argparse.ArgumentTypeError(
            _("规模应大于 0 且不超过 %(max)s") % {"max": int(services.MAX_SCALE)}
        )
    return number


def _seed(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(_("种子应为非负整数")) from None
    if number < 0:
        raise argparse.ArgumentTypeError(_("种子应为非负整数"))
    return number


def _today(value: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            _("基准日应为 YYYY-MM-DD 格式的日期，如 2026-12-04")
        ) from None
    if not (services.FIRST_TODAY <= day <= services.LAST_TODAY):
        raise argparse.ArgumentTypeError(
            _("基准日应在 %(first)s 至 %(last)s 之间")
            % {"first": services.FIRST_TODAY.isoformat(), "last": services.LAST_TODAY.isoformat()}
        )
    return day


class Command(BaseCommand):
    # A plain str: argparse formats the description with a regex, which a lazy
    # translation proxy fails (`chanrong demo --help` crashed).
    help = (
        "生成演示数据：试点县嘉善县（330421）的政府部门、金融机构及其分支机构、企业、数据授权和演示账号。"
        "所有日期以基准日（--today，默认今天）为准；同一种子、规模和基准日总是生成相同的数据。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--seed",
            type=_seed,
            default=services.DEFAULT_SEED,
            help=_("随机种子（默认 %(default)s）；换一个种子得到另一个同样确定的世界"),
        )
        parser.add_argument(
            "--scale",
            type=_scale,
            default=1.0,
            help=_("规模倍数：1 = 3,000 家企业；0.1、10、100 均可（默认 1）"),
        )
        parser.add_argument(
            "--today",
            type=_today,
            default=None,
            help=_(
                "基准日 YYYY-MM-DD（默认今天，北京时间）：历史截至这一天，"
                "待办派单的期限落在这一天前后的工作日"
            ),
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help=_("已有演示数据时清空并重建（参考数据和审计日志保留）"),
        )
        parser.add_argument(
            "--if-missing",
            action="store_true",
            help=_("已有数据时不做任何事，只列出演示账号（供 scripts/up 使用）"),
        )
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help=_("允许在 CHANRONG_ENV=production 下生成（公开演示站点）"),
        )

    def handle(self, *args, seed, scale, today, reset, if_missing, allow_production, **options):
        if if_missing and not reset:
            if settings.PRODUCTION and not allow_production:
                self.stdout.write(_("CHANRONG_ENV=production：不生成演示数据。"))
                return
            state = services.demo_state()
            if state.kind == "demo":
                self.stdout.write(
                    _(
                        "演示数据已存在（种子 %(seed)s，规模 %(scale)s，基准日 %(today)s，"
                        "生成于 %(at)s），跳过。"
                    )
                    % {
                        "seed": state.seed,
                        "scale": f"{state.scale:g}",
                        "today": state.today or "—",
                        "at": state.built_at,
                    }
                )
                if state.today and state.today < default_today().isoformat():
                    # Its deadlines and history are as of that day, not today.
                    self.stdout.write(
                        _(
                            "演示数据的基准日早于今天，期限已过；"
                            "用 chanrong demo --reset 重建可使其回到今天。"
                        )
                    )
                self.print_accounts()
                return
            if state.kind == "other":
                self.stdout.write(_("数据库中已有非演示数据，不生成演示数据。"))
                return
        try:
            result = services.build_demo(
                seed=seed,
                scale=scale,
                today=today,
                reset=reset,
                allow_production=allow_production,
                progress=lambda message: self.stdout.write(message),
            )
        except ServiceError as exc:
            raise CommandError(str(exc)) from exc
        except FileNotFoundError as exc:  # divisions missing: npm ci not run
            raise CommandError(str(exc)) from exc
        counts = "，".join(f"{key} {value:,}" for key, value in result.counts.items())
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "演示数据已生成（种子 %(seed)s，规模 %(scale)s，基准日 %(today)s，"
                    "用时 %(seconds).1f 秒）：%(counts)s"
                )
                % {
                    "seed": result.seed,
                    "scale": f"{result.scale:g}",
                    "today": result.today.isoformat(),
                    "seconds": result.seconds,
                    "counts": counts,
                }
            )
        )
        self.stdout.write(
            _("数据摘要（同种子、同规模、同基准日必相同）：%(digest)s") % {"digest": result.digest}
        )
        self.print_accounts()

    def print_accounts(self) -> None:
        lines = services.account_lines()
        if not lines:
            return
        self.stdout.write("")
        self.stdout.write(
            _("演示账号（密码均为 %(password)s）：") % {"password": settings.CHANRONG_DEMO_PASSWORD}
        )
        width = max(len(line.username) for line in lines)
        for line in lines:
            self.stdout.write(f"  {line.username.ljust(width)}  {line.role}  {line.organisation}")
        self.stdout.write(
            _("（密码来自环境变量 CHANRONG_DEMO_PASSWORD；生成后再改它，已有账号的密码不变）")
        )
        secrets = services.account_otp_secrets()
        if secrets:
            self.stdout.write(
                _(
                    "以下账号登录时须输入动态口令：把密钥加入手机验证器，"
                    "或运行 chanrong otp code 用户名 取得当前口令："
                )
            )
            for username, secret in secrets:
                self.stdout.write(f"  {username.ljust(width)}  {secret}")
