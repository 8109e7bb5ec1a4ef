"""Users and memberships of the current site, for its administrators.

A site administrator sees and changes only the members of the current site:
any other user id answers 404 (SECURITY Z2). No form here can make anyone a
platform administrator. Initial passwords come from ``secrets``, are shown
once and expire in 72 hours (SECURITY A7). Account-wide actions (disable,
unlock, sessions, password, second factor) are in ``admin_accounts``.
"""

from __future__ import annotations

import datetime as dt

from flask import abort, flash, g, redirect, render_template, request, url_for
from marshmallow import Schema, fields, validate

from core import auth, identity, textfold
from core.i18n import _, _l
from core.models import ROLES, Membership, User
from core.security.passwords import INITIAL_PASSWORD_HOURS, generate_initial_password
from core.storage import transaction, utcnow
from core.web.access import requires
from core.web.admin import ROLE_LABELS, bp, confirm
from core.web.forms import load_form
from core.web.pagination import paginate

ADMIN = "core.site.admin"
VIEW = "core.member.view"

_ROLE_ERROR = _l("Role: choose one of the listed roles.")


class NewUserForm(Schema):
    """A new person for the current site; there is no platform-administrator field."""

    username = fields.String(required=True, validate=validate.Regexp(
        r"^[A-Za-z0-9._-]{2,64}$",
        error=_l("Username: 2 to 64 letters, digits, dots, hyphens or underscores.")),
        error_messages={"required": _l("Username: enter a username.")})
    display_name = fields.String(required=True, validate=validate.Length(
        min=1, max=100, error=_l("Full name: enter 1 to 100 characters.")),
        error_messages={"required": _l("Full name: enter the person's name.")})
    role = fields.String(required=True, validate=validate.OneOf(ROLES, error=_ROLE_ERROR),
                         error_messages={"required": _ROLE_ERROR})


class AddMemberForm(Schema):
    """An existing user, named exactly, joins the current site."""

    username = fields.String(required=True, validate=validate.Length(
        min=1, max=64, error=_l("Username: enter the exact username.")),
        error_messages={"required": _l("Username: enter the exact username.")})
    role = fields.String(required=True, validate=validate.OneOf(ROLES, error=_ROLE_ERROR),
                         error_messages={"required": _ROLE_ERROR})


class RolesForm(Schema):
    roles = fields.List(
        fields.String(validate=validate.OneOf(ROLES, error=_ROLE_ERROR)), required=True,
        validate=validate.Length(min=1, error=_l("Roles: choose at least one role; to take "
                                                 "the person out of the site, remove them.")),
        error_messages={"required": _l("Roles: choose at least one role; to take the person "
                                       "out of the site, remove them.")})


def _roles_of(user_ids) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    rows = (Membership.select(Membership.user, Membership.role)
            .where(Membership.site == g.site, Membership.user.in_(list(user_ids))).tuples())
    for user_id, role in rows:
        out.setdefault(user_id, []).append(role)
    return {uid: sorted(roles, key=ROLES.index) for uid, roles in out.items()}


def member_or_404(user_id: int) -> User:
    """A member of the current site; anyone else is 404, never 403 (SECURITY Z2)."""
    user = (User.select().join(Membership)
            .where(User.id == user_id, Membership.site == g.site).first())
    if user is None:
        abort(404)
    return user


def _is_locked(user: User) -> bool:
    return user.locked_until is not None and user.locked_until > utcnow()


def _role_options():
    return [("", _("Choose…"))] + [(r, ROLE_LABELS[r]) for r in ROLES]


@bp.get("/members/")
@requires(VIEW)
def members():
    """The current site's members, searchable by name, username or pinyin, paged."""
    q = request.args.get("q", "").strip()
    query = User.select().where(User.id.in_(
        Membership.select(Membership.user).where(Membership.site == g.site)))
    if q:
        query = query.where(User.search.contains(textfold.fold_query(q))
                            | User.username.contains(q))
    page = paginate(query.order_by(User.display_name, User.id))
    return render_template("admin/members.html", page=page, q=q,
                           roles=_roles_of(u.id for u in page.items), labels=ROLE_LABELS,
                           now=utcnow(), can_admin=g.access.can(ADMIN))


