"""Settings for the back-office monolith, read from environment variables only.

Every variable is documented in README.md ("Configuration"). Defaults run the demo on this
machine: the embedded PostgreSQL server (var/pg/), local files, a loopback demo FTP server and
mails written to var/mail/.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url

from project import embedded_db

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)
# The fallback key only exists so the demo and the tests start; `check --deploy` flags it and
# production must set DJANGO_SECRET_KEY.
SECRET_KEY = env_str("DJANGO_SECRET_KEY") or "django-insecure-demo-key-set-DJANGO_SECRET_KEY"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_q",
    # Only for its bundled Swagger UI assets and template: the API docs are served offline.
    "ninja",
    "axes",
    "auditlog",
    "import_export",
    "project",
    "ingestion",
    "sessions_app",
    "statements",
    "settlement",
    "exports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: turns a locked-out login into its lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "project.urls"
WSGI_APPLICATION = "project.wsgi.application"
ASGI_APPLICATION = "project.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "project.context_processors.navigation",
            ],
        },
    },
]

# PostgreSQL only. Unset, DATABASE_URL is the embedded server of the demo (var/pg/, a Unix socket;
# `make run` starts it, project/embedded_db.py); the tests start a throwaway one of their own.
DATABASE_URL = env_str("DATABASE_URL") or embedded_db.database_url(VAR_DIR / "pg")
if not DATABASE_URL.startswith(("postgres://", "postgresql://", "pgsql://")):
    # One line, no traceback: the fix is in the environment, not in the code.
    raise SystemExit(
        f"DATABASE_URL must be a PostgreSQL URL (postgres://user@host:port/name), not "
        f"{DATABASE_URL.split(':')[0]}:…; leave it unset for the embedded server in var/pg/"
    )
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
        # A kept connection is checked before each request reuses it, so after a database restart
        # the first request gets a fresh connection instead of an error.
        conn_health_checks=True,
    )
}
if env_str("DATABASE_TEST_NAME"):
    # Lets several test runs share one PostgreSQL server without clobbering each other.
    DATABASES["default"]["TEST"] = {"NAME": env_str("DATABASE_TEST_NAME")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login lockout (django-axes): after LOGIN_FAILURE_LIMIT failures within LOGIN_COOLOFF_MINUTES, the
# user name and, separately, the client address are refused until the cool-off ends or an admin
# deletes the lockout under Axes > Access attempts.
AUTHENTICATION_BACKENDS = ["project.auth.LockoutBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "project.auth.client_ip"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Audit trail (project/audit.py): the low-volume models whose every change is recorded. Never the
# bulk tables (invoice lines, sales lines, aggregates): their write speed must not drop.
AUDITLOG_INCLUDE_TRACKING_MODELS = (
    {"model": "auth.User", "exclude_fields": ["password", "last_login"]},
    {"model": "project.ApiToken", "exclude_fields": ["digest", "last_used_at"]},
    {"model": "ingestion.InvoiceFile", "exclude_fields": ["invalid_lines"]},
    "ingestion.ClosedDay",
    {"model": "sessions_app.Session", "exclude_fields": ["heartbeat_at", "run_token", "task_id"]},
    "statements.StatementRun",
    {
        "model": "statements.SalesFile",
        "exclude_fields": [
            "lease_until",
            "progress_processed",
            "progress_total",
            "detail",
            "warnings",
            "totals",
        ],
    },
    "statements.ImportProfile",
    "statements.Payee",
    "statements.PaymentDetailsChange",
    "statements.Contract",  # scopes changed from the unmatched-income page, contracts created from it
    {
        "model": "settlement.Structure",
        "exclude_fields": ["sample_record", "folded_seq", "last_settlement_at"],
    },
    "exports.ExportFile",
)
AUDITLOG_STORE_JSON_CHANGES = True
AUDITLOG_DISABLE_ON_RAW_SAVE = True  # fixtures (the demo data) are not actions
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Pages follow the browser's language (LocaleMiddleware) or the header switch; emails go to mailing
# lists, not users, so they are written in LANGUAGE_CODE.
LANGUAGE_CODE = env_str("LANGUAGE_CODE", "en")
LANGUAGES = [("en", "English"), ("it", "Italiano")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Europe/Rome")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# Serve app static files straight from their folders as well, so a fresh checkout (tests, demo
# before collectstatic) renders styled pages; the cost is one scan at start-up.
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "media/"

# S3 when a bucket is configured, local files otherwise; both go through default_storage.
AWS_STORAGE_BUCKET_NAME = env_str("AWS_STORAGE_BUCKET_NAME")
if AWS_STORAGE_BUCKET_NAME:
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env_str("AWS_S3_ENDPOINT_URL") or None,
            "region_name": env_str("AWS_S3_REGION_NAME") or None,
            "access_key": env_str("AWS_ACCESS_KEY_ID") or None,
            "secret_key": env_str("AWS_SECRET_ACCESS_KEY") or None,
            "file_overwrite": True,
            "default_acl": None,
            "querystring_auth": True,
            # Presigned uploads must never fall back to the deprecated SigV2 (project/integrations/s3.py).
            "signature_version": "s3v4",
        },
    }
else:
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT},
    }
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Email: EMAIL_URL picks the transport (smtp://user:pass@host:port, smtp+tls://…, file://path,
# console://, locmem://); without it mails are written to var/mail/ for the demo.
EMAIL_URL = env_str("EMAIL_URL")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "backoffice@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)
EMAIL_FILE_PATH = VAR_DIR / "mail"
if EMAIL_URL:
    from project.email_url import email_settings_from_url

    globals().update(email_settings_from_url(EMAIL_URL))
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"

# django-q2: the ORM broker needs no extra server; DJANGO_Q_BROKER=redis switches to Redis.
Q_CLUSTER = {
    "name": "backoffice",
    "workers": env_int("DJANGO_Q_WORKERS", 2),
    "timeout": env_int("DJANGO_Q_TIMEOUT", 3600),
    "retry": env_int("DJANGO_Q_RETRY", 3700),
    "max_attempts": env_int("DJANGO_Q_MAX_ATTEMPTS", 3),
    "catch_up": False,
    "save_limit": env_int("DJANGO_Q_SAVE_LIMIT", 1000),
    "ack_failures": True,
    "time_zone": TIME_ZONE,
    "poll": 1,
}
if env_str("DJANGO_Q_BROKER", "orm") == "redis":
    Q_CLUSTER["redis"] = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
else:
    Q_CLUSTER["orm"] = "default"

SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG and bool(CSRF_TRUSTED_ORIGINS))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", False)
DJANGO_BEHIND_PROXY = env_bool("DJANGO_BEHIND_PROXY")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if DJANGO_BEHIND_PROXY else None
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 10 * 1024 * 1024)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- ingestion ----------------------------------------------------------------------------------
# /healthz: a schedule overdue by more than this means no task cluster runs; a task waiting longer is stuck.
HEALTHZ_CLUSTER_MAX_LATE = env_int("HEALTHZ_CLUSTER_MAX_LATE", 600)
HEALTHZ_QUEUE_MAX_AGE = env_int("HEALTHZ_QUEUE_MAX_AGE", 600)

# The demo's ports (`make run PORT=… DEMO_FTP_PORT=… MONEYBIRD_DEMO_PORT=…`): its web server, where
# the fake Moneybird sends its webhooks, and the demo FTP server that the default FTP URLs point at.
DEMO_PORT = env_int("PORT", 8000)
DEMO_FTP_PORT = env_int("DEMO_FTP_PORT", 2121)
INGESTION_FTP_URL = env_str("INGESTION_FTP_URL", f"ftp://demo:demo@127.0.0.1:{DEMO_FTP_PORT}/inbound")
INGESTION_FTP_TIMEOUT = env_int("INGESTION_FTP_TIMEOUT", 30)
INGESTION_SUMMARY_RECIPIENTS = env_list("INGESTION_SUMMARY_RECIPIENTS", "warehouse@localhost")
INGESTION_ALERT_RECIPIENTS = env_list("INGESTION_ALERT_RECIPIENTS", "warehouse@localhost")
INGESTION_NO_FILE_ALERT_AFTER = env_str("INGESTION_NO_FILE_ALERT_AFTER", "19:00")
INGESTION_MAX_UPLOAD_BYTES = env_int("INGESTION_MAX_UPLOAD_BYTES", 50 * 1024 * 1024)
INGESTION_CURRENCY = env_str("INGESTION_CURRENCY", "EUR")
INGESTION_PROGRESS_EVERY = env_int("INGESTION_PROGRESS_EVERY", 50_000)
KNOWN_INVOICES_RELATION = env_str("KNOWN_INVOICES_RELATION", "known_invoices")

# --- sessions_app -------------------------------------------------------------------------------
SESSIONS_FTP_URL = env_str("SESSIONS_FTP_URL", f"ftp://demo:demo@127.0.0.1:{DEMO_FTP_PORT}/outbound")
SESSIONS_FTP_TIMEOUT = env_int("SESSIONS_FTP_TIMEOUT", 30)
SESSIONS_CSV_PREFIX = env_str("SESSIONS_CSV_PREFIX", "shipments")
SESSIONS_CSV_SEPARATOR = env_str("SESSIONS_CSV_SEPARATOR", ";")
SESSIONS_CSV_FIELDS = env_list(
    "SESSIONS_CSV_FIELDS",
    "invoice_number,customer_code,customer_name,address,postcode,city,province,country,"
    "weight_kg,parcels,quantity,value",
)
SESSIONS_LOG_FS_URL = env_str("SESSIONS_LOG_FS_URL", f"osfs://{VAR_DIR / 'remote-log'}")
SESSIONS_LOG_PATH = env_str("SESSIONS_LOG_PATH", "upload.log")
# The receiver writes e.g. "READ shipments_20261123_1.csv records=123"; both groups are required.
SESSIONS_LOG_PATTERN = env_str("SESSIONS_LOG_PATTERN", r"READ (?P<filename>\S+) records=(?P<records>\d+)")
SESSIONS_LOG_TIMEOUT = env_int("SESSIONS_LOG_TIMEOUT", 600)
SESSIONS_LOG_POLL_INTERVAL = env_int("SESSIONS_LOG_POLL_INTERVAL", 10)
SESSIONS_RESULT_RECIPIENTS = env_list("SESSIONS_RESULT_RECIPIENTS", "warehouse@localhost")
SESSIONS_BATCH_SIZE = env_int("SESSIONS_BATCH_SIZE", 1000)
# A run refreshes its lease at every batch and log poll; a lease older than this means the worker
# died, and another run (task retry or `run_session`) may take the session over.
SESSIONS_RUN_LEASE_SECONDS = env_int("SESSIONS_RUN_LEASE_SECONDS", 120)

# --- statements ---------------------------------------------------------------------------------
STATEMENTS_WEBHOOK_SECRET = env_str("STATEMENTS_WEBHOOK_SECRET")
STATEMENTS_WEBHOOK_MAX_AGE = env_int("STATEMENTS_WEBHOOK_MAX_AGE", 300)
STATEMENTS_PRESIGNED_URL_EXPIRY = env_int("STATEMENTS_PRESIGNED_URL_EXPIRY", 3600)
STATEMENTS_MAX_UPLOAD_BYTES = env_int("STATEMENTS_MAX_UPLOAD_BYTES", 200 * 1024 * 1024)
# On: cleaning is left to an external module, which reports back through the signed webhook.
STATEMENTS_EXTERNAL_CLEANING = env_bool("STATEMENTS_EXTERNAL_CLEANING", False)
# On: plain CSV/TSV files are cleaned and imported set-based in PostgreSQL (statements.vectorised);
# identical results, slower than the Python cleaner on the 2-core machine (docs/performance.md).
STATEMENTS_VECTORISED = env_bool("STATEMENTS_VECTORISED", False)
# A task holds its sales file this long past its last progress write (its heartbeat); after that a
# file stuck mid-pipeline may be processed again. The external module gets its own time to report.
STATEMENTS_LEASE_SECONDS = env_int("STATEMENTS_LEASE_SECONDS", 600)
STATEMENTS_EXTERNAL_CLEANING_TIMEOUT = env_int("STATEMENTS_EXTERNAL_CLEANING_TIMEOUT", 24 * 3600)
# The income column of DDEX DSR files a file gets unless it names one (docs/sales-reports.md,
# "Revenue basis"): one basis for every DSR profile, or per HEAD Profile, e.g.
# "UgcProfile=allocated_amount,BasicAudioProfile=allocated_net_revenue" (checked at start).
STATEMENTS_DSR_REVENUE_BASIS = env_str("STATEMENTS_DSR_REVENUE_BASIS", "allocated_net_revenue")
# A run with more payees than this gets its statements zip from a background task, not the request.
ROYALTY_ZIP_INLINE_PAYEES = env_int("ROYALTY_ZIP_INLINE_PAYEES", 20)
# Who finalises a run's royalty statements counts as one approval; 2 (four eyes) means another
# back-office user must first approve the statements as they are (statements/royalties/services.py).
ROYALTY_FINALISE_APPROVALS = env_int("ROYALTY_FINALISE_APPROVALS", 1)
# A draft of at least ROYALTY_DRAFT_SPLIT_LINES lines shares its pass over them among this many
# database connections (one query runs on one core; statements/royalties/parallel.py).
ROYALTY_DRAFT_CONNECTIONS = env_int("ROYALTY_DRAFT_CONNECTIONS", min(4, os.cpu_count() or 1))
ROYALTY_DRAFT_SPLIT_LINES = env_int("ROYALTY_DRAFT_SPLIT_LINES", 1_000_000)
# The account royalty payment batches are paid from, written into the SEPA credit-transfer files.
PAYMENTS_DEBTOR_NAME = env_str("PAYMENTS_DEBTOR_NAME")
PAYMENTS_DEBTOR_IBAN = env_str("PAYMENTS_DEBTOR_IBAN")
PAYMENTS_DEBTOR_BIC = env_str("PAYMENTS_DEBTOR_BIC")
# The label on the head of every royalty statement (page and PDF): name, postal address (lines
# separated by "\n" or "|") and a logo file (PNG/SVG/JPEG path; empty: none).
ROYALTY_LABEL_NAME = env_str("ROYALTY_LABEL_NAME", "")
ROYALTY_LABEL_ADDRESS = env_str("ROYALTY_LABEL_ADDRESS", "").replace("|", "\n").replace("\\n", "\n")
ROYALTY_LABEL_LOGO = env_str("ROYALTY_LABEL_LOGO", "")
# The label as the customer on its payees' self-billing invoices (statements/royalties/invoices.py):
# its country decides domestic VAT (at SELF_BILLING_VAT_RATE) against reverse charge; invoices are
# numbered without gaps per SELF_BILLING_LABEL (SB-000001, …).
ROYALTY_LABEL_COUNTRY = env_str("ROYALTY_LABEL_COUNTRY", "IT")
ROYALTY_LABEL_VAT_ID = env_str("ROYALTY_LABEL_VAT_ID", "")
SELF_BILLING_LABEL = env_str("SELF_BILLING_LABEL", "SB")
SELF_BILLING_VAT_RATE = env_str("SELF_BILLING_VAT_RATE", "0.22")

# Replies stored for an Idempotency-Key (Settle and Royalties APIs, project/idempotency.py) are
# replayed to retries for this long, then forgotten. SETTLEMENT_IDEMPOTENCY_HOURS: its former name.
IDEMPOTENCY_HOURS = env_int("IDEMPOTENCY_HOURS", env_int("SETTLEMENT_IDEMPOTENCY_HOURS", 24))

# --- settlement ---------------------------------------------------------------------------------
# Appended update deltas are folded into the stored aggregates by a worker every this many batches.
SETTLEMENT_FOLD_EVERY = env_int("SETTLEMENT_FOLD_EVERY", 100)

# --- exports ------------------------------------------------------------------------------------
# Empty: the demo's fake Moneybird on 127.0.0.1:MONEYBIRD_DEMO_PORT (production: https://moneybird.com/api/v2).
MONEYBIRD_API_URL = env_str("MONEYBIRD_API_URL")
MONEYBIRD_DEMO_PORT = env_int("MONEYBIRD_DEMO_PORT", 8765)
MONEYBIRD_ADMINISTRATION_ID = env_str("MONEYBIRD_ADMINISTRATION_ID")
MONEYBIRD_TOKEN = env_str("MONEYBIRD_TOKEN")
MONEYBIRD_TIMEOUT = env_int("MONEYBIRD_TIMEOUT", 30)
MONEYBIRD_MAX_RETRIES = env_int("MONEYBIRD_MAX_RETRIES", 4)
# Base of the exponential back-off between retries, and the longest wait honoured from Retry-After.
MONEYBIRD_RETRY_DELAY = float(env_str("MONEYBIRD_RETRY_DELAY", "1"))
MONEYBIRD_MAX_RETRY_WAIT = float(env_str("MONEYBIRD_MAX_RETRY_WAIT", "60"))
MONEYBIRD_WEB_URL = env_str("MONEYBIRD_WEB_URL", "https://moneybird.com")
# Moneybird allows 150 requests per 5 minutes; syncs slow down to stay inside it.
MONEYBIRD_RATE_LIMIT = env_int("MONEYBIRD_RATE_LIMIT", 150)
MONEYBIRD_RATE_WINDOW = float(env_str("MONEYBIRD_RATE_WINDOW", "300"))
# Webhook calls are collected this long before one sync of the ids they named.
EXPORTS_WEBHOOK_DEBOUNCE_SECONDS = env_int("EXPORTS_WEBHOOK_DEBOUNCE_SECONDS", 30)
EXPORTS_PREFIX = env_str("EXPORTS_PREFIX", "exports/")
EXPORTS_SYNC_MINUTES = env_int("EXPORTS_SYNC_MINUTES", 60)
