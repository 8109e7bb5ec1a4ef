"""Server-side sessions, so that logout and disabling a user really end access.

Flask's default session is a signed cookie that stays valid after logout
(flask-login#480, SECURITY S3). Here the cookie holds a random 256-bit token
and the table ``core_session`` holds only its SHA-256 (S2). A session ends
when its row is deleted, after ``SESSION_IDLE_MINUTES`` without a request or
``SESSION_ABSOLUTE_HOURS`` after login (S4), or when the user's
``session_epoch`` moves past the session's (S5).
"""

from __future__ import annotations

import datetime as dt
import json

from flask.sessions import SessionInterface, SessionMixin
from peewee import JOIN
from werkzeug.datastructures import CallbackDict

from core.models import AuthSession, User
from core.security.tokens import new_token, token_digest
from core.storage import utcnow

#: don't rewrite ``last_seen_at`` on every request; idle checks tolerate this much
TOUCH_EVERY = dt.timedelta(seconds=60)


class ServerSession(CallbackDict, SessionMixin):
    """The session dict of one request, backed by one ``core_session`` row."""

    def __init__(self, initial=None, token=None, row=None):
        def on_update(session):
            session.modified = True

        super().__init__(initial or {}, on_update)
        self.token = token
        self.row = row
        self.modified = False
        self.regenerate = False
        self.ended = False

    @property
    def user_id(self) -> int | None:
        return self.row.user_id if self.row is not None else None

    @property
    def user(self) -> User | None:
        """The signed-in user as loaded with the session row (None for a new session)."""
        if self.row is None or self.row.user_id is None or self.regenerate:
            return None
        return self.row.user


def cookie_name(app) -> str:
    return "__Host-gr_session" if app.config["SESSION_COOKIE_SECURE"] else "gr_session"


def _expired(app, row: AuthSession, now: dt.datetime) -> bool:
    idle = dt.timedelta(minutes=app.config["SESSION_IDLE_MINUTES"])
    absolute = dt.timedelta(hours=app.config["SESSION_ABSOLUTE_HOURS"])
    return now - row.last_seen_at > idle or now - row.created_at > absolute


class ServerSessionInterface(SessionInterface):
    """Loads and stores sessions in ``core_session``."""

    def open_session(self, app, request):
        token = request.cookies.get(cookie_name(app))
        if not token or len(token) > 100:
            return ServerSession()
        row = (AuthSession.select(AuthSession, User)
               .join(User, JOIN.LEFT_OUTER, on=(AuthSession.user == User.id))
               .where(AuthSession.token_hash == token_digest(token)).first())
        if row is None:
            return ServerSession()
        now = utcnow()
        if _expired(app, row, now) or (row.user_id is not None and not _user_current(row)):
            AuthSession.delete().where(AuthSession.token_hash == row.token_hash).execute()
            session = ServerSession()
            session.ended = True
            return session
        if now - row.last_seen_at > TOUCH_EVERY:
            AuthSession.update(last_seen_at=now).where(
                AuthSession.token_hash == row.token_hash).execute()
        return ServerSession(json.loads(row.data), token=token, row=row)

    def save_session(self, app, session: ServerSession, response):
        name = cookie_name(app)
        secure = app.config["SESSION_COOKIE_SECURE"]
        if session.ended and session.row is None and not session:
            response.delete_cookie(name, path="/", secure=secure, httponly=True, samesite="Lax")
            return
        if not session.modified and not session.regenerate:
            return
        data = json.dumps(dict(session), ensure_ascii=False)
        if session.row is None or session.regenerate:
            if session.row is not None:
                AuthSession.delete().where(
                    AuthSession.token_hash == session.row.token_hash).execute()
            token = new_token()
            session.row = AuthSession.create(
                token_hash=token_digest(token), user=session.get("_user_id"),
                epoch=session.get("_epoch", 0), data=data, site_id=session.get("site_id"),
                pending_mfa=bool(session.get("_pending_mfa")),
                ip=(session.get("_ip") or "")[:64] or None,
                user_agent=(session.get("_ua") or "")[:255] or None)
            session.token = token
            response.set_cookie(name, token, path="/", secure=secure, httponly=True,
                                samesite="Lax")
        else:
            AuthSession.update(data=data, site_id=session.get("site_id"),
                               pending_mfa=bool(session.get("_pending_mfa"))).where(
                AuthSession.token_hash == session.row.token_hash).execute()
        response.vary.add("Cookie")


def _user_current(row: AuthSession) -> bool:
    """The session's user (loaded with the row) is active and still at its epoch."""
    user = row.user
    return user is not None and user.is_active and user.session_epoch == row.epoch


def end_session(session: ServerSession) -> None:
    """Delete the session row now (logout)."""
    if session.row is not None:
        AuthSession.delete().where(AuthSession.token_hash == session.row.token_hash).execute()
    session.clear()
    session.row = None
    session.ended = True
    session.modified = False


def end_user_sessions(user: User, keep: ServerSession | None = None) -> int:
    """End every session of ``user`` except ``keep``; returns how many ended."""
    query = AuthSession.delete().where(AuthSession.user == user)
    if keep is not None and keep.row is not None:
        query = query.where(AuthSession.token_hash != keep.row.token_hash)
    return query.execute()


def purge_expired(app) -> int:
    """Delete sessions past their idle or absolute limit."""
    now = utcnow()
    idle = now - dt.timedelta(minutes=app.config["SESSION_IDLE_MINUTES"])
    absolute = now - dt.timedelta(hours=app.config["SESSION_ABSOLUTE_HOURS"])
    return AuthSession.delete().where(
        (AuthSession.last_seen_at < idle) | (AuthSession.created_at < absolute)).execute()
