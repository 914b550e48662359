"""Shared fixtures: reference data and a small world of organisations and users.

`world` builds, per test, two enterprises in 嘉善县 and one in 江苏 (苏州),
two banks, agencies at national / 浙江 / 嘉兴 / 嘉善 / 江苏 level, and one user
per role. Tests that need thousands of rows use the demo command instead.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import os
import threading
import uuid
from dataclasses import dataclass
from decimal import Decimal

import hypothesis
import pytest
from django.conf import settings
from django.utils import translation

from chanrong.accounts.models import AgencyFunction, AgencyLevel, GovernmentAgency, Role, User
from chanrong.core import refdata
from chanrong.core.codes import make_uscc
from chanrong.core.lookups import forget_plans
from chanrong.finance.models import Branch, BranchLevel, FinancialInstitution, InstitutionKind
from chanrong.registry.models import DataAuthorisation, Enterprise
from tests.db_hygiene import DatabaseHygiene
from tests.suite_guard import SuiteGuard

PASSWORD = "Test-password-2026"

# Tests read static files through the finders (no collectstatic, no manifest)
# and hash passwords with cheap Argon2 parameters (still the argon2 algorithm).
settings.STORAGES = {
    **settings.STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
settings.PASSWORD_HASHERS = ["tests.hashers.FastArgon2PasswordHasher"]

# Processes the tests start themselves (gunicorn, `chanrong serve`) read the
# account policy from the environment: the same relaxed policy as the
# in-process autouse fixture below (no required second factor, no password
# age), so that their sign-ins reach the pages; tests of the policy enable it.
# Set after this process's settings are loaded (the line above loads them), so
# that the settings' own defaults stay what production gets.
os.environ["CHANRONG_OTP_REQUIRED_ROLES"] = ""
os.environ["CHANRONG_PASSWORD_MAX_AGE_DAYS"] = "0"


#: Reference tables the session loads once (regions, industries, the
#: indicator catalogue, content types and permissions): a transactional
#: test's flush keeps them while they are as loaded (see _faster_flushes).
#: Not finance_lprrate: it points at accounts_user, so PostgreSQL would not
#: TRUNCATE users beside it.
KEPT_TABLES = (
    "core_region",
    "core_industry",
    "insights_indicatordefinition",
    "django_content_type",
    "auth_permission",
)
#: database alias -> fingerprint of KEPT_TABLES as the session loaded them.
_kept_as_loaded: dict[str, str] = {}


def _kept_fingerprint(connection) -> str:
    digest = hashlib.sha256()
    with connection.cursor() as cursor:
        for table in KEPT_TABLES:
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)} ORDER BY 1")
            for row in cursor.fetchall():
                digest.update(repr(row).encode())
    return digest.hexdigest()


def remember_reference_tables() -> None:
    from django.db import connection

    _kept_as_loaded[connection.alias] = _kept_fingerprint(connection)


def _delete_filled_tables(ops, tables: list[str], reset_sequences: bool) -> list[str]:
    """PostgreSQL: DELETE only the tables that hold rows (one query finds
    them), and restart the flushed tables' sequences in one statement."""
    quoted = [ops.quote_name(table) for table in tables]
    with ops.connection.cursor() as cursor:
        cursor.execute(
            " UNION ALL ".join(
                f"SELECT {i} WHERE EXISTS (SELECT 1 FROM {name})" for i, name in enumerate(quoted)
            )
        )
        statements = [f"DELETE FROM {quoted[i]};" for (i,) in cursor.fetchall()]
        if reset_sequences:
            cursor.execute(
                "SELECT seq.oid::regclass::text FROM pg_class seq "
                "JOIN pg_depend dep ON dep.objid = seq.oid AND dep.deptype IN ('a', 'i') "
                "JOIN pg_class tab ON tab.oid = dep.refobjid "
                "WHERE seq.relkind = 'S' AND tab.relname = ANY(%s)",
                [list(tables)],
            )
            restarts = [
                "setval('{}', 1, false)".format(name.replace("'", "''"))
                for (name,) in cursor.fetchall()
            ]
            if restarts:
                statements.append(f"SELECT {', '.join(restarts)};")
    return statements


