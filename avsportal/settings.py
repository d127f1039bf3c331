"""One settings module, read from the environment (healthchecks.io style).

Embedded defaults run the demo with nothing installed: SQLite in var/, and a Celery
broker on the local filesystem. DATABASE_URL and REDIS_URL switch to PostgreSQL and Redis.
DEBUG defaults to off; production-only hardening applies whenever DEBUG is off.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("AVSPORTAL_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)  # SQLite, the demo broker and uploads live here


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from exc


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}") from exc


def env_secret(name: str, default: str | None = None) -> str | None:
    """A secret from NAME, or from the file named by NAME_FILE (docker secrets)."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text().strip()
    return os.environ.get(name, default)


DEBUG = env_bool("DEBUG", False)
_DEV_SECRET = "insecure-dev-key-only-for-DEBUG-runs-never-in-production-0123456789"
SECRET_KEY = env_secret("SECRET_KEY", _DEV_SECRET if DEBUG else None)
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY (or SECRET_KEY_FILE) must be set when DEBUG is off")
# Secrets stored in the database (vCenter/HCX/Azure passwords) are encrypted with this key.
# It defaults to one derived from SECRET_KEY; set it separately to rotate SECRET_KEY alone.
FIELD_ENCRYPTION_KEY = env_secret("FIELD_ENCRYPTION_KEY", None)

ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",") if h.strip()
]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]
# Proxies whose X-Forwarded-For and X-Forwarded-Proto are believed (addresses or networks, comma-separated;
# avsportal/asgi.py). Empty: none, the peer's address is the client's and its scheme the connection's.
TRUSTED_PROXIES = [p.strip() for p in os.environ.get("TRUSTED_PROXIES", "").split(",") if p.strip()]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_tables2",
    "django_htmx",
    "core",
    "inventory",
    "migrations_app",
    "hcx",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "core.error_pages.StyledNotFoundMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "core.content_security_policy.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "avsportal.urls"
WSGI_APPLICATION = "avsportal.wsgi.application"
ASGI_APPLICATION = "avsportal.asgi.application"

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
                "core.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'avsportal.sqlite3'}",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web server and worker write the same file: wait for the lock instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    # A transaction that reads and then writes (an approval, a reconciler cycle) takes the write lock
    # when it begins, so it waits for the other process instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
# Parallel test runs need distinct test databases (TEST_DB_NAME). On SQLite the test database
# is a file, not memory, so that a worker process in the tests sees it.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {
        "NAME": str(VAR_DIR / f"test-{os.environ.get('TEST_DB_NAME', 'avsportal')}.sqlite3")
    }
elif os.environ.get("TEST_DB_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": os.environ["TEST_DB_NAME"]}

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

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))

