"""Chinese first, English complete: every translatable string of the
project's templates and code has an English translation, and the compiled
catalogue matches its source."""

from __future__ import annotations

import ast
import gettext
import re
import shutil
import subprocess
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "chanrong"
PO = PACKAGE / "locale" / "en" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
TEMPLATE_STRING = re.compile(r"""\{%\s*(?:translate|trans)\s+(["'])(.+?)\1""")
GETTEXT_NAMES = {
    "_",
    "_lazy",
    "N_",
    "gettext",
    "gettext_lazy",
    "gettext_noop",
    "pgettext",
    "pgettext_lazy",
    "ngettext",
}


def _unquote(line: str) -> str:
    return ast.literal_eval(line)


def po_entries() -> list[dict]:
    entries = []
    for block in PO.read_text(encoding="utf-8").strip().split("\n\n"):
        entry: dict = {"flags": "", "fields": {}}
        key = None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] += line
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                entry["fields"][key] += _unquote(line)
            else:
                key, _, rest = line.partition(" ")
                entry["fields"][key] = _unquote(rest)
        entries.append(entry)
    return entries


def test_every_entry_is_translated_and_none_is_fuzzy():
    untranslated, fuzzy = [], []
    for entry in po_entries():
        fields = entry["fields"]
        if fields.get("msgid") == "":
            continue
        if "fuzzy" in entry["flags"]:
            fuzzy.append(fields["msgid"])
        translations = [v for k, v in fields.items() if k.startswith("msgstr")]
        if not translations or not all(translations):
            untranslated.append(fields["msgid"])
    assert untranslated == []
    assert fuzzy == []


def test_placeholders_survive_translation():
    placeholder = re.compile(r"%\(\w+\)[-+ #0]*\d*(?:\.\d+)?[sdf]|%[sd]|%%")
    wrong = []
    for entry in po_entries():
        fields = entry["fields"]
        if not fields.get("msgid"):
            continue
        expected = sorted(placeholder.findall(fields["msgid"]))
        for key, value in fields.items():
            if key.startswith("msgstr") and sorted(placeholder.findall(value)) != expected:
                wrong.append((fields["msgid"], value))
    assert wrong == []


def _msgids() -> set[str]:
    return {e["fields"]["msgid"] for e in po_entries() if e["fields"].get("msgid")}


def test_every_template_string_is_in_the_catalogue():
    msgids = _msgids()
    missing = set()
    for path in PACKAGE.rglob("*.html"):
        if "templates" not in path.relative_to(PACKAGE).parts:
            continue
        for _quote, text in TEMPLATE_STRING.findall(path.read_text(encoding="utf-8")):
            # Template strings are looked up with "%" doubled (as makemessages writes them).
            if text not in msgids and text.replace("%", "%%") not in msgids:
                missing.add((str(path.relative_to(PACKAGE)), text))
    assert missing == set(), "run `chanrong makemessages -l en` and translate the new strings"


def test_every_gettext_literal_in_code_is_in_the_catalogue():
    msgids = _msgids()
    missing = set()
    for path in PACKAGE.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name not in GETTEXT_NAMES:
                continue
            index = 1 if name.startswith("pgettext") else 0
            if len(node.args) <= index:
                continue
            arg = node.args[index]
            literal = isinstance(arg, ast.Constant) and isinstance(arg.value, str)
            if literal and arg.value and arg.value not in msgids:
                missing.add((str(path.relative_to(PACKAGE)), arg.value))
    assert missing == set(), "run `chanrong makemessages -l en` and translate the new strings"


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="gettext's msgfmt not installed")
def test_compiled_catalogue_matches_the_po(tmp_path):
    fresh = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check-format", "-o", str(fresh), str(PO)], check=True)
    with MO.open("rb") as committed, fresh.open("rb") as rebuilt:
        assert gettext.GNUTranslations(committed)._catalog == (
            gettext.GNUTranslations(rebuilt)._catalog
        ), "run `chanrong compilemessages -l en`"