def _faster_flushes() -> None:
    """A transactional test (there are some 600) ends with a flush of every
    table, and the next database test puts the reference rows back. That
    cost about a second a test on PostgreSQL, and here is why it no longer
    does. Only these full flushes change; a flush of chosen tables (the
    demo's rebuild) is Django's own.

    - Deleting ~3,000 regions and ~1,700 industries and loading them again:
      the flush keeps KEPT_TABLES when a fingerprint of their rows shows no
      test changed them (else they go, and are reloaded as before).
    - On PostgreSQL, Django's one TRUNCATE of ~250 tables swaps every
      table's, index's and TOAST table's files, and a DELETE of each table
      is 250 round trips: only the tables that hold rows get a DELETE
      (_delete_filled_tables). Django's foreign keys on PostgreSQL are
      DEFERRABLE INITIALLY DEFERRED, so the order does not matter within the
      flush's transaction.
    """
    from django.db.backends.postgresql.base import DatabaseWrapper as PostgresWrapper
    from django.db.backends.sqlite3.base import DatabaseWrapper as SqliteWrapper

    for backend in (PostgresWrapper.ops_class, SqliteWrapper.ops_class):

        def sql_flush(
            self, style, tables, *, reset_sequences=False, allow_cascade=False, _flush=None
        ):
            if not set(KEPT_TABLES) <= set(tables):
                return _flush(
                    self,
                    style,
                    tables,
                    reset_sequences=reset_sequences,
                    allow_cascade=allow_cascade,
                )
            as_loaded = _kept_as_loaded.get(self.connection.alias)
            if as_loaded and _kept_fingerprint(self.connection) == as_loaded:
                tables = [table for table in tables if table not in KEPT_TABLES]
            if self.connection.vendor == "postgresql":
                return _delete_filled_tables(self, tables, reset_sequences)
            return _flush(
                self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
            )

        backend.sql_flush = functools.partialmethod(sql_flush, _flush=backend.sql_flush)


_faster_flushes()

JIASHAN = "330421"
JIAXING = "330400"
ZHEJIANG = "330000"
SUZHOU_GUSU = "320508"
JIANGSU = "320000"


def pytest_configure(config):
    """Every collected test runs, or the run fails; a skip on CI must be declared
    (@pytest.mark.postgres / sqlite): see tests/suite_guard.py."""
    config.pluginmanager.register(SuiteGuard(config), "chanrong-suite-guard")
    # No connection outlives its test; no test database outlives the run.
    config.pluginmanager.register(DatabaseHygiene(config), "chanrong-db-hygiene")


# Hypothesis: no test passes or fails on time. Its deadline and "input
# generation is slow" health check are clocks; on a shared, loaded machine
# they failed tests whose logic was fine (tests/insights/test_aggregation.py).
hypothesis.settings.register_profile(
    "chanrong",
    deadline=None,
    suppress_health_check=[hypothesis.HealthCheck.too_slow],
)
hypothesis.settings.load_profile("chanrong")

#: Why a browser test runs on one database only (see below).
BROWSER_ON_ONE_DATABASE = (
    "a browser test drives pages through the same services and queries the service and API "
    "tests run on both databases; it runs once, on the embedded default the Quick start brings up"
)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Browser tests (@pytest.mark.browser) run on SQLite only, declared as
    such for the suite guard. They are about what a person does in a page —
    clicks, dialogs, CSP, phone widths — and each costs 30–60 s; CI runs the
    suite twice within 40 minutes, and every rule a page reaches is tested on
    PostgreSQL by the service, API and race tests."""
    for item in items:
        if item.get_closest_marker("browser") and not (
            item.get_closest_marker("postgres") or item.get_closest_marker("sqlite")
        ):
            item.add_marker(pytest.mark.sqlite(reason=BROWSER_ON_ONE_DATABASE))


@pytest.fixture(autouse=True)
def _one_connection_heavy_test_at_a_time(request, tmp_path_factory):
    """Tests marked `many_connections` (a race on 16–40 PostgreSQL connections)
    take a lock shared by the run's xdist workers, so two of them never run at
    once: two 40-connection races, the workers' own connections and a live
    server's exhausted the server's 100 ("too many clients") in CI at ab6e7fe.
    The base temp directory's parent is common to the workers of one run."""
    if request.node.get_closest_marker("many_connections") is None:
        yield
        return
    path = tmp_path_factory.getbasetemp().parent / "many-connections.lock"
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(autouse=True)
def _compiled_lookups_per_test():
    """A test may replace a visibility rule (monkeypatch): no lookup compiled
    by an earlier test (core.lookups.KeyLookup) may outlive it."""
    forget_plans()
    yield
    forget_plans()


@pytest.fixture(autouse=True)
def _audit_anchors_per_test(request, tmp_path_factory):
    """Each test its own audit anchor file (none yet): anchors written by one
    test (`chanrong tick --all` runs the anchoring task) must not be checked
    against the next test's fresh chain, nor land in the checkout's var/."""
    base = tmp_path_factory.getbasetemp() / "audit-anchors"
    base.mkdir(exist_ok=True)
    settings.AUDIT_ANCHOR_FILE = base / f"{uuid.uuid4().hex}.jsonl"
    yield
    settings.AUDIT_ANCHOR_FILE = None


