"""`chanrong exchange …`: the operator's console for 互联互通.

chanrong exchange init --name 嘉兴市产融合作平台 --region 330400 [--url https://…]
chanrong exchange code --region 330421 [--admin USER]    issue a registration code
chanrong exchange register --parent URL --code CODE [--admin USER]
chanrong exchange queue --period 2026-11                 this month's aggregates
chanrong exchange push                                   deliver now (ignores back-off)
chanrong exchange pull                                   pull from every child, and the parent's list versions
chanrong exchange status                                 identity, peers, log counts (JSON)
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from chanrong.accounts.models import Role, User
from chanrong.core.errors import ServiceError

from ...models import InboundBatch, OutboundBatch, Peer, PeerRole, Refusal
from ...services import envelope, identity, inbox, outbox, peers, safeurl


class Command(BaseCommand):
    help = "互联互通：本平台身份、注册码、向上级注册、生成/报送/拉取批次"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        init = sub.add_parser("init")
        init.add_argument("--name", required=True)
        init.add_argument("--region", default="")
        init.add_argument("--url", default="")
        code = sub.add_parser("code")
        code.add_argument("--region", required=True)
        code.add_argument("--admin", default="")
        reg = sub.add_parser("register")
        reg.add_argument("--parent", required=True)
        reg.add_argument("--code", required=True)
        reg.add_argument("--admin", default="")
        queue = sub.add_parser("queue")
        queue.add_argument("--period", required=True)
        sub.add_parser("push")
        sub.add_parser("pull")
        sub.add_parser("status")

    def _admin(self, username: str) -> User:
        qs = User.objects.filter(role=Role.PLATFORM_ADMIN, is_active=True)
        admin = (qs.filter(username=username) if username else qs.order_by("pk")).first()
        if admin is None:
            raise CommandError(
                "no active platform admin" + (f" named {username}" if username else "")
            )
        return admin

    def handle(self, *args, action, **options):
        try:
            getattr(self, f"_{action}")(**options)
        except ServiceError as exc:
            details = "; ".join(f"{e.field}: {e.message}" for e in exc.errors)
            raise CommandError(f"{exc.message} {details}".strip()) from None

    def _init(self, name, region, url, **_):
        me = identity.save(name=name, region_code=region, base_url=url, actor=None)
        self.stdout.write(f"{me.deployment_id} {envelope.key_id(me.public_key)}")

    def _code(self, region, admin, **_):
        _row, code = peers.issue_code(self._admin(admin), region_code=region)
        self.stdout.write(code)

    def _register(self, parent, code, admin, **_):
        peer = peers.register_with_parent(self._admin(admin), parent_url=parent, code=code)
        self.stdout.write(f"{peer.deployment_id} {peer.name}")

    def _queue(self, period, **_):
        built = outbox.queue_period(period) + outbox.queue_reports_and_lists()
        self.stdout.write(f"{len(built)} batches queued")

    def _push(self, **_):
        for peer in Peer.objects.filter(role=PeerRole.PARENT):
            self.stdout.write(
                json.dumps({"peer": peer.name, **outbox.deliver(peer.pk, force=True)})
            )

    def _pull(self, **_):
        for peer in Peer.objects.filter(role__in=[PeerRole.CHILD, PeerRole.PARENT]).exclude(
            base_url=""
        ):
            try:
                counts = inbox.pull(peer)
            except safeurl.UnsafeURL as exc:  # logged and audited by pull
                counts = {"error": outbox.UNSAFE_ADDRESS, "reason": exc.reason}
            self.stdout.write(json.dumps({"peer": peer.name, **counts}, ensure_ascii=False))

    def _status(self, **_):
        me = identity.current()
        out = {
            "identity": None
            if me is None
            else {
                "deployment_id": str(me.deployment_id),
                "name": me.name,
                "region": me.region_code,
            },
            "peers": list(
                Peer.objects.values("role", "name", "region_code", "last_sequence", "next_sequence")
            ),
            "outbound": list(
                OutboundBatch.objects.values("sequence", "kind", "state", "error_code")
            ),
            "inbound": InboundBatch.objects.count(),
            "refusals": list(Refusal.objects.values_list("code", flat=True)),
        }
        self.stdout.write(json.dumps(out, ensure_ascii=False, default=str))
