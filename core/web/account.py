"""The signed-in user's own account: password and second factor.

Both changes ask for the current password again (SECURITY S7), are audited
(L1), and end the user's other sessions while this one continues under a
new session id (S5).
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for

from core import auth
from core.i18n import _
from core.models import User
from core.security import passwords, totp
from core.web.access import AUTHENTICATED, requires
from core.web.messages import password_messages

bp = Blueprint("account", __name__, url_prefix="/account")


def _refresh_session(user: User) -> None:
    """Keep this session alive after the user's epoch moved (others end, S5)."""
    session.regenerate = True
    session["_epoch"] = User.get_by_id(user.id).session_epoch


@bp.get("/")
@requires(AUTHENTICATED)
def index():
    """The account overview."""
    return render_template("account/index.html", mfa_required=auth.mfa_required(g.user))


@bp.route("/password", methods=["GET", "POST"])
@requires(AUTHENTICATED)
def password():
    """Change the password: needs the current one (SECURITY A3, S7)."""
    errors = {}
    if request.method == "POST":
        current = request.form.get("current_password", "")[:1024]
        new = request.form.get("new_password", "")[:1024]
        confirm = request.form.get("confirm_password", "")[:1024]
        if not passwords.verify_password(auth.hasher(), g.user.password_hash, current):
            errors["current_password"] = [_("The current password is wrong.")]
        problems = auth.policy_violations(new, g.user)
        if problems:
            errors["new_password"] = password_messages(problems)
        elif new != confirm:
            errors["confirm_password"] = [_("The two new passwords differ.")]
        elif new == current:
            errors["new_password"] = [_("The new password must differ from the current one.")]
        if not errors:
            auth.set_password(g.user, new)
            _refresh_session(g.user)
            flash(_("Your password has been changed. Other sessions have ended."), "success")
            return redirect(url_for("account.index"))
    expired = g.user.must_change_password or auth.password_too_old(g.user)
    return render_template("account/password.html", errors=errors, expired=expired), (
        422 if errors else 200)


@bp.route("/mfa", methods=["GET", "POST"])
@requires(AUTHENTICATED)
def mfa():
    """Enrol an authenticator app: scan, then confirm with a code and the password (S7)."""
    errors = {}
    secret = session.get("_totp_candidate")
    if secret is None:
        secret = totp.new_secret()
        session["_totp_candidate"] = secret
    if request.method == "POST":
        if not passwords.verify_password(auth.hasher(), g.user.password_hash,
                                         request.form.get("password", "")[:1024]):
            errors["password"] = [_("The password is wrong.")]
        step = totp.verify_code(secret, request.form.get("code", "")[:32],
                                now=dt.datetime.now(dt.UTC), last_used_step=None)
        if step is None:
            errors["code"] = [_("The code does not match. Enter the code the app shows now.")]
        if not errors:
            auth.enable_mfa(g.user, secret, step)
            session.pop("_totp_candidate", None)
            _refresh_session(g.user)
            flash(_("The second factor is on. You will need a code at every sign-in."),
                  "success")
            return redirect(url_for("account.index"))
    uri = totp.provisioning_uri(secret, g.user.username)
    return render_template("account/mfa.html", errors=errors, secret=secret,
                           required=auth.mfa_required(g.user) and not g.user.totp_secret,
                           qr=totp.qr_svg(uri)), (422 if errors else 200)
