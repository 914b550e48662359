from io import StringIO

import pytest
from django.core.management import CommandError, call_command


def test_evaluate_command_prints_learned_beside_rule_only():
    out = StringIO()
    call_command("matching_evaluate", "--synthetic", "3000", stdout=out)
    text = out.getvalue()
    assert "learned" in text and "rule only" in text and "AUC" in text and "P@5" in text


def test_evaluate_command_rejects_bad_input():
    with pytest.raises(CommandError):
        call_command("matching_evaluate", "--synthetic", "5")