# Uploads: RVTools exports of a large estate run to tens of MB; anything bigger is refused.
MAX_UPLOAD_MB = env_int("MAX_UPLOAD_MB", 50)
# An upload no waiting or running job names is removed this long after it was stored (a job removes
# its own when it ends; this catches those whose worker died or that never ran).
UPLOAD_RETENTION_HOURS = env_float("UPLOAD_RETENTION_HOURS", 24.0)
# What an import job reads of an upload (README "Import limits"): a small file must not become a worker's
# whole memory or hours of CPU. Rows per sheet (RVTools) or per file (dependencies); 200,000 VMs is a very
# large estate, and Azure Migrate writes a row per connection and hour, hence more for dependencies.
IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 200_000)
DEPENDENCY_IMPORT_MAX_ROWS = env_int("DEPENDENCY_IMPORT_MAX_ROWS", 2_000_000)
# Bytes a zip (or .xlsx) may inflate to, counted while decompressing (a zip's headers can lie).
IMPORT_MAX_UNPACKED_MB = env_int("IMPORT_MAX_UNPACKED_MB", MAX_UPLOAD_MB * 20)
# openpyxl holds an .xlsx's shared strings (every distinct text) in memory for the whole read: their part
# may inflate to this much (a real export of a large estate has tens of MB).
IMPORT_MAX_SHARED_STRINGS_MB = env_int("IMPORT_MAX_SHARED_STRINGS_MB", 200)
# Reading stops at this many problems: the file is refused either way, and the list is for a person.
IMPORT_MAX_PROBLEMS = env_int("IMPORT_MAX_PROBLEMS", 300)
# An import checks every this many rows whether its job was cancelled.
IMPORT_CANCEL_CHECK_ROWS = env_int("IMPORT_CANCEL_CHECK_ROWS", 10_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Security: strict whenever DEBUG is off (`manage.py check --deploy` is clean) ---
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
CONTENT_SECURITY_POLICY = os.environ.get("CONTENT_SECURITY_POLICY") or (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # No SECURE_PROXY_SSL_HEADER: Django would take X-Forwarded-Proto from anyone. The scheme comes from the
    # ASGI scope, which avsportal/asgi.py sets from a trusted proxy's header only.
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    # Both bind more than this portal (every subdomain; the browsers' built-in list, slow to leave): opt in.
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    # `check --deploy` warns of what is off by choice: these two by default, the redirect when set off (a trial
    # on plain HTTP, or a proxy that redirects). Whatever is left on is still checked.
    SILENCED_SYSTEM_CHECKS = [
        check
        for check, off in (
            ("security.W005", not SECURE_HSTS_INCLUDE_SUBDOMAINS),
            ("security.W021", not SECURE_HSTS_PRELOAD),
            ("security.W008", not SECURE_SSL_REDIRECT),
        )
        if off
    ]

# --- Celery: Redis when REDIS_URL is set, else a broker on the local filesystem ---
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_BROKER_DIR = Path(os.environ.get("CELERY_BROKER_DIR", VAR_DIR / "broker"))
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {}
else:
    # No Redis for the demo: kombu's filesystem transport lets a real worker process
    # take tasks from the web server through a shared folder.
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_QUEUE", "avsportal")
CELERY_TASK_IGNORE_RESULT = True  # results live on Job rows, not in a result backend
CELERY_TASK_ACKS_LATE = True  # a killed worker's task is delivered again; tasks are idempotent
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A pool process is replaced after this many tasks, or once its resident memory passes this many KiB
# (checked after each task): memory a large job took goes back to the system instead of staying with
# the process (prefork pool only; the worker command lines say it again).
CELERY_WORKER_MAX_TASKS_PER_CHILD = env_int("CELERY_WORKER_MAX_TASKS_PER_CHILD", 50)
CELERY_WORKER_MAX_MEMORY_PER_CHILD = env_int("CELERY_WORKER_MAX_MEMORY_PER_CHILD", 1_000_000)  # KiB: ~1 GB

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "core.api.authentication.ThrottledBasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["core.access.ModelPermissions"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {"login": "10/min"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "AVS Portal API",
    "DESCRIPTION": "Inventory, waves and HCX migrations into Azure VMware Solution.",
    "VERSION": "0.1.0",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One name for the notification events, whichever field uses them.
    "ENUM_NAME_OVERRIDES": {
        "NotificationEventEnum": "core.choices.NotificationEvent",
        "WaveStatusEnum": "migrations_app.choices.WaveStatus",
        "VmMigrationStateEnum": "migrations_app.choices.MigrationState",
    },
}

DJANGO_TABLES2_TEMPLATE = "django_tables2/bootstrap5.html"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"no_permission_denied_traceback": {"()": "core.log_filters.NoPermissionDeniedTraceback"}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # A 403 is logged as one warning line, without the traceback Django attaches (core/log_filters.py).
        "django.request": {"filters": ["no_permission_denied_traceback"]},
    },
}

# Addresses the portal may call although they are refused by default (core/outbound.py): loopback,
# link-local and cloud metadata. Comma-separated CIDRs or host names, e.g. "127.0.0.0/8,::1".
OUTBOUND_ALLOW = [a.strip() for a in os.environ.get("OUTBOUND_ALLOW", "").split(",") if a.strip()]

# Objects per PropertyCollector page when discovering a vCenter (RetrievePropertiesEx maxObjects).
DISCOVERY_PAGE_SIZE = env_int("DISCOVERY_PAGE_SIZE", 500)

