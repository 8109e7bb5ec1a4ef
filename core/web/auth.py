"""Sign-in, second factor and sign-out pages."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for

from core import auth
from core.i18n import _
from core.models import User
from core.records import audited
from core.storage import transaction
from core.web.access import PUBLIC, requires
from core.web.redirects import safe_next
from core.web.sessions import end_session

bp = Blueprint("auth", __name__)


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


@bp.route("/login", methods=["GET", "POST"])
@requires(PUBLIC)
def login():
    """The sign-in form; the same message for an unknown user and a wrong password."""
    next_url = safe_next(request.values.get("next"))
    if g.user is not None:
        return redirect(next_url)
    error = None
    username = ""
    if request.method == "POST":
        username = request.form.get("username", "").strip()[:64]
        password = request.form.get("password", "")[:1024]
        result = auth.authenticate(username, password, request.remote_addr)
        if result.user is None:
            error = _("Wrong username or password, or the account is locked for a while.")
        else:
            user = result.user
            _start_session(user, pending_mfa=bool(user.totp_secret))
            if user.totp_secret:
                return redirect(url_for("auth.second_factor", next=next_url))
            return redirect(next_url)
    return render_template("auth/login.html", error=error, username=username,
                           next=next_url), (401 if error else 200)


@bp.route("/login/code", methods=["GET", "POST"])
@requires(PUBLIC)
def second_factor():
    """The TOTP step of sign-in (SECURITY A6)."""
    next_url = safe_next(request.values.get("next"))
    user_id = session.get("_user_id")
    if not user_id or not session.get("_pending_mfa"):
        return redirect(url_for("auth.login"))
    user = User.get_by_id(user_id)
    error = None
    if request.method == "POST":
        if auth.check_second_factor(user, request.form.get("code", "")):
            _start_session(user, pending_mfa=False)
            return redirect(next_url)
        error = _("The code is wrong or was already used. Enter the current code.")
    return render_template("auth/code.html", error=error, next=next_url), (401 if error else 200)


@bp.post("/logout")
@requires(PUBLIC)
def logout():
    """End the session on the server, so the old cookie is worthless (SECURITY S3)."""
    if g.user is not None:
        with transaction():
            audited("auth.logout", g.user, site=None)
    end_session(session)
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))
