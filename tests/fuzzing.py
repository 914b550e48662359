"""How deep the schemathesis runs go.

The fuzz files (tests/api/test_schemathesis.py and each app's test_api_fuzz.py)
send about 300 operations three kinds of cases: the schema's examples, the
*coverage* phase (every boundary and every way to break each field: the
negative cases `negative_data_rejection` checks, the largest integers, the
longest strings) and random *fuzzing*. Measured per operation, the coverage
phase is nearly all of the time (1 or 12 random examples made no difference);
at full depth on both databases the fuzz files were a third of a suite that
CI runs twice within 40 minutes.

So CI runs the examples and random fuzzing on both databases (NUL bytes,
huge integers and broken fields are among the random cases too, and
`negative_data_rejection` checks them), deterministically, and the coverage
phase only on request: with it, PostgreSQL's half of CI alone took about 28
minutes. Every operation is fuzzed on both databases.

CHANRONG_FUZZ_DEPTH=full adds the coverage phase (before a release, on
PostgreSQL: `CHANRONG_FUZZ_DEPTH=full DATABASE_URL=… ./scripts/test
tests/*/test_*fuzz*.py tests/*/test_schemathesis.py`); CHANRONG_FUZZ_EXAMPLES
sets the random example count.
"""

from __future__ import annotations

import os


def configure(schema, examples: int) -> None:
    """Set the schema's generation (see above)."""
    if override := os.environ.get("CHANRONG_FUZZ_EXAMPLES"):
        examples = max(1, int(override))
    schema.config.generation.update(max_examples=examples, deterministic=True, database="none")
    schema.config.phases.coverage.enabled = os.environ.get("CHANRONG_FUZZ_DEPTH") == "full"
    # A body over the upload limit is refused with 413 before it is parsed
    # (a fuzzed batch of thousands of rows); that is a rejection too.
    rejection = schema.config.checks.negative_data_rejection
    rejection.expected_statuses = [*rejection.expected_statuses, "413"]