# --- The HCX set-up jobs (hcx/setup): how often they look at HCX and how long they wait ---
HCX_SETUP = {
    "POLL_SECONDS": float(os.environ.get("HCX_SETUP_POLL_SECONDS", "5")),
    "HTTP_TIMEOUT": float(os.environ.get("HCX_SETUP_HTTP_TIMEOUT", "30")),
    "RETRY_ATTEMPTS": env_int("HCX_SETUP_RETRY_ATTEMPTS", 4),
    "RETRY_BACKOFF": float(os.environ.get("HCX_SETUP_RETRY_BACKOFF", "2")),
    # Real seconds to wait for HCX's asynchronous work; the mesh and the AVS add-on take 20-45 min.
    "WAIT_SECONDS": {
        "default": env_int("HCX_SETUP_WAIT_SECONDS", 900),
        "avs_addon": env_int("HCX_SETUP_WAIT_ADDON_SECONDS", 3600),
        "service_mesh": env_int("HCX_SETUP_WAIT_MESH_SECONDS", 3600),
        "extension": env_int("HCX_SETUP_WAIT_EXTENSION_SECONDS", 1800),
    },
    # After registering vCenter/SSO the app engine restarts; then wait this long (Terraform waits 60 s),
    # and let logins retry HCX's "still starting" answer every STARTUP_RETRY_SECONDS for up to
    # STARTUP_WAIT_SECONDS (hcx-wire.md section 1).
    "APPENGINE_SETTLE_SECONDS": float(os.environ.get("HCX_SETUP_APPENGINE_SETTLE_SECONDS", "60")),
    "STARTUP_WAIT_SECONDS": float(os.environ.get("HCX_SETUP_STARTUP_WAIT_SECONDS", "180")),
    "STARTUP_RETRY_SECONDS": float(os.environ.get("HCX_SETUP_STARTUP_RETRY_SECONDS", "10")),
    # The AVS Tier-1 gateway extended networks attach to (TNT<nn>-T1). Empty: read from the AVS side.
    "EXTENSION_T1": os.environ.get("HCX_SETUP_EXTENSION_T1", ""),
}
# Logging in to HCX with the stored SSO user (hcx/setup/logins.py): vSphere SSO locks an account after
# a few failed logins, so after MAX_FAILURES in a row nothing logs in again until a new password is
# saved, and between failures the next try waits BACKOFF_SECONDS, doubled each time.
HCX_LOGIN = {
    "MAX_FAILURES": env_int("HCX_LOGIN_MAX_FAILURES", 3),
    "BACKOFF_SECONDS": float(os.environ.get("HCX_LOGIN_BACKOFF_SECONDS", "60")),
}
# Uploaded Connector OVAs live here; the deployment job reads OVAs from this folder only.
HCX_OVA_DIR = Path(os.environ.get("HCX_OVA_DIR", VAR_DIR / "ova"))
# The largest OVA an upload may bring (the HCX Connector OVA is a few GB); the upload stops there.
HCX_OVA_MAX_MB = env_int("HCX_OVA_MAX_MB", 8192)

# --- HCX limits (hcx-wire.md §10): settings with these defaults, not literals in code ---
HCX_LIMITS = {
    "MAX_REPLICATIONS_PER_MANAGER": env_int("HCX_MAX_REPLICATIONS_PER_MANAGER", 300),
    "MAX_REPLICATIONS_PER_MESH": env_int("HCX_MAX_REPLICATIONS_PER_MESH", 200),
    "MIGRATION_MBPS_MAX": env_int("HCX_MIGRATION_MBPS_MAX", 1000),
    "IX_APPLIANCE_MBPS_MAX": env_int("HCX_IX_APPLIANCE_MBPS_MAX", 1600),
    "NETWORKS_PER_NE_APPLIANCE": env_int("HCX_NETWORKS_PER_NE_APPLIANCE", 8),
    "MAX_SERVICE_MESHES": env_int("HCX_MAX_SERVICE_MESHES", 10),
    "MAX_SITE_PAIRS": env_int("HCX_MAX_SITE_PAIRS", 25),
    "BULK_DELTA_SYNC_HOURS": env_int("HCX_BULK_DELTA_SYNC_HOURS", 2),
    # Deployment-plan checks (hcx-wire.md §10, §11 and §12)
    "MIN_MBPS_VMOTION": env_int("HCX_MIN_MBPS_VMOTION", 100),
    "MIN_MBPS_COLD": env_int("HCX_MIN_MBPS_COLD", 100),
    "MIN_MBPS_RAV": env_int("HCX_MIN_MBPS_RAV", 150),
    # hcx-wire.md §10 gives no latency figure; 150 ms is vSphere's long-distance vMotion round-trip limit.
    "MAX_LATENCY_MS_VMOTION": env_int("HCX_MAX_LATENCY_MS_VMOTION", 150),
    "VPN_UPLINK_MTU_MAX": env_int("HCX_VPN_UPLINK_MTU_MAX", 1350),
    "MTU_MIN": env_int("HCX_MTU_MIN", 1280),
    "MTU_MAX": env_int("HCX_MTU_MAX", 9000),
    "AVS_MANAGEMENT_PREFIX": env_int("HCX_AVS_MANAGEMENT_PREFIX", 22),
    "MANAGER_MEDIUM_FROM_VMS": env_int("HCX_MANAGER_MEDIUM_FROM_VMS", 500),
    "MANAGER_LARGE_ABOVE_VMS": env_int("HCX_MANAGER_LARGE_ABOVE_VMS", 2000),
}

