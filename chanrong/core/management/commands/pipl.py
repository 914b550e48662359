"""`chanrong pipl export|anonymise --user USERNAME`: a person's request under
the 个人信息保护法 (chanrong.core.pipl).

export     print (or write to --output) everything held about the person, as JSON.
anonymise  replace the person's data with placeholders, deactivate the
           account, revoke its tokens; ids and the audit chain stay. Needs --yes.
"""

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from chanrong.core import pipl


class Command(BaseCommand):
    help = (
        "个人信息保护法请求：export 导出某人的全部个人信息（JSON）；anonymise 匿名化某人"
        "（替换个人信息、停用账户、吊销令牌，审计链保持可校验；须加 --yes）"
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["export", "anonymise"])
        parser.add_argument("--user", required=True, help="用户名")
        parser.add_argument("--output", type=Path, help="export：写入此文件（默认打印）")
        parser.add_argument("--yes", action="store_true", help="anonymise：确认执行（不可撤销）")

    def handle(self, *args, action, user, output, yes, **options):
        User = get_user_model()
        try:
            person = User.objects.get(**{User.USERNAME_FIELD: user})
        except User.DoesNotExist as exc:
            raise CommandError(f"没有用户 {user}") from exc
        if action == "export":
            data = pipl.export_person(None, person)
            text = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True)
            if output:
                output.write_text(text + "\n", encoding="utf-8")
                output.chmod(0o600)
                self.stdout.write(f"written to {output}")
            else:
                self.stdout.write(text)
            return
        if not yes:
            raise CommandError("匿名化不可撤销：确认后加 --yes 再运行")
        counts = pipl.anonymise_person(None, person)
        for name, done in counts.items():
            self.stdout.write(f"{name}: " + ", ".join(f"{k} {v}" for k, v in done.items()))
        self.stdout.write(self.style.SUCCESS(f"user #{person.pk} anonymised"))