@pytest.fixture(autouse=True)
def _account_policy_relaxed(settings):
    """The suite signs privileged users in with force_login / the login form
    and no second factor, and never ages passwords: the OTP requirement and
    the password maximum age are off for every test, and tests/accounts turns
    them on where it tests them (settings.CHANRONG_OTP_REQUIRED_ROLES = …)."""
    settings.CHANRONG_OTP_REQUIRED_ROLES = []
    settings.CHANRONG_PASSWORD_MAX_AGE_DAYS = 0


@pytest.fixture(autouse=True)
def _default_language_after_each_test():
    """A request in English leaves English active on the thread (LocaleMiddleware
    activates the request's language and nothing resets it in tests): go back
    to the default so the next test reads Chinese."""
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _api_rate_limits_out_of_the_way(settings):
    """Tests make many API calls in a burst: the limits are set far above
    that here, and tests/core/test_ratelimit.py sets them low to test them."""
    settings.CHANRONG_API_RATE_PER_TOKEN = "100000/s"
    settings.CHANRONG_API_RATE_PER_ADDRESS = "100000/s"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Load reference data once into the test database, outside any test's transaction."""
    with django_db_blocker.unblock():
        refdata.load_all()
        restore_reference_rows()
        remember_reference_tables()


@pytest.fixture(scope="session")
def live_server(django_db_setup, live_server):
    """pytest-django's live server, started after the test database exists so
    that it stops (closing its thread's connection) before the database is
    dropped: a test asking for `live_server` before `world` used to set it up
    first and tear it down last.

    On the in-memory SQLite test database every request thread of the live
    server shares the test's one connection (Django's `connections_override`),
    and a sqlite3 connection used by two threads at once answers wrongly: a
    read comes back empty (a 404 for an object that exists) or fails with
    "bad parameter or other API misuse". A browser makes overlapping requests
    as a matter of course (htmx's `hx-sync="this:replace"` aborts the first
    request in the browser, not on the server), so the server takes one request
    at a time there. On PostgreSQL each thread has its own connection and
    requests stay concurrent (the ledger's HTTP race test needs that)."""
    from django.db import connection

    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        httpd = live_server.thread.httpd
        httpd.set_app(_one_request_at_a_time(httpd.get_app()))
    return live_server