# --- Duration estimates (migrations_app/planner/estimates.py): ranges, low-high ---
# The share of the nominal throughput (link, HCX's per-migration and per-IX caps) migrations really
# get: protocol overhead, other traffic, storage. Replaced by measured figures once migrations completed.
# Switchover minutes are per VM: Bulk's run in parallel, vMotion, RAV and Cold ones one after another.
MIGRATION_ESTIMATES = {
    "EFFICIENCY_LOW_PCT": env_int("ESTIMATE_EFFICIENCY_LOW_PCT", 50),
    "EFFICIENCY_HIGH_PCT": env_int("ESTIMATE_EFFICIENCY_HIGH_PCT", 80),
    # IX appliances carrying a site's migrations (one per service mesh; HCX 4.8+ allows several).
    "IX_APPLIANCES": env_int("ESTIMATE_IX_APPLIANCES", 1),
    # Bulk: guest shutdown, last delta sync, power-on at the target.
    "BULK_SWITCHOVER_MINUTES": (
        env_int("ESTIMATE_BULK_SWITCHOVER_MIN_LOW", 5),
        env_int("ESTIMATE_BULK_SWITCHOVER_MIN_HIGH", 15),
    ),
    # RAV: last delta sync and the vMotion of memory and state, one VM at a time.
    "RAV_SWITCHOVER_MINUTES": (
        env_int("ESTIMATE_RAV_SWITCHOVER_MIN_LOW", 2),
        env_int("ESTIMATE_RAV_SWITCHOVER_MIN_HIGH", 10),
    ),
    # vMotion: the stun and cut-over after the VM's transfer, one VM at a time.
    "VMOTION_SWITCHOVER_MINUTES": (
        env_int("ESTIMATE_VMOTION_SWITCHOVER_MIN_LOW", 1),
        env_int("ESTIMATE_VMOTION_SWITCHOVER_MIN_HIGH", 3),
    ),
    # Cold: power-on at the target after the transfer (which is itself the outage).
    "COLD_SWITCHOVER_MINUTES": (
        env_int("ESTIMATE_COLD_SWITCHOVER_MIN_LOW", 1),
        env_int("ESTIMATE_COLD_SWITCHOVER_MIN_HIGH", 5),
    ),
    # Completed migrations needed before measured throughput replaces the efficiency above.
    "CALIBRATION_MIN_SAMPLES": env_int("ESTIMATE_CALIBRATION_MIN_SAMPLES", 5),
    # Copies smaller than this are not measured: their time is mostly a reconciler cycle and HCX's start.
    "CALIBRATION_MIN_SAMPLE_MIB": env_int("ESTIMATE_CALIBRATION_MIN_SAMPLE_MIB", 4096),
    # The assumed efficiency weighs as much as this many measured copies when the two are blended.
    "CALIBRATION_PRIOR_SAMPLES": env_int("ESTIMATE_CALIBRATION_PRIOR_SAMPLES", 10),
    # Measured copies for medium and for high confidence in an estimate (fewer: low).
    "CONFIDENCE_SAMPLES": (
        env_int("ESTIMATE_CONFIDENCE_MEDIUM_SAMPLES", 10),
        env_int("ESTIMATE_CONFIDENCE_HIGH_SAMPLES", 30),
    ),
}

