"""Signing in and the account's security state: lock-out, second factor, passwords, sessions.

The lock-out state lives in the database (``core_user.failed_logins``,
``locked_until`` and ``core_login_failure``) so that every worker process
sees it (SECURITY A4). An unknown user and a wrong password take the same
path, including one argon2 verification (A9). Every outcome is an audit
event on the platform chain with the source IP (event header), the user
agent and the result (L1); passwords, codes and secrets never enter a
payload (L3).

Functions for the administration pages: :func:`unlock`, :func:`disable_user`,
:func:`end_sessions`, :func:`reset_mfa` and :func:`issue_initial_password`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools

from flask import current_app

from core.context import acting_as, current_actor
from core.models import AuthSession, LoginFailure, Membership, User
from core.records import audited
from core.security import passwords, totp
from core.storage import transaction, utcnow

#: roles that always need a second factor (SECURITY A6); leaders per site setting
MFA_ROLES = frozenset({"site_admin"})
#: a per-site setting (``core.mfa_for_leaders``, default on) adds leaders
LEADER_ROLE = "leader"


@functools.cache
def _hasher(profile: str):
    return passwords.make_hasher(profile)


def hasher():
    return _hasher(current_app.config["PASSWORD_HASH_PROFILE"])


def hash_password(password: str) -> str:
    return passwords.hash_password(hasher(), password)


def _event(action: str, user: User | None, *, result: str = "ok", as_user: bool = False,
           **detail) -> None:
    """Audit an authentication event with the user agent (SECURITY L1).

    ``as_user`` records ``user`` as the actor: at sign-in the request has no
    actor yet, but the person who proved the password is the one acting.
    Call inside :func:`transaction`.
    """
    actor = current_actor()
    payload = {**detail, "user_agent": actor.user_agent}
    if as_user and user is not None:
        with acting_as(dataclasses.replace(actor, user_id=user.id)):
            audited(action, user, site=None, payload=payload, result=result,
                    object_type_name="core_user")
    else:
        audited(action, user, site=None, payload=payload, result=result,
                object_type_name="core_user")


@dataclasses.dataclass(frozen=True)
class SignIn:
    """The outcome of a password check; ``user`` is None when refused.

    ``needs_code`` means the password was right and the TOTP step is owed.
    """

    user: User | None
    reason: str = "ok"  # ok, invalid, locked, ip_limited, inactive, expired
    needs_code: bool = False


def _ip_limited(ip: str | None, now: dt.datetime) -> bool:
    if not ip:
        return False
    window = now - dt.timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])
    count = LoginFailure.select().where(LoginFailure.ip == ip, LoginFailure.at > window).count()
    return count >= current_app.config["LOGIN_IP_MAX_FAILURES"]


def is_locked(user: User, now: dt.datetime | None = None) -> bool:
    """True while ``user`` is locked out (SECURITY A4)."""
    return user.locked_until is not None and user.locked_until > (now or utcnow())


def _fail(username: str, ip: str | None, reason: str, user: User | None = None,
          step: str = "password") -> SignIn:
    """Record one refused attempt; the fifth consecutive one locks the account (A4, A6).

    Runs in one write transaction, so two workers counting the same account
    serialise on the database (SQLite ``BEGIN IMMEDIATE``, a row update on
    PostgreSQL) and neither loses the other's count.
    """
    cfg = current_app.config
    with transaction():
        LoginFailure.create(username=username[:64], ip=ip)
        if user is not None and reason == "invalid":
            now = utcnow()
            # a lock that has run out starts a fresh count
            User.update(failed_logins=0, locked_until=None).where(
                User.id == user.id, User.locked_until <= now).execute()
            User.update(failed_logins=User.failed_logins + 1).where(User.id == user.id).execute()
            failures = User.select(User.failed_logins).where(User.id == user.id).scalar()
            if failures >= cfg["LOGIN_MAX_FAILURES"]:
                until = now + dt.timedelta(minutes=cfg["LOGIN_LOCK_MINUTES"])
                User.update(locked_until=until).where(User.id == user.id).execute()
                if failures == cfg["LOGIN_MAX_FAILURES"]:
                    _event("auth.lock", user, result="locked", failures=failures,
                           minutes=cfg["LOGIN_LOCK_MINUTES"])
        _event("auth.login", user, result="fail", username=username[:64], reason=reason,
               step=step)
    return SignIn(None, reason)


def authenticate(username: str, password: str, ip: str | None) -> SignIn:
    """Check a username and password; record and audit the outcome.

    When the user has a second factor the result says ``needs_code`` and the
    sign-in is finished by :func:`check_second_factor`; otherwise it is
    finished here (failure count reset, ``auth.login`` audited).
    """
    now = utcnow()
    if _ip_limited(ip, now):
        passwords.dummy_verify(hasher())
        return _fail(username, ip, "ip_limited")
    user = User.get_or_none(User.username == username)
    if user is None:
        passwords.dummy_verify(hasher())
        return _fail(username, ip, "invalid")
    if is_locked(user, now):
        passwords.dummy_verify(hasher())
        return _fail(username, ip, "locked", user)
    if not passwords.verify_password(hasher(), user.password_hash, password):
        return _fail(username, ip, "invalid", user)
    if not user.is_active:
        return _fail(username, ip, "inactive", user)
    if user.must_change_password and user.initial_password_expires_at is not None \
            and user.initial_password_expires_at <= now:
        return _fail(username, ip, "expired", user)
    if passwords.needs_rehash(hasher(), user.password_hash):
        with transaction():
            User.update(password_hash=hash_password(password)).where(
                User.id == user.id).execute()
    if user.totp_secret:
        with transaction():
            # the failure count is kept until the code is right as well, so that
            # re-entering a known password cannot reset the count of wrong codes
            _event("auth.password_ok", user, as_user=True)
        return SignIn(User.get_by_id(user.id), needs_code=True)
    return SignIn(_finish(user, "password"))


def _finish(user: User, factor: str) -> User:
    """A completed sign-in: reset the count, spend an initial password (A7), audit."""
    with transaction():
        changes = {"failed_logins": 0, "locked_until": None}
        if user.must_change_password:
            # an initial password works for this one sign-in: it is changed now
            # or an administrator issues a new one (ASVS 6.4.1)
            changes["initial_password_expires_at"] = utcnow()
        User.update(**changes).where(User.id == user.id).execute()
        _event("auth.login", user, as_user=True, factor=factor)
    return User.get_by_id(user.id)


def record_logout(user: User) -> None:
    """Audit a sign-out (SECURITY L1); the session itself is ended by the web layer."""
    with transaction():
        _event("auth.logout", user, as_user=True)


def check_second_factor(user: User, code: str, ip: str | None) -> User | None:
    """Finish a sign-in with a TOTP code (SECURITY A6); the user, or None when refused.

    A code is accepted once only, within its 30-second step ±1 step; a
    wrong, replayed or late code counts as a failure and five lock the
    account like wrong passwords (A4). A locked account is refused before the
    code is looked at.
    """
    user = User.get_by_id(user.id)
    if is_locked(user):
        return _fail(user.username, ip, "locked", user, step="totp").user
    if not user.totp_secret:
        return _fail(user.username, ip, "invalid", user, step="totp").user
    step = totp.verify_code(user.totp_secret, code, now=dt.datetime.now(dt.UTC),
                            last_used_step=user.totp_last_step)
    if step is None:
        return _fail(user.username, ip, "invalid", user, step="totp").user
    with transaction():
        # the condition makes a code that two requests race with count once
        claimed = (User.update(totp_last_step=step)
                   .where(User.id == user.id,
                          (User.totp_last_step.is_null()) | (User.totp_last_step < step))
                   .execute())
    if not claimed:
        return _fail(user.username, ip, "invalid", user, step="totp").user
    return _finish(user, "totp")


def mfa_required(user: User) -> bool:
    """Whether ``user`` must sign in with a second factor (SECURITY A6).

    Platform and site administrators always; leaders in every site whose
    setting ``core.mfa_for_leaders`` is on (the default).
    """
    if user.is_platform_admin:
        return True
    from core import settings

    rows = Membership.select(Membership.site, Membership.role).where(
        Membership.user == user, Membership.role.in_(MFA_ROLES | {LEADER_ROLE}))
    for row in rows:
        if row.role in MFA_ROLES:
            return True
        if settings.values(row.site_id, "core")["mfa_for_leaders"]:
            return True
    return False


def password_too_old(user: User, now: dt.datetime | None = None) -> bool:
    """True when ``PASSWORD_MAX_AGE_DAYS`` (0 = off, the ASVS default) has passed.

    The MLPS profile sets 90 (SECURITY §1.3); the user then has to choose a
    new password before anything else.
    """
    return passwords.password_expired(user.password_changed_at, now or utcnow(),
                                      current_app.config["PASSWORD_MAX_AGE_DAYS"])


def pending_duty(user: User) -> str | None:
    """What the signed-in user must do before anything else, if anything.

    ``"password"`` for an initial or too old password (A7, MLPS profile),
    then ``"mfa"`` when a second factor is required but not set up (A6).
    """
    if user.must_change_password or password_too_old(user):
        return "password"
    if not user.totp_secret and mfa_required(user):
        return "mfa"
    return None


def unlock(user: User) -> None:
    """Lift a lock-out (a site administrator's action, audited; SECURITY A4).

    The administration pages call this; the acting administrator is the
    current actor of the audit event.
    """
    with transaction():
        User.update(failed_logins=0, locked_until=None).where(User.id == user.id).execute()
        _event("auth.unlock", user)


def end_sessions(user: User) -> int:
    """End every session of ``user`` now (SECURITY S5); returns how many were open.

    The epoch bump makes any session row that a racing request recreates
    worthless as well.
    """
    with transaction():
        User.update(session_epoch=User.session_epoch + 1).where(User.id == user.id).execute()
        ended = AuthSession.delete().where(AuthSession.user == user).execute()
        _event("auth.sessions_end", user, sessions=ended)
    return ended


def disable_user(user: User) -> None:
    """Stop ``user`` from signing in and end their sessions on their next request (S5)."""
    with transaction():
        User.update(is_active=False, session_epoch=User.session_epoch + 1).where(
            User.id == user.id).execute()
        AuthSession.delete().where(AuthSession.user == user).execute()
        _event("auth.disable", user)


def enable_user(user: User) -> None:
    """Let a disabled user sign in again (audited)."""
    with transaction():
        User.update(is_active=True).where(User.id == user.id).execute()
        _event("auth.enable", user)


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
    """Store a new password and end the user's sessions (S5).

    The caller has checked the current password (A3, S7) and the policy; a
    page that wants to keep its own session re-issues it with the new epoch.
    """
    with transaction():
        User.update(password_hash=hash_password(password), password_changed_at=utcnow(),
                    must_change_password=False, initial_password_expires_at=None,
                    session_epoch=User.session_epoch + 1).where(User.id == user.id).execute()
        _event(action, user)


def issue_initial_password(user: User) -> str:
    """Give ``user`` a new initial password from ``secrets`` and return it (A7).

    It is valid for 72 hours and for one sign-in, after which the user must
    choose their own; the user's sessions end. For an administrator resetting
    a forgotten password (there are no security questions).
    """
    initial = passwords.generate_initial_password()
    expires = utcnow() + dt.timedelta(hours=passwords.INITIAL_PASSWORD_HOURS)
    with transaction():
        User.update(password_hash=hash_password(initial), password_changed_at=utcnow(),
                    must_change_password=True, initial_password_expires_at=expires,
                    failed_logins=0, locked_until=None,
                    session_epoch=User.session_epoch + 1).where(User.id == user.id).execute()
        _event("auth.password_reset", user, expires=expires)
    return initial


def enable_mfa(user: User, secret: str, step: int) -> None:
    """Store a confirmed TOTP secret (the code of ``step`` proved it) and end sessions (S5)."""
    with transaction():
        User.update(totp_secret=secret, totp_last_step=step,
                    session_epoch=User.session_epoch + 1).where(User.id == user.id).execute()
        _event("auth.mfa_enrol", user)


def reset_mfa(user: User) -> None:
    """Remove ``user``'s second factor (lost phone) and end their sessions (audited).

    If their role requires a second factor they must enrol again at their
    next sign-in.
    """
    with transaction():
        User.update(totp_secret=None, totp_last_step=None,
                    session_epoch=User.session_epoch + 1).where(User.id == user.id).execute()
        AuthSession.delete().where(AuthSession.user == user).execute()
        _event("auth.mfa_reset", user)