def _one_request_at_a_time(app):
    """`app` with each request, its body included, under one lock."""
    lock = threading.Lock()

    def serialised(environ, start_response):
        with lock:
            result = app(environ, start_response)
            try:
                return list(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()

    return serialised


@pytest.fixture(autouse=True)
def _reference_rows_after_flush(request):
    """Transactional tests flush every table, including the rows that the
    session set-up (regions, industries) and data migrations (the standard
    indicator catalogue, the LPR history) put there; put them back for any database test."""
    marker = request.node.get_closest_marker("django_db")
    names = set(request.fixturenames)
    if marker is None and not names & {"db", "transactional_db"}:
        return
    transactional = "transactional_db" in names or bool(marker and marker.kwargs.get("transaction"))
    request.getfixturevalue("transactional_db" if transactional else "db")
    restore_reference_rows()


def restore_reference_rows() -> None:
    """Regions, industries, the indicator catalogue, the LPR history and the
    emission factors, if a flush took them (also called by
    tests/module_demo.py before a build)."""
    from chanrong.insights.catalogue import sync_catalogue
    from chanrong.insights.models import IndicatorDefinition

    if not refdata.is_loaded():
        refdata.load_all()
    if not IndicatorDefinition.objects.exists():
        sync_catalogue(IndicatorDefinition)
    from chanrong.finance import lpr
    from chanrong.finance.models import LprRate

    if not LprRate.objects.exists():
        lpr.load_shipped()  # the LPR history (finance data migration)
    from chanrong.green.models import EmissionFactor
    from chanrong.green.services.carbon_factors import load_shipped as load_factors

    if not EmissionFactor.objects.exists():
        load_factors()  # the emission factors (green data migration)


@pytest.fixture
def refdata_loaded(db):
    """Regions and industries; reloaded only after a transactional test flushed them."""
    if not refdata.is_loaded():
        refdata.load_all()


@dataclass
class World:
    ent: Enterprise
    ent2: Enterprise
    ent_js: Enterprise
    bank: FinancialInstitution
    bank_branch: Branch
    bank2: FinancialInstitution
    gov_national: GovernmentAgency
    gov_zhejiang: GovernmentAgency
    gov_jiaxing: GovernmentAgency
    gov_jiashan: GovernmentAgency
    gov_jiangsu: GovernmentAgency
    users: dict[str, User]

    def user(self, name: str) -> User:
        return self.users[name]


def _enterprise(name: str, region: str, industry: str, serial: int) -> Enterprise:
    from chanrong.registry.services import compute_size

    body = f"91{region}{serial:09d}"
    e = Enterprise(
        uscc=make_uscc(body),
        name=name,
        region_id=region,
        industry_id=industry,
        employees=120,
        revenue=Decimal("35000000.00"),
        assets=Decimal("52000000.00"),
    )
    e.size = compute_size(e)
    e.save()
    return e


def _user(username: str, role: str, **org) -> User:
    user = User(username=username, role=role, display_name=username, **org)
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.fixture
def world(refdata_loaded) -> World:
    ent = _enterprise("嘉善精工机械有限公司", JIASHAN, "C34", 1)
    ent2 = _enterprise("嘉善新材料科技有限公司", JIASHAN, "C26", 2)
    ent_js = _enterprise("苏州姑苏电子有限公司", SUZHOU_GUSU, "C39", 3)
    bank = FinancialInstitution.objects.create(
        name="浙江嘉善农村商业银行股份有限公司",
        short_name="嘉善农商行",
        kind=InstitutionKind.BANK,
        region_id=JIASHAN,
    )
    bank_branch = Branch.objects.create(
        institution=bank, name="嘉善农商行营业部", level=BranchLevel.SUB, region_id=JIASHAN
    )
    bank2 = FinancialInstitution.objects.create(
        name="中国工商银行股份有限公司",
        short_name="工商银行",
        kind=InstitutionKind.BANK,
        region_id="110102",
    )
    gov_national = GovernmentAgency.objects.create(
        name="工业和信息化部", level=AgencyLevel.NATIONAL, function=AgencyFunction.INDUSTRY
    )
    gov_zhejiang = GovernmentAgency.objects.create(
        name="浙江省经济和信息化厅",
        level=AgencyLevel.PROVINCIAL,
        function=AgencyFunction.INDUSTRY,
        region_id=ZHEJIANG,
    )
    gov_jiaxing = GovernmentAgency.objects.create(
        name="嘉兴市经济和信息化局",
        level=AgencyLevel.MUNICIPAL,
        function=AgencyFunction.INDUSTRY,
        region_id=JIAXING,
    )
    gov_jiashan = GovernmentAgency.objects.create(
        name="嘉善县经济和信息化局",
        level=AgencyLevel.COUNTY,
        function=AgencyFunction.INDUSTRY,
        region_id=JIASHAN,
    )
    gov_jiangsu = GovernmentAgency.objects.create(
        name="江苏省工业和信息化厅",
        level=AgencyLevel.PROVINCIAL,
        function=AgencyFunction.INDUSTRY,
        region_id=JIANGSU,
    )
    users = {
        "admin": _user("admin", Role.PLATFORM_ADMIN, is_staff=True, is_superuser=True),
        "gov_national": _user("gov_national", Role.GOV_ADMIN, agency=gov_national),
        "gov_zhejiang": _user("gov_zhejiang", Role.GOV_ADMIN, agency=gov_zhejiang),
        "gov_jiashan": _user("gov_jiashan", Role.GOV_ADMIN, agency=gov_jiashan),
        "gov_jiashan_staff": _user("gov_jiashan_staff", Role.GOV_STAFF, agency=gov_jiashan),
        "gov_jiangsu": _user("gov_jiangsu", Role.GOV_ADMIN, agency=gov_jiangsu),
        "bank_manager": _user(
            "bank_manager", Role.INSTITUTION_MANAGER, institution=bank, branch=bank_branch
        ),
        "bank_staff": _user(
            "bank_staff", Role.INSTITUTION_STAFF, institution=bank, branch=bank_branch
        ),
        "bank2_staff": _user("bank2_staff", Role.INSTITUTION_STAFF, institution=bank2),
        "ent_user": _user("ent_user", Role.ENTERPRISE_USER, enterprise=ent),
        "ent2_user": _user("ent2_user", Role.ENTERPRISE_USER, enterprise=ent2),
    }
    # ent has authorised the first bank to see its profile; nobody else has.
    DataAuthorisation.objects.create(enterprise=ent, institution=bank)
    return World(
        ent,
        ent2,
        ent_js,
        bank,
        bank_branch,
        bank2,
        gov_national,
        gov_zhejiang,
        gov_jiaxing,
        gov_jiashan,
        gov_jiangsu,
        users,
    )