# --- AVS target clusters: per-host figures and the sizing assumptions of the capacity fit ---
# Per host type: physical cores, RAM (GB) and the raw vSAN capacity tier (TB, SI units as the
# disk makers count: 1 TB = 10^12 bytes; the cache tier holds no data and is not counted).
# Source: Microsoft Learn, "What is Azure VMware Solution?", section "Hosts, clusters, and private
# clouds" (learn.microsoft.com/azure/azure-vmware/introduction; MicrosoftDocs/azure-docs
# articles/azure-vmware/introduction.md, ms.date 12/19/2025). AV64 is its first-generation (vSAN OSA)
# figure; a Gen 2 (ESA) AV64 has 19.25 TB.
AVS_HOST_TYPES = {
    "AV36": {"cores": 36, "memory_gb": 576, "vsan_raw_tb": 15.20},
    "AV36P": {"cores": 36, "memory_gb": 768, "vsan_raw_tb": 19.20},
    "AV52": {"cores": 52, "memory_gb": 1536, "vsan_raw_tb": 38.40},
    "AV64": {"cores": 64, "memory_gb": 1024, "vsan_raw_tb": 15.36},
}
# vCPUs planned per physical core (a common general-purpose consolidation ratio; 1 = no CPU overcommit).
AVS_VCPU_PER_CORE = float(os.environ.get("AVS_VCPU_PER_CORE", "4"))
# Memory planned per GB of host RAM: 1.0 = no memory overcommit (ballooning/swapping after a migration
# is not a plan).
AVS_MEMORY_OVERCOMMIT = float(os.environ.get("AVS_MEMORY_OVERCOMMIT", "1.0"))
# Share of the vSAN datastore kept free ("slack space" for rebuilds, host maintenance and policy
# changes; VMware recommends 25-30%).
AVS_VSAN_SLACK = float(os.environ.get("AVS_VSAN_SLACK", "0.25"))
# Hosts held back for vSphere HA: AVS configures every cluster for N+1 admission control.
AVS_HA_SPARE_HOSTS = env_int("AVS_HA_SPARE_HOSTS", 1)
# AVS clusters have 3 to 16 hosts (same Microsoft Learn page).
AVS_MAX_HOSTS_PER_CLUSTER = env_int("AVS_MAX_HOSTS_PER_CLUSTER", 16)

# --- Sign-in throttling (core/throttling.py): failures counted in the database, which every web worker
# shares, per account and per address; past either limit, sign-in is refused until the window has passed.
LOGIN_THROTTLE = {
    "PER_ACCOUNT": env_int("LOGIN_FAILURES_PER_ACCOUNT", 10),
    "PER_ADDRESS": env_int("LOGIN_FAILURES_PER_ADDRESS", 30),
    "WINDOW_SECONDS": env_int("LOGIN_FAILURES_WINDOW_SECONDS", 300),
}

# --- Dependency data and groups (migrations_app/dependencies) ---
DEPENDENCIES = {
    # A dependency export of a large estate over 30 days runs to a million rows (~200 MB of CSV).
    "MAX_UPLOAD_MB": env_int("DEPENDENCY_MAX_UPLOAD_MB", 300),
    # What an uploaded .xlsx may inflate to (counted while decompressing): an .xlsx is ~5 times its CSV, and
    # rows are streamed, so this bounds the time spent, not memory.
    "MAX_UNPACKED_MB": env_int(
        "DEPENDENCY_IMPORT_MAX_UNPACKED_MB", env_int("DEPENDENCY_MAX_UPLOAD_MB", 300) * 20
    ),
    # Infrastructure services every server talks to (DNS, Kerberos, NTP, LDAP, LDAPS, global
    # catalog): left out of suggested move groups, or DNS and AD glue the estate into one group.
    "INFRASTRUCTURE_PORTS": [
        int(p)
        for p in os.environ.get("DEPENDENCY_INFRASTRUCTURE_PORTS", "53,88,123,389,636,3268,3269").split(",")
        if p.strip()
    ],
    # Connections seen fewer times than this are ignored by the suggestions (noise, one-off scans).
    "SUGGESTION_MIN_SEEN": env_int("DEPENDENCY_SUGGESTION_MIN_SEEN", 1),
    # The browser graph of the estate stops here; filter by group to see the rest.
    "GRAPH_MAX_NODES": env_int("DEPENDENCY_GRAPH_MAX_NODES", 300),
}
# The largest request body of any page or API call (avsportal/body_limit.py), refused before Django reads
# it: by default the largest upload above. The OVA upload has HCX_OVA_MAX_MB instead.
REQUEST_MAX_MB = env_int("REQUEST_MAX_MB", max(MAX_UPLOAD_MB, DEPENDENCIES["MAX_UPLOAD_MB"]))

