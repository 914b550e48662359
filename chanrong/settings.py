"""One settings module; every knob comes from the environment.

`CHANRONG_ENV=production` turns on the secure-cookie / HSTS / SSL-redirect
settings and refuses to start without a real secret key. `DATABASE_URL`
switches from the embedded SQLite database to PostgreSQL.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from chanrong.core.headers import CSP_POLICY

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent
VAR_DIR = Path(os.environ.get("CHANRONG_VAR_DIR", PROJECT_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


ENV = os.environ.get("CHANRONG_ENV", "development")
PRODUCTION = ENV == "production"
DEBUG = env_bool("CHANRONG_DEBUG", default=False)

SECRET_KEY = os.environ.get("CHANRONG_SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("CHANRONG_SECRET_KEY must be set when CHANRONG_ENV=production")
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"  # noqa: S105

# Keys of the encrypted personal fields, "id:base64,…", the first current
# (chanrong.core.fieldcrypt; docs/deployment.md). Unset: derived from SECRET_KEY.
CHANRONG_FIELD_KEYS = os.environ.get("CHANRONG_FIELD_KEYS", "")

ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("CHANRONG_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("CHANRONG_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",  # serves Swagger UI for /api/v1/docs from its static files, not a CDN
    # The second factor (TOTP + recovery codes); before accounts, whose admin
    # replaces their admin pages with the security administrator's.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "chanrong.core",
    "chanrong.ops",  # before django_tasks_db: its db_worker wraps the package's (heartbeat)
    "chanrong.accounts",
    "chanrong.registry",
    "chanrong.finance",
    "chanrong.api",
    "chanrong.demo",
    "chanrong.demands",
    "chanrong.events",
    "chanrong.pilots",
    "chanrong.insights",
    "chanrong.matching",
    "chanrong.policy",
    "chanrong.supplychain",
    "chanrong.risk",
    "chanrong.funds",
    "chanrong.listing",
    "chanrong.green",
    "chanrong.exchange",
    "chanrong.content",
    "chanrong.portal",
    "django_tasks_db",  # the database task backend's table and its `db_worker` command
]

MIDDLEWARE = [
    # Outermost: a request that failed because the database was busy answers
    # 503 + Retry-After rather than 500 (chanrong.core.dbbusy).
    "chanrong.core.dbbusy.DatabaseBusyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy (SECURE_CSP), Permissions-Policy, no banner.
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "chanrong.core.headers.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Django's, without a second URL resolution on a 404 (core.middleware).
    "chanrong.core.middleware.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified()
    "chanrong.core.middleware.RequestContextMiddleware",
    # /api/: 429 + Retry-After over CHANRONG_API_RATE_PER_TOKEN / _PER_ADDRESS.
    "chanrong.core.ratelimit.ApiRateLimitMiddleware",
    # 403/404 to a signed-in user on an object URL: audited, coalesced.
    "chanrong.core.refusals.RefusedAccessMiddleware",
    # /api/v1: a repeated query parameter is a 422, not "the last one wins".
    "chanrong.core.apikit.query.RepeatedQueryParameterMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Session lifetime, the 动态口令 step, forced password change (accounts).
    "chanrong.accounts.middleware.AccountPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "chanrong.urls"
WSGI_APPLICATION = "chanrong.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "chanrong.core.context_processors.navigation",
                "chanrong.core.context_processors_inbox.inbox",
            ],
        },
    },
]

# --- database -------------------------------------------------------------
# SQLite (WAL) by default so that a demo needs no other server; PostgreSQL
# through DATABASE_URL for anything real.
DEFAULT_SQLITE = VAR_DIR / "chanrong.sqlite3"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{DEFAULT_SQLITE}"),
        conn_max_age=env_int("CHANRONG_DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
# Writes on SQLite queue for its one write lock. A write that must happen
# waits up to CHANRONG_SQLITE_BUSY_TIMEOUT_MS, meant to outlast the
# platform's write transactions (a large import's write phase: see
# docs/deployment.md, "When SQLite is enough") and shorter than gunicorn's
# timeout; past it the request answers 503 + Retry-After. A write
# made while serving a read (a token's last use, a session's sliding expiry)
# waits at most CHANRONG_DB_SOFT_LOCK_TIMEOUT_MS and is skipped if the lock
# is not free (chanrong.core.dbbusy; docs/architecture.md, "Reads under a
# busy database").
CHANRONG_SQLITE_BUSY_TIMEOUT_MS = env_int("CHANRONG_SQLITE_BUSY_TIMEOUT_MS", 30000)
CHANRONG_DB_SOFT_LOCK_TIMEOUT_MS = env_int("CHANRONG_DB_SOFT_LOCK_TIMEOUT_MS", 100)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL: readers never wait for the writer. IMMEDIATE: a transaction
        # takes the write lock at BEGIN, so writers queue on busy_timeout
        # instead of failing at once when a read turns into a write.
        "init_command": (
            f"PRAGMA busy_timeout={CHANRONG_SQLITE_BUSY_TIMEOUT_MS:d}; "
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
        ),
        "transaction_mode": "IMMEDIATE",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- accounts and security ------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {
        "NAME": "chanrong.accounts.validators.CharacterClassesValidator",
        "OPTIONS": {"min_classes": env_int("CHANRONG_PASSWORD_MIN_CLASSES", 3)},
    },
    {"NAME": "chanrong.accounts.validators.PasswordHistoryValidator"},
]
# Password policy (等保): no reuse of the last N; older than MAX_AGE_DAYS (0 =
# never) must be changed at the next page; accounts created or reset by an
# administrator change theirs at first sign-in (docs/deployment.md).
CHANRONG_PASSWORD_HISTORY = env_int("CHANRONG_PASSWORD_HISTORY", 5)
CHANRONG_PASSWORD_MAX_AGE_DAYS = env_int("CHANRONG_PASSWORD_MAX_AGE_DAYS", 90)
# Second factor: these roles must sign in with TOTP (comma-separated; empty =
# optional for everyone). Anyone else may enrol, and then always needs it.
CHANRONG_OTP_REQUIRED_ROLES = [
    r.strip()
    for r in os.environ.get(
        "CHANRONG_OTP_REQUIRED_ROLES",
        "platform_admin,security_admin,audit_admin,gov_admin,institution_manager",
    ).split(",")
    if r.strip()
]
OTP_TOTP_ISSUER = os.environ.get("CHANRONG_OTP_ISSUER", "产融通")
# API tokens expire after this many days; a token bound to a client certificate
# is accepted only with the X-SSL-Client-* headers of a TLS proxy, trusted
# only when this says one is in front (docs/security.md).
CHANRONG_TOKEN_DAYS = env_int("CHANRONG_TOKEN_DAYS", 365)
CHANRONG_MTLS_TRUSTED_PROXY = env_bool("CHANRONG_MTLS_TRUSTED_PROXY", default=False)
AUTHENTICATION_BACKENDS = ["chanrong.accounts.backends.LockoutModelBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Failed logins (chanrong.accounts.services.throttle): after LOCKOUT_THRESHOLD
# failures of one (username, address) pair, or ADDRESS_THRESHOLD from one
# address, within LOCKOUT_WINDOW, that pair / address is refused for
# LOCKOUT_DURATION (seconds), whatever the password. ACCOUNT_THRESHOLD (0 =
# off) would lock a username from everywhere: off, so nobody can lock out
# someone else's account.
CHANRONG_LOCKOUT_THRESHOLD = env_int("CHANRONG_LOCKOUT_THRESHOLD", 5)
CHANRONG_LOCKOUT_ADDRESS_THRESHOLD = env_int("CHANRONG_LOCKOUT_ADDRESS_THRESHOLD", 20)
CHANRONG_LOCKOUT_ACCOUNT_THRESHOLD = env_int("CHANRONG_LOCKOUT_ACCOUNT_THRESHOLD", 0)
# Behind nginx: the client's address is the last X-Forwarded-For entry
# (chanrong.core.context.client_ip), else every client is nginx's 127.0.0.1.
CHANRONG_TRUST_X_FORWARDED_FOR = env_bool("CHANRONG_TRUST_X_FORWARDED_FOR", default=False)
CHANRONG_LOCKOUT_WINDOW = env_int("CHANRONG_LOCKOUT_WINDOW", 15 * 60)
CHANRONG_LOCKOUT_DURATION = env_int("CHANRONG_LOCKOUT_DURATION", 15 * 60)

# Idle timeout (sliding) and absolute lifetime since sign-in (accounts middleware).
SESSION_COOKIE_AGE = env_int("CHANRONG_SESSION_IDLE_MINUTES", 30) * 60
CHANRONG_SESSION_MAX_HOURS = env_int("CHANRONG_SESSION_MAX_HOURS", 12)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_SAVE_EVERY_REQUEST = True  # sliding expiry: idle sessions end, active ones do not
# Database sessions whose sliding expiry is rewritten at most once a minute,
# and skipped while the database is busy: a page view is not a write.
SESSION_ENGINE = "chanrong.core.sessions"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# No inline script or style anywhere: see chanrong/core/headers.py for why
# each directive reads as it does.
SECURE_CSP = CSP_POLICY

# API rate limits (chanrong.core.ratelimit): "20/s burst 40", "600/min",
# "off". Counted in the cache below, shared by every web process.
CHANRONG_API_RATE_PER_TOKEN = os.environ.get("CHANRONG_API_RATE_PER_TOKEN", "20/s burst 40")
CHANRONG_API_RATE_PER_ADDRESS = os.environ.get("CHANRONG_API_RATE_PER_ADDRESS", "50/s burst 100")
# Refused object access (403/404) is audited at most once per user, route and
# status in this many seconds; the entry carries how many were folded into it.
CHANRONG_REFUSAL_WINDOW = env_int("CHANRONG_REFUSAL_WINDOW", 600)

if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("CHANRONG_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("CHANRONG_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = False
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- i18n: Chinese first, English through the language switch ---------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- static files: built from npm packages at set-up, never a CDN ----------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("CHANRONG_STATIC_ROOT", VAR_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if env_bool("CHANRONG_PLAIN_STATIC", default=False):
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
MEDIA_ROOT = Path(os.environ.get("CHANRONG_MEDIA_ROOT", VAR_DIR / "media"))

# Where the audit chain's end is written down every ten minutes and checked
# by `chanrong audit verify` (chanrong.core.audit, "anchors"). Unset: a file
# per database under VAR_DIR. Keep it, or a copy, where the database's
# operators cannot rewrite it.
AUDIT_ANCHOR_FILE = (
    Path(os.environ["CHANRONG_AUDIT_ANCHORS"]) if os.environ.get("CHANRONG_AUDIT_ANCHORS") else None
)
# The web process anchors after every audited commit (EVERY 0), or, when
# EVERY is N > 0, once the last anchor is N seconds old or ENTRIES entries
# behind; it fsyncs the file at most every SYNC_EVERY seconds. `audit verify`
# fails when the newest anchor is more than STALE seconds older than the
# newest entry.
AUDIT_ANCHOR_EVERY = env_int("CHANRONG_AUDIT_ANCHOR_EVERY", 0)
AUDIT_ANCHOR_ENTRIES = env_int("CHANRONG_AUDIT_ANCHOR_ENTRIES", 100)
AUDIT_ANCHOR_SYNC_EVERY = env_int("CHANRONG_AUDIT_ANCHOR_SYNC_EVERY", 10)
AUDIT_ANCHOR_STALE = env_int("CHANRONG_AUDIT_ANCHOR_STALE", 900)
# Audit entries are kept at least this many days (never fewer than 180:
# chanrong.core.audit.retention refuses to purge younger entries).
AUDIT_RETENTION_DAYS = max(180, env_int("CHANRONG_AUDIT_RETENTION_DAYS", 180))
# Exports holding personal fields: rows per request / per day by role
# (core.export_policy); over a cap the export is refused, not truncated.
# CHANRONG_EXPORT_CAPS="gov_staff=2000/10000,gov_admin=5000/20000" overrides roles.
CHANRONG_EXPORT_CAPS = {
    "gov_staff": (2000, 10000),
    "gov_admin": (5000, 20000),
    "platform_admin": (5000, 20000),
    "institution_manager": (500, 2000),
    "institution_staff": (200, 1000),
    "enterprise_user": (50, 200),
}
for _cap in filter(None, os.environ.get("CHANRONG_EXPORT_CAPS", "").split(",")):
    _role, _, _numbers = _cap.strip().partition("=")
    _per_request, _, _per_day = _numbers.partition("/")
    CHANRONG_EXPORT_CAPS[_role.strip()] = (int(_per_request), int(_per_day or _per_request))
MEDIA_URL = "/media/"

# `chanrong backup` writes here (timestamped files; `--keep N` prunes), and
# finds pg_dump / pg_restore of the server's major version in
# CHANRONG_PG_BIN when set, else on PATH (chanrong.core.backups).
CHANRONG_BACKUP_DIR = Path(os.environ.get("CHANRONG_BACKUP_DIR") or VAR_DIR / "backups")
CHANRONG_PG_BIN = os.environ.get("CHANRONG_PG_BIN") or None

# Where `chanrong refdata load` finds the administrative divisions (the npm
# package china-division, installed at set-up).
CHANRONG_DIVISIONS_DIR = Path(
    os.environ.get(
        "CHANRONG_DIVISIONS_DIR", PROJECT_DIR / "node_modules" / "china-division" / "dist"
    )
)
CHANRONG_DEMO_PASSWORD = os.environ.get("CHANRONG_DEMO_PASSWORD", "chanrong-demo-2026")

# Django 6.1's MAILERS (EMAIL_BACKEND is deprecated); console in the demo.
MAILERS = {
    "default": {
        "BACKEND": os.environ.get(
            "CHANRONG_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
        )
    }
}
DEFAULT_FROM_EMAIL = os.environ.get("CHANRONG_FROM_EMAIL", "noreply@chanrong.local")

# --- background tasks (Django's Tasks API), notifications, webhooks ---------
# CHANRONG_TASK_BACKEND: "database" (default; tasks are rows in this database,
# run by `chanrong db_worker`), "redis" (RQ on CHANRONG_REDIS_URL, run by
# `chanrong rqworker --job-class django_tasks_rq.Job default`) or "immediate"
# (run inline in the calling process). Periodic jobs: `chanrong tick`. See docs/tasks.md.
CHANRONG_TASK_BACKEND = os.environ.get("CHANRONG_TASK_BACKEND", "database").strip().lower()
CHANRONG_REDIS_URL = os.environ.get("CHANRONG_REDIS_URL", "redis://127.0.0.1:6379/0")
_TASK_BACKENDS = {
    "database": "chanrong.core.taskdb.DatabaseBackend",
    "redis": "django_tasks_rq.RQBackend",
    "immediate": "django.tasks.backends.immediate.ImmediateBackend",
}
if CHANRONG_TASK_BACKEND not in _TASK_BACKENDS:
    raise ImproperlyConfigured(
        f"CHANRONG_TASK_BACKEND must be one of {', '.join(_TASK_BACKENDS)}, "
        f"not {CHANRONG_TASK_BACKEND!r}"
    )
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[CHANRONG_TASK_BACKEND], "QUEUES": ["default"]}}
# The worker's heartbeat (chanrong.ops): seconds between beats (a worker
# silent for six beats, 90 s at least, counts as dead); and how long, in
# seconds, a task may run before it is recovered when its worker left no
# heartbeat at all (docs/tasks.md, "When a worker dies").
CHANRONG_HEARTBEAT_SECONDS = env_int("CHANRONG_HEARTBEAT_SECONDS", 10)
CHANRONG_TASK_RUNNING_LIMIT = env_int("CHANRONG_TASK_RUNNING_LIMIT", 6 * 3600)
RQ_QUEUES = {"default": {"URL": CHANRONG_REDIS_URL, "DEFAULT_TIMEOUT": 600}}
if CHANRONG_TASK_BACKEND == "redis":
    INSTALLED_APPS.append("django_rq")  # its `rqworker` command

# The cache: rate-limit counters and coalesced refusals (chanrong.core.ratelimit,
# chanrong.core.refusals), shared by every web process. CHANRONG_CACHE_BACKEND:
# "database" (a table in this database, created by core's migration; no other
# server), "redis" (CHANRONG_REDIS_URL; the default when tasks run on Redis) or
# "locmem" (one process only: development).
CHANRONG_CACHE_BACKEND = (
    os.environ.get(
        "CHANRONG_CACHE_BACKEND", "redis" if CHANRONG_TASK_BACKEND == "redis" else "database"
    )
    .strip()
    .lower()
)
_CACHE_BACKENDS = {
    "database": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "chanrong_cache",
        # Culling at Django's default 300 entries would forget live counters;
        # every write counts the rows, so not many more than that either.
        "OPTIONS": {"MAX_ENTRIES": 10_000, "CULL_FREQUENCY": 4},
    },
    "redis": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": CHANRONG_REDIS_URL,
    },
    "locmem": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
}
if CHANRONG_CACHE_BACKEND not in _CACHE_BACKENDS:
    raise ImproperlyConfigured(
        f"CHANRONG_CACHE_BACKEND must be one of {', '.join(_CACHE_BACKENDS)}, "
        f"not {CHANRONG_CACHE_BACKEND!r}"
    )
CACHES = {"default": {**_CACHE_BACKENDS[CHANRONG_CACHE_BACKEND], "KEY_PREFIX": "chanrong"}}

# SMS: a dotted path to a chanrong.core.sms.SmsProvider; the console one prints.
CHANRONG_SMS_PROVIDER = os.environ.get(
    "CHANRONG_SMS_PROVIDER", "chanrong.core.sms.ConsoleSmsProvider"
)
# Absolute links in e-mails and SMS point here.
CHANRONG_SITE_URL = os.environ.get("CHANRONG_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# Webhooks may be sent to loopback / private / link-local addresses (SSRF risk):
# allowed in development and tests, refused by default in production.
CHANRONG_WEBHOOK_ALLOW_PRIVATE = env_bool("CHANRONG_WEBHOOK_ALLOW_PRIVATE", default=not PRODUCTION)
# 互联互通 peers (chanrong.exchange.services.safeurl) may be on loopback only
# when this is set (two deployments on one machine: the two-server tests).
# Private RFC 1918 addresses (电子政务外网) are always allowed; link-local,
# unspecified and multicast never.
CHANRONG_EXCHANGE_ALLOW_LOOPBACK = env_bool("CHANRONG_EXCHANGE_ALLOW_LOOPBACK", default=False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("CHANRONG_LOG_LEVEL", "WARNING")},
}
# Audit anchors (chanrong.core.audit.anchors) are logged at INFO: a second copy
# of each, out of the database's reach when the log leaves the machine.
# CHANRONG_AUDIT_SYSLOG=/dev/log (or host:port, UDP) also sends them to syslog.
LOGGING["loggers"] = {
    "chanrong.core.audit": {"handlers": ["console"], "level": "INFO", "propagate": False}
}
if os.environ.get("CHANRONG_AUDIT_SYSLOG"):
    _syslog = os.environ["CHANRONG_AUDIT_SYSLOG"]
    _host, _, _port = _syslog.rpartition(":")
    LOGGING["handlers"]["audit_syslog"] = {
        "class": "logging.handlers.SysLogHandler",
        "address": _syslog if _syslog.startswith("/") else (_host, int(_port or 514)),
        "facility": "authpriv",
    }
    LOGGING["loggers"]["chanrong.core.audit"]["handlers"].append("audit_syslog")
