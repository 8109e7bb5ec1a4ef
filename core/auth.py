"""Signing in: password checks, lock-out, second factor, password changes.

The lock-out state lives in the database (``core_user.failed_logins``,
``locked_until`` and ``core_login_failure``) so that every worker process
sees it (SECURITY A4). An unknown user and a wrong password take the same
path, including one argon2 verification (A9).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools

from flask import current_app

from core.models import LoginFailure, Membership, User
from core.records import audited
from core.security import passwords, totp
from core.storage import transaction, utcnow

#: roles that must use a second factor (SECURITY A6)
MFA_ROLES = frozenset({"site_admin", "leader"})


@functools.cache
def _hasher(profile: str):
    return passwords.make_hasher(profile)


def hasher():
    return _hasher(current_app.config["PASSWORD_HASH_PROFILE"])


def hash_password(password: str) -> str:
    return passwords.hash_password(hasher(), password)


@dataclasses.dataclass(frozen=True)
class SignIn:
    """The outcome of a password check; ``user`` is None when refused."""

    user: User | None
    reason: str = "ok"  # ok, invalid, locked, ip_limited, inactive, expired


def _ip_limited(ip: str | None, now: dt.datetime) -> bool:
    if not ip:
        return False
    window = now - dt.timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])
    count = LoginFailure.select().where(LoginFailure.ip == ip, LoginFailure.at > window).count()
    return count >= current_app.config["LOGIN_IP_MAX_FAILURES"]


def _fail(username: str, ip: str | None, reason: str, user: User | None = None) -> SignIn:
    with transaction():
        LoginFailure.create(username=username[:64], ip=ip)
        if user is not None and reason == "invalid":
            User.update(failed_logins=User.failed_logins + 1).where(User.id == user.id).execute()
            failures = User.select(User.failed_logins).where(User.id == user.id).scalar()
            if failures >= current_app.config["LOGIN_MAX_FAILURES"]:
                until = utcnow() + dt.timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])
                User.update(locked_until=until).where(User.id == user.id).execute()
                audited("auth.lock", user, site=None, payload={"failures": failures},
                        result="locked")
        audited("auth.login", user, site=None, object_type_name="core_user",
                payload={"username": username[:64], "reason": reason}, result="fail")
    return SignIn(None, reason)


def authenticate(username: str, password: str, ip: str | None) -> SignIn:
    """Check a username and password; record and audit the outcome."""
    now = utcnow()
    if _ip_limited(ip, now):
        passwords.dummy_verify(hasher())
        return _fail(username, ip, "ip_limited")
    user = User.get_or_none(User.username == username)
    if user is None:
        passwords.dummy_verify(hasher())
        return _fail(username, ip, "invalid")
    if user.locked_until is not None and user.locked_until > now:
        passwords.dummy_verify(hasher())
        return _fail(username, ip, "locked", user)
    if not passwords.verify_password(hasher(), user.password_hash, password):
        return _fail(username, ip, "invalid", user)
    if not user.is_active:
        return _fail(username, ip, "inactive", user)
    if user.must_change_password and user.initial_password_expires_at is not None \
            and user.initial_password_expires_at < now:
        return _fail(username, ip, "expired", user)
    with transaction():
        changes = {"failed_logins": 0, "locked_until": None}
        if passwords.needs_rehash(hasher(), user.password_hash):
            changes["password_hash"] = hash_password(password)
        User.update(**changes).where(User.id == user.id).execute()
        audited("auth.password_ok", user, site=None)
    return SignIn(User.get_by_id(user.id))


def mfa_required(user: User) -> bool:
    """Platform and site administrators and leaders need a second factor (A6)."""
    if user.is_platform_admin:
        return True
    return Membership.select().where(Membership.user == user,
                                     Membership.role.in_(MFA_ROLES)).exists()


def check_second_factor(user: User, code: str) -> bool:
    """Accept a TOTP code once within its step; five failures lock like passwords."""
    step = totp.verify_code(user.totp_secret or "", code, now=dt.datetime.now(dt.UTC),
                            last_used_step=user.totp_last_step) if user.totp_secret else None
    if step is None:
        _fail(user.username, None, "invalid", user)
        return False
    with transaction():
        updated = (User.update(totp_last_step=step, failed_logins=0)
                   .where(User.id == user.id,
                          (User.totp_last_step.is_null()) | (User.totp_last_step < step))
                   .execute())
        if not updated:
            return False
        audited("auth.mfa_ok", user, site=None)
    return True


def unlock(user: User) -> None:
    """Lift a lock-out (a site administrator's action, audited)."""
    with transaction():
        User.update(failed_logins=0, locked_until=None).where(User.id == user.id).execute()
        audited("auth.unlock", user, site=None)


def policy_violations(password: str, user: User | None = None, extra_words=()) -> list:
    """Password policy with the deployment's limits and the context words (A1, A2)."""
    cfg = current_app.config
    from core.models import ROLES, Site
    from core.textfold import search_keys

    words = {*ROLES, "admin", "administrator", *extra_words}
    if user is not None:
        words |= {user.username, *search_keys(user.display_name).split()}
    for (name,) in Site.select(Site.name).limit(500).tuples():
        words |= set(search_keys(name).split())
    return passwords.check_password(password, min_length=cfg["PASSWORD_MIN_LENGTH"],
                                    classes_required=cfg["PASSWORD_CLASSES_REQUIRED"],
                                    context_words=sorted(words))


def set_password(user: User, password: str, *, action: str = "auth.password_change") -> None:
    """Store a new password and end the user's other sessions (S5)."""
    with transaction():
        User.update(password_hash=hash_password(password), password_changed_at=utcnow(),
                    must_change_password=False, initial_password_expires_at=None,
                    session_epoch=User.session_epoch + 1).where(User.id == user.id).execute()
        audited(action, user, site=None)
