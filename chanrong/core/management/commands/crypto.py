"""`chanrong crypto check|rotate|newkey`: the encrypted personal columns.

check   per encrypted column: rows, empty, plain text (never encrypted),
        per key id, values no key opens, lookup hashes out of step; exits
        non-zero when any value is plain, unreadable or its hash is stale.
rotate  re-encrypt every value not under the current key (the first in
        CHANRONG_FIELD_KEYS) and recompute the lookup hashes, a batch at a
        time, each batch its own transaction: stop it at any moment and
        run it again, it carries on where it stopped (rows already under
        the current key are skipped). Prints counts per column. Audited.
newkey  print a fresh key entry to put first in CHANRONG_FIELD_KEYS.
"""

from __future__ import annotations

from collections import Counter

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from chanrong.core import audit, fieldcrypt


class Command(BaseCommand):
    help = (
        "个人信息字段加密：check 检查各加密列（明文、无法解密、检索哈希不一致时以非零状态退出）；"
        "rotate 用当前密钥重新加密并重算检索哈希（分批、可中断后续跑）；newkey 生成新密钥"
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["check", "rotate", "newkey"])
        parser.add_argument("--batch", type=int, default=1000, help="每批行数（rotate、check）")
        parser.add_argument("--key-id", default="", help="newkey：新密钥的标识（默认 k+时间）")

    def handle(self, *args, action, batch, key_id, **options):
        if batch < 1:
            raise CommandError("--batch 必须为正整数")
        if action == "newkey":
            from django.utils import timezone

            key_id = key_id or "k" + timezone.now().strftime("%Y%m%d")
            if not key_id.isalnum() or len(key_id) > 16:
                raise CommandError("--key-id 只能是字母和数字，最多 16 个字符")
            self.stdout.write(fieldcrypt.new_key_line(key_id))
            return
        ring = fieldcrypt.keyring()
        self.stdout.write(
            "keys: "
            + ", ".join(k.key_id for k in ring.keys)
            + f" (current: {ring.current.key_id})"
            + (" — DERIVED FROM SECRET_KEY, set CHANRONG_FIELD_KEYS" if ring.derived else "")
        )
        if action == "check":
            self._check(ring, batch)
        else:
            self._rotate(ring, batch)

    # --- check -------------------------------------------------------------------------

    def _check(self, ring: fieldcrypt.KeyRing, batch: int) -> None:
        problems = 0
        for model, fields in fieldcrypt.encrypted_models():
            hashes = {f.source: f for f in fieldcrypt.hash_fields(model)}
            counts = {f.attname: Counter() for f in fields}
            stale_hashes = 0
            for rows in fieldcrypt.each_stored(model, fields, batch=batch):
                hash_names = [h.attname for h in hashes.values()]
                stored_hashes = {
                    row[0]: dict(zip(list(hashes), row[1:], strict=True))
                    for row in model._base_manager.filter(
                        pk__in=[pk for pk, _v in rows]
                    ).values_list("pk", *hash_names)
                }
                for pk, values in rows:
                    for field in fields:
                        stored = values[field.attname]
                        tally = counts[field.attname]
                        tally["rows"] += 1
                        plain = None
                        if not stored:
                            tally["empty"] += 1
                            plain = ""
                        elif not fieldcrypt.is_encrypted(stored):
                            tally["plain"] += 1
                            plain = stored
                        else:
                            tally[f"key {fieldcrypt.key_id_of(stored)}"] += 1
                            try:
                                plain = fieldcrypt.decrypt(
                                    stored, context=field._context(), ring=ring
                                )
                            except fieldcrypt.DecryptionError:
                                tally["unreadable"] += 1
                        hash_field = hashes.get(field.attname)
                        if hash_field is not None and plain is not None:
                            have = stored_hashes[pk][field.attname] or ""
                            valid = fieldcrypt.lookup_hashes(plain, purpose=hash_field.purpose)
                            if have not in (valid or [""]):
                                stale_hashes += 1
            for field in fields:
                tally = counts[field.attname]
                bad = tally["plain"] + tally["unreadable"]
                problems += bad
                detail = ", ".join(f"{k} {v}" for k, v in sorted(tally.items()))
                self.stdout.write(f"{model._meta.label}.{field.attname}: {detail}")
            if stale_hashes:
                problems += stale_hashes
                self.stdout.write(f"{model._meta.label}: {stale_hashes} lookup hashes out of step")
        if problems:
            raise CommandError(
                f"{problems} 个问题：明文或无法解密的值、过期的检索哈希（运行 chanrong crypto rotate；"
                "无法解密的值需要原密钥）"
            )
        self.stdout.write(self.style.SUCCESS("OK"))

    # --- rotate ------------------------------------------------------------------------

    def _rotate(self, ring: fieldcrypt.KeyRing, batch: int) -> None:
        current = ring.current.key_id
        prefix = f"{fieldcrypt.PREFIX}{current}:"
        totals: dict[str, int] = {}
        for model, fields in fieldcrypt.encrypted_models():
            hashes = fieldcrypt.hash_fields(model)
            names = [f.attname for f in fields] + [h.attname for h in hashes]
            done = 0
            for rows in fieldcrypt.each_stored(model, fields, batch=batch):
                due = [
                    pk
                    for pk, values in rows
                    if any(v and not v.startswith(prefix) for v in values.values())
                ]
                if not due:
                    continue
                with transaction.atomic():
                    objects = list(
                        model._base_manager.select_for_update().filter(pk__in=due).only(*names)
                    )
                    for obj in objects:
                        fieldcrypt.fill_hashes(obj)
                    # Read decrypted (any key in the ring), written under the current one.
                    model._base_manager.bulk_update(objects, names)
                done += len(due)
                self.stdout.write(f"{model._meta.label}: {done} rows re-encrypted…")
            totals[model._meta.label] = done
            self.stdout.write(f"{model._meta.label}: {done} rows re-encrypted under {current}")
        with transaction.atomic():
            audit.record(
                "crypto.rotate",
                object_type="core.fieldcrypt",
                object_id=current,
                object_repr=f"re-encrypted under {current}",
                changes={"rows": [None, totals]},
            )
        self.stdout.write(self.style.SUCCESS(f"done: {sum(totals.values())} rows"))
