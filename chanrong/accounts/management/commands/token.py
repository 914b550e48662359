"""`chanrong token create USERNAME [--name NAME]` prints the new token alone on
its last line, so scripts can take it with `| tail -n 1`."""

from django.core.management.base import BaseCommand, CommandError

from chanrong.accounts import services
from chanrong.accounts.models import ApiToken, User
from chanrong.core.errors import ServiceError


class Command(BaseCommand):
    help = "管理 API 令牌：create 创建（令牌单独输出在最后一行）、revoke 吊销、list 列出"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="为用户创建令牌")
        create.add_argument("username")
        create.add_argument("--name", default="API", help="令牌名称（默认 API）")
        create.add_argument(
            "--client-cert-sha256",
            default="",
            help="绑定客户端证书的 SHA-256 指纹（双向 TLS），不填则不绑定",
        )
        revoke = sub.add_parser("revoke", help="按编号或前缀吊销令牌")
        revoke.add_argument("token", metavar="PREFIX_OR_ID")
        listing = sub.add_parser("list", help="列出令牌（不含令牌本身）")
        listing.add_argument("username", nargs="?")

    def handle(self, *args, action: str, **options):
        getattr(self, f"_{action}")(**options)

    def _create(self, username: str, name: str, client_cert_sha256: str = "", **options) -> None:
        owner = User.objects.filter(username=username).first()
        if owner is None:
            raise CommandError(f"用户不存在：{username}")
        try:
            issued = services.create_token(None, owner, name, client_cert_sha256=client_cert_sha256)
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"已为 {owner.username} 创建令牌 #{issued.token.pk}「{issued.token.name}」；"
            "令牌只显示这一次，请妥善保存（下一行即令牌）："
        )
        self.stdout.write(issued.raw)

    def _revoke(self, token: str, **options) -> None:
        qs = ApiToken.objects.select_related("user")
        if token.isdigit():
            matches = list(qs.filter(pk=int(token)))
        elif len(token) > len(services.TOKEN_PREFIX) + 6:  # the whole token was given
            matches = list(qs.filter(token_hash=services.hash_token(token)))
        else:
            matches = list(qs.filter(prefix__startswith=token, revoked_at__isnull=True)[:2])
        if not matches:
            raise CommandError("未找到令牌")
        if len(matches) > 1:
            raise CommandError(f"前缀 {token} 对应多个令牌，请使用编号")
        revoked = services.revoke_token(None, matches[0])
        self.stdout.write(f"已吊销令牌 #{revoked.pk} {revoked.prefix}…（{revoked.user.username}）")

    def _list(self, username: str | None = None, **options) -> None:
        qs = ApiToken.objects.select_related("user").order_by("user__username", "-created_at")
        if username:
            qs = qs.filter(user__username=username)
        for t in qs:
            if t.revoked_at:
                state = f"吊销于 {t.revoked_at:%Y-%m-%d %H:%M}"
            else:
                state = "有效" if t.is_active else "已过期"
            state += f"\t到期 {t.expires_at:%Y-%m-%d}"
            used = f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "从未使用"
            self.stdout.write(f"#{t.pk}\t{t.prefix}…\t{t.user.username}\t{t.name}\t{used}\t{state}")
