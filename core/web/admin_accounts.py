"""Account-wide actions on a member of the current site: lock, sessions, password, MFA.

Disabling ends the account's sessions (SECURITY S5); a lock-out after failed
sign-ins is lifted here (A4); a forgotten password is replaced by an initial
one shown once (A7). These change the account in every site, so a site
administrator may take them only for people who belong to no other site.
Members of other sites answer 404 (SECURITY Z2).
"""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for

from core import auth
from core.i18n import _
from core.models import User
from core.security.passwords import INITIAL_PASSWORD_HOURS
from core.web.access import requires
from core.web.admin import bp, confirm
from core.web.admin_members import ADMIN, member_or_404, other_sites


def _may_change_account(user: User) -> str | None:
    """Why the current administrator may not disable, enable or reset ``user`` (None: may).

    These changes are account-wide, so a site administrator may make them only
    for a person who belongs to no other site, never for a platform
    administrator and never for themselves (their own account page does that).
    """
    if user.id == g.user.id:
        return _("Change your own account on your account page.")
    if g.user.is_platform_admin:
        return None
    if user.is_platform_admin:
        return _("%(name)s is a platform administrator; only another platform administrator "
                 "can change the account.", name=user.display_name)
    if other_sites(user):
        return _("%(name)s is also a member of other sites; only a platform administrator "
                 "can change the account.", name=user.display_name)
    return None


@bp.route("/members/<int:user_id>/disable", methods=["GET", "POST"])
@requires(ADMIN)
def member_disable(user_id):
    """Disable the account, which ends its sessions at once (SECURITY S5), after confirming."""
    user = member_or_404(user_id)
    back = url_for("admin.member", user_id=user.id)
    refusal = _may_change_account(user)
    if refusal:
        flash(refusal, "error")
        return redirect(back)
    if request.method == "POST":
        if user.is_active:
            auth.disable_user(user)
        flash(_("The account of %(name)s is disabled.", name=user.display_name), "success")
        return redirect(back)
    return confirm(
        title=_("Disable the account"),
        message=_("Disable the account of %(name)s (%(username)s)? They are signed out at "
                  "once and cannot sign in until the account is enabled again.",
                  name=user.display_name, username=user.username),
        action=url_for("admin.member_disable", user_id=user.id), button=_("Disable"),
        cancel=back)


@bp.post("/members/<int:user_id>/enable")
@requires(ADMIN)
def member_enable(user_id):
    """Let a disabled account sign in again."""
    user = member_or_404(user_id)
    refusal = _may_change_account(user)
    if refusal:
        flash(refusal, "error")
    elif not user.is_active:
        auth.enable_user(user)
        flash(_("The account of %(name)s is enabled.", name=user.display_name), "success")
    return redirect(url_for("admin.member", user_id=user.id))


@bp.post("/members/<int:user_id>/unlock")
@requires(ADMIN)
def member_unlock(user_id):
    """Lift a lock-out after failed sign-ins (SECURITY A4)."""
    user = member_or_404(user_id)
    auth.unlock(user)
    flash(_("%(name)s can sign in again.", name=user.display_name), "success")
    return redirect(url_for("admin.member", user_id=user.id))


@bp.post("/members/<int:user_id>/sessions")
@requires(ADMIN)
def member_sessions(user_id):
    """End every session of the member, e.g. after a lost phone (SECURITY S5)."""
    user = member_or_404(user_id)
    if user.id == g.user.id:
        flash(_("To end your own other sessions, change your password."), "error")
    else:
        ended = auth.end_sessions(user)
        flash(_("%(count)s sessions of %(name)s have ended.", count=ended,
                name=user.display_name), "success")
    return redirect(url_for("admin.member", user_id=user.id))


@bp.route("/members/<int:user_id>/password", methods=["GET", "POST"])
@requires(ADMIN)
def member_password(user_id):
    """Give a member who forgot their password a new initial one, shown once (SECURITY A7)."""
    user = member_or_404(user_id)
    back = url_for("admin.member", user_id=user.id)
    refusal = _may_change_account(user)
    if refusal:
        flash(refusal, "error")
        return redirect(back)
    if request.method == "POST":
        initial = auth.issue_initial_password(user)
        return render_template("admin/member_created.html", user=user, password=initial,
                               hours=INITIAL_PASSWORD_HOURS, reset=True)
    return confirm(
        title=_("New initial password"),
        message=_("Give %(name)s (%(username)s) a new initial password? The present password "
                  "stops working and they are signed out everywhere.",
                  name=user.display_name, username=user.username),
        action=url_for("admin.member_password", user_id=user.id),
        button=_("Issue a new password"), cancel=back)


@bp.route("/members/<int:user_id>/mfa", methods=["GET", "POST"])
@requires(ADMIN)
def member_mfa(user_id):
    """Remove a member's second factor (a lost phone), after a confirmation step."""
    user = member_or_404(user_id)
    back = url_for("admin.member", user_id=user.id)
    refusal = _may_change_account(user)
    if refusal or not user.totp_secret:
        flash(refusal or _("%(name)s has no second factor.", name=user.display_name), "error")
        return redirect(back)
    if request.method == "POST":
        auth.reset_mfa(user)
        flash(_("The second factor of %(name)s is removed; they enrol a new one at the next "
                "sign-in.", name=user.display_name), "success")
        return redirect(back)
    return confirm(
        title=_("Remove the second factor"),
        message=_("Remove the second factor of %(name)s (%(username)s), e.g. after a lost "
                  "phone? They are signed out everywhere.", name=user.display_name,
                  username=user.username),
        action=url_for("admin.member_mfa", user_id=user.id), button=_("Remove"), cancel=back)
