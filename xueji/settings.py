"""Xueji settings: one module, read from the environment.

Every knob is an environment variable (documented in README.md). Secrets may also come from a file
named by the same variable with a ``_FILE`` suffix (Docker/Kubernetes secrets).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent


def env_str(name: str, default: str = "") -> str:
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        return Path(file_name).read_text(encoding="utf-8").strip()
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DATA_DIR = Path(env_str("XUEJI_DATA_DIR", str(Path.cwd() / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    key = env_str("XUEJI_SECRET_KEY")
    if key:
        return key
    # The embedded install keeps a generated key in the data directory so sessions survive restarts;
    # deployments with several web processes must set XUEJI_SECRET_KEY (or _FILE) to share one key.
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50), encoding="utf-8")
        key_file.chmod(0o600)
    return key_file.read_text(encoding="utf-8").strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("XUEJI_DEBUG", False)
ALLOWED_HOSTS = env_list("XUEJI_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("XUEJI_CSRF_TRUSTED_ORIGINS", "")

# Production behind TLS: XUEJI_HTTPS=1 turns on every transport-security setting `check --deploy` asks for.
HTTPS = env_bool("XUEJI_HTTPS", False)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS and env_bool("XUEJI_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
if env_bool("XUEJI_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "django_htmx",
    "xueji.reference",
    "xueji.orgs",
    "xueji.audit",
    "xueji.admissions",
    "xueji.students",
    "xueji.reconcile",
    "xueji.roster",
    "xueji.stats",
    "xueji.campaigns",
    "xueji.web",
    "ninja",  # serves the API docs' Swagger UI from its bundled static files, not a CDN
    "xueji.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "xueji.ops.middleware.NulCharacterMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "xueji.orgs.middleware.ForcePasswordChangeMiddleware",
    # AxesMiddleware must be last: it turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "xueji.urls"
WSGI_APPLICATION = "xueji.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "xueji.web.menu.menu_context",
            ],
        },
    },
]

_default_db = f"sqlite:///{DATA_DIR / 'xueji.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(env_str("DATABASE_URL", _default_db), conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the worker writes; IMMEDIATE transactions take the write lock
    # up front so two writers queue on busy_timeout instead of failing with "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # Tests use a file too, not SQLite's shared in-memory database: there a reader meets a writer's table lock
    # at once ("database table is locked") instead of waiting, unlike any real deployment.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-xueji.sqlite3")}
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "orgs.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sessions end after two idle hours (renewed on every request) and when the browser closes.
SESSION_COOKIE_AGE = env_int("XUEJI_SESSION_SECONDS", 2 * 60 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# django-axes: lock the username+address pair (not the address alone, which would lock a whole school
# behind one NAT) after five failures, for a cool-off period rather than forever.
AXES_FAILURE_LIMIT = env_int("XUEJI_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("XUEJI_LOGIN_COOLOFF_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if env_bool("XUEJI_BEHIND_PROXY", False) else ["REMOTE_ADDR"]
)

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve straight from the app folders too, so `xueji serve` works without a collectstatic step.
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = DATA_DIR / "private"  # uploads are never served directly: views check scope first

# Background tasks. "db" is the embedded default (worker: `xueji worker`, or inside `xueji serve`);
# "rq" runs them on Redis for several worker hosts; "immediate" runs them inline (tests).
TASK_BACKEND = env_str("XUEJI_TASK_BACKEND", "db")
_task_backends = {
    "db": {"BACKEND": "django_tasks_db.DatabaseBackend"},
    "rq": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]},
    "immediate": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"},
}
TASKS = {"default": _task_backends[TASK_BACKEND]}
# A running import whose worker has not reported for this long is taken to be dead and is picked up again.
XUEJI_IMPORT_STALE_SECONDS = env_int("XUEJI_IMPORT_STALE_SECONDS", 120)
# Rows an import writes per transaction (each batch is committed whole, with its counters).
XUEJI_IMPORT_BATCH_SIZE = env_int("XUEJI_IMPORT_BATCH_SIZE", 1000)
REDIS_URL = env_str("XUEJI_REDIS_URL", "redis://127.0.0.1:6379/0")
# 新生名单 PDF: TrueType fonts embedded in the file, the first for all text, the others only for characters it
# lacks (WenQuanYi covers GB2312 and more; HanaMin A/B cover CJK Extension A-F, rare characters in names).
XUEJI_PDF_FONTS = env_list(
    "XUEJI_PDF_FONTS",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc,"
    "/usr/share/fonts/truetype/hanazono/HanaMinA.ttf,/usr/share/fonts/truetype/hanazono/HanaMinB.ttf",
)
if TASK_BACKEND == "rq":
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
    RQ_QUEUES = {"default": {"URL": REDIS_URL}}

# Every line carries its request id and user id and has ID numbers masked (xueji/ops/logs.py); XUEJI_LOG_FORMAT=json
# writes one JSON object per line for a log collector. xueji.request logs one line per request.
XUEJI_LOG_FORMAT = env_str("XUEJI_LOG_FORMAT", "text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "xueji.ops.logs.RequestContextFilter"}},
    "formatters": {
        "json": {"()": "xueji.ops.logs.JsonFormatter"},
        "text": {"()": "xueji.ops.logs.TextFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["context"],
            "formatter": "json" if XUEJI_LOG_FORMAT == "json" else "text",
        }
    },
    "root": {"handlers": ["console"], "level": env_str("XUEJI_LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}, "xueji.request": {"level": "INFO"}},
}

# Fewer, smaller uploads: the import template is at most a few MB; anything larger is refused early.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Operations (xueji/ops): worker heartbeats for `xueji doctor`; request ids, one log line per request and the
# security headers (CSP, no-store on authenticated responses) from one outermost middleware.
INSTALLED_APPS += ["xueji.ops"]
MIDDLEWARE.insert(0, "xueji.ops.middleware.OperationsMiddleware")
# Content-Security-Policy: scripts, styles and images from this site only (htmx is vendored; no inline script
# or style anywhere: behaviour lives in static/xueji/xueji.js). XUEJI_CSP overrides it.
XUEJI_CSP = env_str(
    "XUEJI_CSP",
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
)
# `xueji doctor`: a worker is alive when its heartbeat is this recent; a queued task waiting longer is a fault.
XUEJI_WORKER_SILENT_SECONDS = env_int("XUEJI_WORKER_SILENT_SECONDS", 180)
XUEJI_TASK_WAIT_SECONDS = env_int("XUEJI_TASK_WAIT_SECONDS", 600)