@bp.route("/members/new", methods=["GET", "POST"])
@requires(ADMIN)
def member_new():
    """Create a user in this site; the initial password is shown once (SECURITY A7)."""
    errors, values = {}, request.form
    if request.method == "POST":
        data, errors = load_form(NewUserForm(), request.form)
        if not errors:
            initial = generate_initial_password()
            try:
                with transaction():
                    user = identity.create_user(
                        username=data["username"], display_name=data["display_name"],
                        password_hash=auth.hash_password(initial), must_change_password=True,
                        initial_password_expires_at=utcnow() + dt.timedelta(
                            hours=INITIAL_PASSWORD_HOURS))
                    identity.add_member(user, g.site, data["role"])
            except identity.IdentityError:
                errors = {"username": [_("Username: %(username)s is taken; to add that "
                                         "person, use “Add an existing user”.",
                                         username=data["username"])]}
            else:
                return render_template("admin/member_created.html", user=user,
                                       password=initial, hours=INITIAL_PASSWORD_HOURS)
    return render_template("admin/member_new.html", errors=errors, values=values,
                           roles=_role_options()), (422 if errors else 200)


@bp.route("/members/add", methods=["GET", "POST"])
@requires(ADMIN)
def member_add():
    """Give an existing user, named by exact username, a role in this site."""
    errors, values = {}, request.form
    if request.method == "POST":
        data, errors = load_form(AddMemberForm(), request.form)
        if not errors:
            user = User.get_or_none(User.username == data["username"])
            if user is None:
                errors = {"username": [_("Username: no user has this username.")]}
            else:
                identity.add_member(user, g.site, data["role"])
                flash(_("%(name)s is now %(role)s of this site.", name=user.display_name,
                        role=ROLE_LABELS[data["role"]]), "success")
                return redirect(url_for("admin.member", user_id=user.id))
    return render_template("admin/member_add.html", errors=errors, values=values,
                           roles=_role_options()), (422 if errors else 200)


@bp.get("/members/<int:user_id>")
@requires(VIEW)
def member(user_id):
    """One member: roles in this site, whether the account is active or locked."""
    user = member_or_404(user_id)
    return render_template("admin/member.html", user=user, roles=_roles_of([user.id])[user.id],
                           labels=ROLE_LABELS, all_roles=ROLES, locked=_is_locked(user),
                           errors={}, can_admin=g.access.can(ADMIN),
                           other_sites=other_sites(user))


def other_sites(user: User) -> bool:
    return Membership.select().where(Membership.user == user,
                                     Membership.site != g.site).exists()


@bp.post("/members/<int:user_id>/roles")
@requires(ADMIN)
def member_roles(user_id):
    """Set the member's roles in this site to exactly the ones ticked."""
    user = member_or_404(user_id)
    current = _roles_of([user.id])[user.id]
    data, errors = load_form(RolesForm(), request.form)
    if not errors and user.id == g.user.id and not g.user.is_platform_admin \
            and "site_admin" in current and "site_admin" not in data["roles"]:
        errors = {"roles": [_("Roles: you cannot take away your own administrator role; "
                              "ask another administrator.")]}
    if errors:
        return render_template("admin/member.html", user=user, roles=request.form.getlist(
            "roles"), labels=ROLE_LABELS, all_roles=ROLES, locked=_is_locked(user),
            errors=errors, can_admin=True, other_sites=other_sites(user)), 422
    with transaction():
        for role in set(data["roles"]) - set(current):
            identity.add_member(user, g.site, role)
        for membership in Membership.select().where(
                Membership.user == user, Membership.site == g.site,
                Membership.role.not_in(data["roles"])):
            identity.remove_member(membership)
    flash(_("Roles of %(name)s saved.", name=user.display_name), "success")
    return redirect(url_for("admin.member", user_id=user.id))


@bp.route("/members/<int:user_id>/remove", methods=["GET", "POST"])
@requires(ADMIN)
def member_remove(user_id):
    """Take a member out of this site (every role), after a confirmation step."""
    user = member_or_404(user_id)
    back = url_for("admin.member", user_id=user.id)
    if user.id == g.user.id:
        flash(_("You cannot remove yourself; ask another administrator."), "error")
        return redirect(back)
    if request.method == "POST":
        with transaction():
            for membership in Membership.select().where(Membership.user == user,
                                                        Membership.site == g.site):
                identity.remove_member(membership)
        flash(_("%(name)s is no longer a member of %(site)s.", name=user.display_name,
                site=g.site.name), "success")
        return redirect(url_for("admin.members"))
    return confirm(
        title=_("Remove from the site"),
        message=_("Remove %(name)s (%(username)s) from %(site)s? The account itself stays; "
                  "what they recorded stays too.", name=user.display_name,
                  username=user.username, site=g.site.name),
        action=url_for("admin.member_remove", user_id=user.id), button=_("Remove"),
        cancel=back)
