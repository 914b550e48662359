"""`chanrong load_green_catalogue [FILE]`: load (or refresh) an edition of the
绿色产业指导目录 from its JSON file (default: the 2019 edition shipped in
chanrong/green/data/). A newer edition is its own file, loaded beside it."""

from django.core.management.base import BaseCommand, CommandError

from chanrong.core.errors import ValidationFailed
from chanrong.green.services.catalogue import DEFAULT_FILE, load_edition


class Command(BaseCommand):
    help = "载入绿色产业指导目录的一个版本（JSON 文件）"

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", default=str(DEFAULT_FILE))

    def handle(self, *args, **options):
        try:
            edition, created, updated = load_edition(options["file"])
        except ValidationFailed as exc:
            lines = [exc.message, *(f"{e.field}: {e.message}" for e in exc.errors)]
            raise CommandError("\n".join(lines)) from None
        self.stdout.write(
            f"{edition.name}（{edition.document_no}）：新增 {created} 条，更新 {updated} 条，"
            f"共 {edition.items.count()} 条"
        )
