"""How deep the schemathesis runs go.

The fuzz files (tests/api/test_schemathesis.py and each app's test_api_fuzz.py)
send about 300 operations three kinds of cases: the schema's examples, the
*coverage* phase (every boundary and every way to break each field: the
negative cases `negative_data_rejection` checks, the largest integers, the
longest strings) and random *fuzzing*. Measured per operation, the coverage
phase is nearly all of the time (1 or 12 random examples made no difference);
at full depth on both databases the fuzz files were a third of a suite that
CI runs twice within 40 minutes.

So CI runs the examples and random fuzzing (NUL bytes, huge integers and
broken fields are among the random cases too, and `negative_data_rejection`
checks them), deterministically, and the coverage phase only on request:
with it, PostgreSQL's half of CI alone took about 28 minutes.

And the fuzz files run on PostgreSQL only (ON_POSTGRES_ONLY). It is the
stricter of the two: it refuses a NUL byte in text, a string longer than its
column and an integer out of its column's range, where SQLite stores them,
so an input the API forgot to validate is a 500 there and a quiet success
on SQLite. Every operation is fuzzed once per CI run; on SQLite as well, the
fuzz files took about a quarter of its run.

CHANRONG_FUZZ_DEPTH=full adds the coverage phase (before a release, on
PostgreSQL: `CHANRONG_FUZZ_DEPTH=full DATABASE_URL=… ./scripts/test
tests/*/test_*fuzz*.py tests/*/test_schemathesis.py`); CHANRONG_FUZZ_EXAMPLES
sets the random example count.
"""

from __future__ import annotations

import os

import pytest

#: Every fuzz file's pytestmark (see above).
ON_POSTGRES_ONLY = pytest.mark.postgres(
    "API fuzzing runs on the stricter database, which turns an unvalidated NUL byte, "
    "over-long string or out-of-range integer into a 500 (tests/fuzzing.py)"
)


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
