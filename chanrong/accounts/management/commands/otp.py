"""`chanrong otp code USERNAME` prints the current 动态口令 of a demo account;
`chanrong otp reset USERNAME` removes a user's second factor (a lost phone;
the security administrator's job, here for the operator at the console).

`code` is for trying the demo only: refused unless CHANRONG_DEBUG or
CHANRONG_DEMO=1 is set, never with CHANRONG_ENV=production, and only for a
device the demo enrolled with its printed secret (a device a person enrolled
with their own phone has a secret nobody prints).
"""

import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from chanrong.accounts.models import User
from chanrong.accounts.services import otp
from chanrong.core import audit


def _demo_allowed() -> bool:
    if getattr(settings, "PRODUCTION", False):
        return False
    demo = os.environ.get("CHANRONG_DEMO", "").strip().lower() in {"1", "true", "yes", "on"}
    return bool(settings.DEBUG or demo)


class Command(BaseCommand):
    help = "动态口令：code 打印演示账号的当前口令（仅演示环境）、reset 重置用户的动态口令"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        code = sub.add_parser("code", help="打印演示账号当前的动态口令（需 CHANRONG_DEMO=1）")
        code.add_argument("username")
        reset = sub.add_parser("reset", help="删除用户的动态口令设备与恢复码")
        reset.add_argument("username")

    def handle(self, *args, action: str, username: str, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"用户不存在：{username}")
        getattr(self, f"_{action}")(user)

    def _code(self, user: User) -> None:
        if not _demo_allowed():
            raise CommandError("仅在演示环境可用：请设置 CHANRONG_DEMO=1（生产环境不可用）")
        device = TOTPDevice.objects.filter(
            user=user, confirmed=True, name=otp.DEMO_DEVICE_NAME
        ).first()
        if device is None:
            raise CommandError(f"{user.username} 没有演示动态口令设备")
        self.stdout.write(otp.current_code(device))

    def _reset(self, user: User) -> None:
        with transaction.atomic():
            removed = 0
            for model in (TOTPDevice, StaticDevice):
                removed += model.objects.filter(user=user).delete()[0]
            audit.record(
                "auth.otp_reset",
                actor=None,
                obj=user,
                changes={"devices": removed, "via": "command line"},
            )
        self.stdout.write(f"已重置 {user.username} 的动态口令（删除 {removed} 项）")