# --- Readiness rules (migrations_app/readiness/rules.py, product.md §5): limits as settings ---
READINESS = {
    # Lowest VM hardware version each migration type takes (hcx-wire.md §11.2-11.4: Bulk >= 7; vMotion,
    # Cold and RAV >= 9).
    "MIN_HW_VERSION": {
        "bulk": env_int("READINESS_MIN_HW_BULK", 7),
        "vmotion": env_int("READINESS_MIN_HW_VMOTION", 9),
        "cold": env_int("READINESS_MIN_HW_COLD", 9),
        "rav": env_int("READINESS_MIN_HW_RAV", 9),
    },
    # A VM with more provisioned storage than this (TB, 1 TB = 1024 GiB) gets a "very large VM" warning.
    "LARGE_VM_TB": float(os.environ.get("READINESS_LARGE_VM_TB", "10")),
    # CPU vendors of the AVS hosts: a VM on a source host of another vendor can only cold-migrate.
    "TARGET_CPU_VENDORS": [
        v.strip().lower()
        for v in os.environ.get("READINESS_TARGET_CPU_VENDORS", "intel").split(",")
        if v.strip()
    ],
}

# Launching and watching migrations (migrations_app/launch/).
LAUNCH = {
    # How often the reconciler reads HCX (Celery beat). A change in HCX reaches a browser within
    # this plus the cycle; without Redis, plus STREAM_POLL_SECONDS (core/live/wakeup.py).
    "RECONCILE_SECONDS": env_float("LAUNCH_RECONCILE_SECONDS", 1.0),
    # One reconciler per site at a time: the lease a cycle takes, freed when it ends; a killed
    # worker's lease runs out after this.
    "LEASE_SECONDS": env_int("LAUNCH_LEASE_SECONDS", 30),
    # How often a live page's stream looks for changes, and how far back it looks again so that a
    # row committed late (its `updated` older than the last look) is still sent. With Redis a stream
    # also looks when woken (core/live/wakeup.py), so its own looks only back that up; without Redis
    # they are all it has, and come twice as often.
    "STREAM_POLL_SECONDS": env_float("LAUNCH_STREAM_POLL_SECONDS", 0.5 if REDIS_URL else 0.25),
    "STREAM_OVERLAP_SECONDS": 5,
    # Open streams are bounded (core/live/slots.py): a user (per server process) and a server
    # process each hold at most this many; more are refused with 429 and the page polls instead.
    "STREAMS_PER_USER": env_int("LAUNCH_STREAMS_PER_USER", 6),
    "STREAMS_PER_PROCESS": env_int("LAUNCH_STREAMS_PER_PROCESS", 200),
    # All the streams of a process read the database through this many threads (core/live/readers.py),
    # so they hold at most this many connections whatever their number; a reader idle for
    # STREAM_READER_IDLE_SECONDS closes its connection.
    "STREAM_READERS": env_int("LAUNCH_STREAM_READERS", 2),
    "STREAM_READER_IDLE_SECONDS": env_float("LAUNCH_STREAM_READER_IDLE_SECONDS", 5.0),
    # A running migration is lagging when its elapsed time exceeds the high end of its estimate by this factor.
    "LAG_FACTOR": 1.25,
    # Bulk and RAV keep a Seed Checkpoint, so a retry reuses what was copied (hcx-wire.md §9.3).
    "SEED_CHECKPOINT": True,
}
# Background jobs (core/jobs.py): how often the beat looks for a job whose worker died or whose
# message was lost, and how long a job may stay PENDING before it is sent again.
JOBS = {
    "RECOVER_SECONDS": env_float("JOBS_RECOVER_SECONDS", 60.0),
    "RESEND_PENDING_SECONDS": env_int("JOBS_RESEND_PENDING_SECONDS", 300),
    # Seconds a job of each kind may run (core/job_registry.py time_limits): at the soft limit the job stops
    # with a message and writes nothing; HARD_GRACE_SECONDS later its process is killed whatever it does.
    "TIME_LIMITS": {
        "inventory.import_rvtools": env_int("JOB_TIME_LIMIT_IMPORT_SECONDS", 1800),
        "migrations_app.import_dependencies": env_int("JOB_TIME_LIMIT_IMPORT_SECONDS", 1800),
        "inventory.discover_vcenter": env_int("JOB_TIME_LIMIT_DISCOVERY_SECONDS", 3 * 3600),
        "hcx.deploy_connector": env_int("JOB_TIME_LIMIT_DEPLOYMENT_SECONDS", 6 * 3600),
    },
    "HARD_GRACE_SECONDS": env_int("JOB_TIME_LIMIT_GRACE_SECONDS", 60),
}

