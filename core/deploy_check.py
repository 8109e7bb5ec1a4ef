"""What a production start refuses (SECURITY A5, D5; ASVS 6.3.2, 13.3.1, 13.4.2).

:func:`problems` lists every reason not to serve this instance, one line
each; ``grassroots check --deploy`` prints them and ``grassroots run`` (without
``--demo``) will not start while there is any.
"""

from __future__ import annotations

import stat
from pathlib import Path

from flask import Flask

from core.models import User
from core.storage import utcnow

#: Django's W009 rule for a secret key
SECRET_KEY_MIN_LENGTH = 50
SECRET_KEY_MIN_DISTINCT = 5
#: the argon2id parameters ASVS 11.4.2 asks for (``core.security.passwords``)
PRODUCTION_HASHING = "production"


def _secret_key_problems(key) -> list[str]:
    if not key:
        return ["SECRET_KEY is not set (run `grassroots init`)"]
    if len(key) < SECRET_KEY_MIN_LENGTH:
        return [f"SECRET_KEY has {len(key)} characters; it needs at least "
                f"{SECRET_KEY_MIN_LENGTH}"]
    if len(set(key)) < SECRET_KEY_MIN_DISTINCT:
        return [f"SECRET_KEY has {len(set(key))} distinct characters; it needs at least "
                f"{SECRET_KEY_MIN_DISTINCT}"]
    return []


def _file_problems(app: Flask) -> list[str]:
    """The audit key must exist; every secret file must be readable by its owner only."""
    out = []
    audit_key = Path(app.config["AUDIT_KEY_FILE"])
    if not audit_key.is_file():
        out.append(f"the audit key {audit_key} is missing (run `grassroots init`)")
    instance = Path(app.instance_path)
    for path in (audit_key, instance / "secret.key", instance / "config.py"):
        if path.is_file():
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode & 0o077:
                out.append(f"{path} has mode {mode:04o}; secrets need 0600 "
                           f"(chmod 600 {path})")
    return out


def _account_problems() -> list[str]:
    """Demo accounts and initial passwords that could still sign in (A5)."""
    out = []
    for user in User.select().where(User.is_demo == True).order_by(User.username):  # noqa: E712
        out.append(f"demo account {user.username!r} exists; delete it or run the demo on "
                   "its own instance")
    now = utcnow()
    initial = User.select().where(
        User.must_change_password == True, User.is_active == True,  # noqa: E712
        User.initial_password_expires_at.is_null() | (User.initial_password_expires_at > now))
    for user in initial.order_by(User.username):
        out.append(f"user {user.username!r} has an unused initial password; they sign in "
                   "and change it, or it runs out after 72 hours")
    return out


def problems(app: Flask) -> list[str]:
    """Every reason not to start ``app`` in production; empty when it may start."""
    cfg = app.config
    out = []
    if app.debug or cfg.get("DEBUG"):
        out.append("DEBUG is on; it shows tracebacks and runs code typed into the browser")
    out += _secret_key_problems(cfg.get("SECRET_KEY"))
    if not cfg["SESSION_COOKIE_SECURE"]:
        out.append("SESSION_COOKIE_SECURE is off; session cookies would travel without TLS")
    if not str(cfg.get("BASE_URL") or "").startswith("https://"):
        out.append(f"BASE_URL is {cfg.get('BASE_URL')!r}; links sent to people (notifications, "
                   "reset links) need the public https:// address")
    if cfg["PASSWORD_HASH_PROFILE"] != PRODUCTION_HASHING:
        out.append(f"PASSWORD_HASH_PROFILE is {cfg['PASSWORD_HASH_PROFILE']!r}; production "
                   "needs 'production' (argon2id m=64 MiB, t=3, p=4)")
    out += _file_problems(app)
    out += _account_problems()
    return out
