"""An example ``instance/config.py``: copy it, keep the lines you change, ``chmod 600``.

Every key and its default is in ``core/app.py`` (``DEFAULTS``); these are the ones a
deployment usually sets.
"""

# PostgreSQL for several workers or hosts; the default is SQLite in this folder.
# DATABASE_URL = "postgresql://grassroots@127.0.0.1/grassroots"

# The address people use: links in notifications and password resets are built from it,
# never from the request's Host header (SECURITY F4).
BASE_URL = "https://jiceng.example.gov.cn"

# How many reverse proxies sit in front and set X-Forwarded-For / -Proto (0 = none).
PROXY_COUNT = 1

# Session limits (SECURITY S4; MLPS 8.1.4.1 b).
SESSION_IDLE_MINUTES = 30
SESSION_ABSOLUTE_HOURS = 12

# Sign-in lock-out (SECURITY A4): failures before a lock, and its length.
LOGIN_MAX_FAILURES = 5
LOGIN_LOCK_MINUTES = 15

# Password policy. The MLPS profile (SECURITY §1.3) is 3 classes and 90 days;
# the default follows ASVS: no composition rule, no forced rotation.
PASSWORD_MIN_LENGTH = 12
PASSWORD_CLASSES_REQUIRED = 0
PASSWORD_MAX_AGE_DAYS = 0

# The audit chain's hash: "sha256", or "sm3" where commercial cryptography is required.
AUDIT_HASH = "sha256"

# Load only these installed plugins (None loads every installed one).
# PLUGINS = ["meetings", "registry", "party"]