CELERY_BEAT_SCHEDULE = {
    "reconcile-migrations": {"task": "migrations_app.reconcile", "schedule": LAUNCH["RECONCILE_SECONDS"]},
    "recover-jobs": {"task": "core.recover_jobs", "schedule": JOBS["RECOVER_SECONDS"]},
    "remove-stale-uploads": {"task": "inventory.remove_stale_uploads", "schedule": 3600.0},
}

# --- Email and notifications (core/notifications) ---
# SMTP once EMAIL_HOST is set; without it the demo prints mail on the worker's console.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND") or (
    "django.core.mail.backends.smtp.EmailBackend"
    if os.environ.get("EMAIL_HOST")
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD", "") or ""
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))  # the filebased backend's folder
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "AVS Portal <avsportal@localhost>")
NOTIFICATIONS = {
    # Tries per message; the wait before retry n is RETRY_SECONDS * 2^(n-1), at most RETRY_MAX_SECONDS.
    "MAX_ATTEMPTS": env_int("NOTIFY_MAX_ATTEMPTS", 5),
    "RETRY_SECONDS": env_float("NOTIFY_RETRY_SECONDS", 30),
    "RETRY_MAX_SECONDS": env_float("NOTIFY_RETRY_MAX_SECONDS", 3600),
    # A worker that takes a message holds it this long: killed mid-send, the message is retried after it.
    "CLAIM_SECONDS": env_int("NOTIFY_CLAIM_SECONDS", 300),
    # The sweep sends what is due (a broker that was down, a lost task) this often, this many per run.
    "SWEEP_SECONDS": env_float("NOTIFY_SWEEP_SECONDS", 60),
    "SWEEP_BATCH": env_int("NOTIFY_SWEEP_BATCH", 500),
    "WEBHOOK_TIMEOUT": env_float("NOTIFY_WEBHOOK_TIMEOUT", 10),
    # CA bundle for webhook TLS; empty: the system's (REQUESTS_CA_BUNDLE when set).
    "WEBHOOK_CA_BUNDLE": os.environ.get("NOTIFY_WEBHOOK_CA_BUNDLE", ""),
    # The portal's address as people reach it, for links in messages (https://avs.example.com).
    "SITE_URL": os.environ.get("SITE_URL", "").rstrip("/"),
}
if NOTIFICATIONS["CLAIM_SECONDS"] <= max(NOTIFICATIONS["WEBHOOK_TIMEOUT"], EMAIL_TIMEOUT):
    raise ImproperlyConfigured("NOTIFY_CLAIM_SECONDS must exceed NOTIFY_WEBHOOK_TIMEOUT and EMAIL_TIMEOUT")
CELERY_BEAT_SCHEDULE["send-due-notifications"] = {
    "task": "core.notifications.sweep",
    "schedule": NOTIFICATIONS["SWEEP_SECONDS"],
}
# urllib3 logs request paths at DEBUG; a webhook's path is its secret.
LOGGING["loggers"]["urllib3"] = {"level": "INFO"}
