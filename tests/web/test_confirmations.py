"""Every irreversible step asks first and says what will happen: each submit
button for one of these actions carries data-confirm (app.js turns it into
the browser's confirmation; tests/browser/test_policy_apply.py answers it)."""

from __future__ import annotations

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "chanrong"
#: data-action values that cannot be undone by the one who clicks.
IRREVERSIBLE = {"publish", "accept", "submit-application", "open-batch", "confirm-submission"}
BUTTON = re.compile(r"<button\b[^>]*>", re.S)
ACTION = re.compile(r'data-action="([^"]+)"')


def test_every_irreversible_button_asks_first():
    checked, missing = 0, []
    templates = [p for p in PACKAGE.rglob("*.html") if "templates" in p.parts]
    for path in templates:
        for tag in BUTTON.findall(path.read_text(encoding="utf-8")):
            action = ACTION.search(tag)
            if action and action.group(1) in IRREVERSIBLE and 'type="submit"' in tag:
                checked += 1
                if "data-confirm=" not in tag:
                    missing.append(f"{path.relative_to(PACKAGE)}: {action.group(1)}")
    assert checked >= 8  # the scan found the buttons it is about
    assert missing == []
