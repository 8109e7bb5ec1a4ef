"""Sign-in (password, then the code of a second factor), sign-out, and account duties.

Sign-in is one page, ``/login``: it asks for the password, or for the TOTP
code when the password was right and the account has a second factor
(SECURITY A6). Keeping both steps on one endpoint keeps the public
allow-list at five endpoints (Z1). Every step starts a new session id (S1).

After sign-in, :func:`enforce_duties` sends a user who owes a password
change (A7, the MLPS rotation profile) or the set-up of a required second
factor (A6) to that page from every other page.
"""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for

from core import auth
from core.i18n import _
from core.models import User
from core.web.access import PUBLIC, requires
from core.web.redirects import safe_next
from core.web.sessions import end_session

bp = Blueprint("auth", __name__)

#: what a user who owes a duty may still reach: the duty's page, sign-out,
#: static files and the language switch
DUTY_PAGES = {"password": "account.password", "mfa": "account.mfa"}
ALWAYS_OPEN = frozenset({"auth.logout", "static", "home.set_locale"})


def _start_session(user: User, pending_mfa: bool) -> None:
    """A new session id at every sign-in step (SECURITY S1)."""
    locale = session.get("locale")
    session.clear()
    session.regenerate = True
    session["_user_id"] = user.id
    session["_epoch"] = user.session_epoch
    session["_ip"] = request.remote_addr
    session["_ua"] = (request.user_agent.string or "")[:255]
    if locale:
        session["locale"] = locale
    if pending_mfa:
        session["_pending_mfa"] = True


def _pending_user() -> User | None:
    """The user whose password was accepted and who still owes the code."""
    if not session.get("_pending_mfa"):
        return None
    user = User.get_or_none(User.id == session.get("_user_id"))
    return user if user is not None and user.is_active else None


def _refused_message() -> str:
    return _("Wrong username or password, or the account is locked for a while.")


@bp.route("/login", methods=["GET", "POST"])
@requires(PUBLIC)
def login():
    """The sign-in page; the same message for an unknown user and a wrong password (A9)."""
    next_url = safe_next(request.values.get("next"))
    if g.user is not None:
        return redirect(next_url)
    pending = _pending_user()
    if pending is not None:
        return _code_step(pending, next_url)
    error = None
    username = ""
    if request.method == "POST":
        username = request.form.get("username", "").strip()[:64]
        password = request.form.get("password", "")[:1024]
        result = auth.authenticate(username, password, request.remote_addr)
        if result.user is None:
            error = _refused_message()
        else:
            _start_session(result.user, pending_mfa=result.needs_code)
            if result.needs_code:
                return redirect(url_for("auth.login", next=next_url))
            return redirect(next_url)
    return render_template("auth/login.html", error=error, username=username,
                           next=next_url), (401 if error else 200)


def _code_step(user: User, next_url: str):
    """The TOTP step of sign-in (SECURITY A6)."""
    error = None
    if request.method == "POST":
        signed_in = auth.check_second_factor(user, request.form.get("code", "")[:32],
                                             request.remote_addr)
        if signed_in is not None:
            _start_session(signed_in, pending_mfa=False)
            return redirect(next_url)
        error = _("The code is wrong or was already used, or the account is locked for a "
                  "while. Enter the current code.")
    return render_template("auth/code.html", error=error, next=next_url), (401 if error else 200)


@bp.post("/logout")
@requires(PUBLIC)
def logout():
    """End the session on the server, so the old cookie is worthless (SECURITY S3).

    Public so that a half-finished sign-in (code still owed) can be abandoned.
    """
    user = g.user or _pending_user()
    if user is not None:
        auth.record_logout(user)
    end_session(session)
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.before_app_request
def enforce_duties():
    """Send a signed-in user who owes a duty to its page (SECURITY A6, A7).

    Runs after the shell has identified the user from the session. The API
    is left out: it ignores the session and admits bearer tokens only
    (:mod:`core.api.auth`), which a user creates on the pages, after the duty.
    """
    user = g.get("user")
    if user is None or request.endpoint in ALWAYS_OPEN or request.path.startswith("/api/"):
        return None
    duty = auth.pending_duty(user)
    if duty is None or request.endpoint == DUTY_PAGES[duty]:
        return None
    return redirect(url_for(DUTY_PAGES[duty]))
