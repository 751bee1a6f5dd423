"""LeadOps settings. Everything deployment-specific comes from the environment (see README, "Configuration").

Defaults serve a laptop demo: SQLite in var/ and a Celery broker on the filesystem, so nothing needs a server.
"""

from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from leadops.env import (
    env_bool,
    env_broker_url,
    env_database,
    env_directory,
    env_dotted_path,
    env_email_address,
    env_host,
    env_int,
    env_list,
    env_log_level,
    env_name,
    env_origins,
    env_secret_key,
    env_str,
    env_time_zone,
    env_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = env_directory("LEADOPS_VAR_DIR", str(BASE_DIR / "var"))

# As in healthchecks: the default is the laptop demo; production sets DEBUG=false and the variables it then needs.
DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env_secret_key(default="leadops-insecure-development-key-do-not-deploy" if DEBUG else None)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_origins("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "axes",
    "leadops",
    "scoring",
    "routing",
    "sla",
    "handoff",
    "playbooks",
]

MIDDLEWARE = [
    # Outermost, so that every error under /api/ (an unknown URL, a 500) reaches the client as JSON.
    "leadops.api_errors.ApiJsonErrorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # With DEBUG on, LeadOps' 404 page instead of Django's technical one for everyone but staff (leadops/errors.py).
    "leadops.errors.FriendlyNotFoundMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes requires: turns a locked-out log-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "leadops.urls"
WSGI_APPLICATION = "leadops.wsgi.application"

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
                "leadops.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {"default": env_database("DATABASE_URL", VAR_DIR / "leadops.sqlite3")}
# A Celery worker started by the integration tests must use the test database, not the configured one.
if _test_db_name := env_str("LEADOPS_DB_NAME_OVERRIDE", ""):
    DATABASES["default"]["NAME"] = _test_db_name
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Log-in lockout (django-axes): 5 wrong passwords for one user name from one address lock that pair out for 15
# minutes, counted from the 5th failure (trying again meanwhile does not extend it). Other users, and the same user
# from elsewhere, can still log in. A successful log-in forgets earlier failures. An admin lifts a lock early by
# deleting the access attempt in the support admin, or with `manage.py axes_reset_username USERNAME`.
AUTHENTICATION_BACKENDS = [
    # First: it refuses a locked-out log-in before any password is checked. It needs the request, which every log-in
    # form passes; tests sign in with client.force_login, which does not authenticate.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Only failures are recorded; successful log-ins would fill a table nobody prunes.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_time_zone("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# In the demo (DEBUG) whitenoise serves straight from the app folders, so no collectstatic step is needed.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
# Uploaded import files are read in memory and streamed to the importer; 50 MB holds ~300,000 CRM rows.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 50 * 1024 * 1024
LEADOPS_IMPORT_MAX_BYTES = env_int("LEADOPS_IMPORT_MAX_BYTES", 50 * 1024 * 1024, minimum=1024)

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first so that an anonymous API call gets 401 with a WWW-Authenticate header, not 403.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # ?limit= is capped at 500 (leadops.pagination.MAX_PAGE_SIZE); junk limits and offsets are refused with 400.
    "DEFAULT_PAGINATION_CLASS": "leadops.pagination.ApiPagination",
    "PAGE_SIZE": 50,
    # Bad JSON of any kind is a 400, a body over DATA_UPLOAD_MAX_MEMORY_SIZE a 413, both in JSON.
    "DEFAULT_PARSER_CLASSES": [
        "leadops.api_errors.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "leadops.api_errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "LeadOps API",
    "VERSION": "1",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
}

# --- e-mail ---------------------------------------------------------------------------------------------------
EMAIL_BACKEND = env_dotted_path("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_host("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be true.")
DEFAULT_FROM_EMAIL = env_email_address("DEFAULT_FROM_EMAIL", "LeadOps <leadops@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Celery -----------------------------------------------------------------------------------------------------
CELERY_DIR = VAR_DIR / "celery"
# The filesystem transport ignores the host, but kombu warns on every publish when the URL names none.
CELERY_BROKER_URL = env_broker_url("CELERY_BROKER_URL", "filesystem://localhost/")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # The filesystem transport needs its folders; in and out must be the same directory.
    for folder in ("queue", "processed", "control"):
        (CELERY_DIR / folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_DIR / "queue"),
        "data_folder_out": str(CELERY_DIR / "queue"),
        "processed_folder": str(CELERY_DIR / "processed"),
        # Broadcast (worker control) messages; by default kombu writes them to ./control of the current directory.
        "control_folder": str(CELERY_DIR / "control"),
        "store_processed": False,
        # Poll twice a second: tasks start sooner and the demo worker stops well inside honcho's grace period.
        "polling_interval": 0.5,
    }
CELERY_RESULT_BACKEND = env_url("CELERY_RESULT_BACKEND")
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 300, minimum=1)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 360, minimum=1)
CELERY_TASK_DEFAULT_QUEUE = env_name("CELERY_TASK_DEFAULT_QUEUE", "leadops")
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    # Behaviour loses weight with age: re-score everyone with the active model once a night.
    "scoring-nightly-decay": {"task": "scoring.tasks.nightly_decay", "schedule": crontab(hour=2, minute=30)},
    # Chunks of a re-score whose worker died are handed out again.
    "scoring-resume-runs": {"task": "scoring.tasks.rescore_runs_resume", "schedule": 300.0},
    # Leads queued by ingestion are re-scored when a batch arrives; this catches a wake-up message that was lost.
    "scoring-drain-pending": {"task": "scoring.tasks.rescore_pending", "schedule": 60.0},
    # Service-level clocks that fell due are breached and escalated (notify, reassign, auto-accept).
    "sla-sweep": {"task": "sla.tasks.sla_sweep", "schedule": 60.0, "options": {"expires": 55}},
    # Next-best-action: each lead that owes a touch gets its next due action (call, e-mail, LinkedIn, content...).
    "playbooks-next-actions": {
        "task": "playbooks.tasks.next_actions_sweep",
        "schedule": 300.0,
        "options": {"expires": 290},
    },
    "purge-expired-sessions": {
        "task": "leadops.tasks.sessions_purge",
        "schedule": crontab(hour=3, minute=17),
    },
}

# --- security (production values unless DEBUG) ------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", False) else None
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
# Preload is on in production so check --deploy is clean; set SECURE_HSTS_PRELOAD=false to opt out.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
        "permission_denied_one_line": {"()": "leadops.errors.PermissionDeniedOneLine"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        "mail_admins": {
            "level": "ERROR",
            "filters": ["require_debug_false"],
            "class": "django.utils.log.AdminEmailHandler",
        },
    },
    "loggers": {
        # Django's default console handler on "django" would print every django.* record a second time next to the
        # root's; only its mail to ADMINS is kept.
        "django": {"handlers": ["mail_admins"]},
        # A refused page (403) is one line without a traceback.
        "django.request": {"filters": ["permission_denied_one_line"]},
    },
    "root": {"handlers": ["console"], "level": env_log_level("LOG_LEVEL", "INFO")},
}
