"""The `chanrong` console command: this project's manage.py."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chanrong.settings")
    from chanrong.core import filemodes

    # Data files this process creates (SQLite, backups, anchors, uploads)
    # are the platform account's only; see chanrong.core.filemodes.
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command not in filemodes.PUBLIC_OUTPUT_COMMANDS:
        filemodes.restrict_umask()
    if command in ("migrate", "serve"):
        filemodes.tighten_data_files()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
