"""The site tree, for platform administrators: list, create, rename, parents' grants.

Every view requires ``core.platform``, which no role holds: only users with
``is_platform_admin`` pass, whatever site they are in (core.web.access).
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from core import identity, textfold
from core.i18n import _, _l
from core.models import SITE_KINDS, Site, SiteGrant
from core.records import update
from core.web.access import PLATFORM, requires
from core.web.admin import KIND_LABELS, bp, confirm, page_of
from core.web.forms import load_form
from core.web.pagination import paginate

#: the rights a parent may hold over a child (core.identity.grant)
RIGHT_LABELS = {"read": _l("Read"), "approve": _l("Read and approve")}


class SiteForm(Schema):
    """A new site: code, name, kind and optional parent (kind-under-parent rule)."""

    code = fields.String(required=True, validate=validate.Regexp(
        r"^[A-Za-z0-9_-]{1,64}$",
        error=_l("Code: 1 to 64 letters, digits, hyphens or underscores.")),
        error_messages={"required": _l("Code: enter a code.")})
    name = fields.String(required=True, validate=validate.Length(
        min=1, max=200, error=_l("Name: enter 1 to 200 characters.")),
        error_messages={"required": _l("Name: enter the site's name.")})
    kind = fields.String(required=True, validate=validate.OneOf(
        SITE_KINDS, error=_l("Kind: choose one of the listed kinds.")),
        error_messages={"required": _l("Kind: choose the kind of site.")})
    parent = fields.Integer(load_default=None, allow_none=True,
                            error_messages={"invalid": _l("Parent: choose a listed site.")})

    @validates_schema
    def kind_fits_parent(self, data, **kwargs):
        """The kind-under-parent rule of :data:`core.identity.CHILD_KINDS`."""
        if data.get("parent") is None:
            return
        parent = Site.get_or_none(Site.id == data["parent"])
        if parent is None:
            raise ValidationError(_("Parent: choose a listed site."), field_name="parent")
        if data["kind"] not in identity.CHILD_KINDS[parent.kind]:
            raise ValidationError(kind_rule_message(data["kind"], parent.kind),
                                  field_name="parent")


class RenameForm(Schema):
    name = fields.String(required=True, validate=validate.Length(
        min=1, max=200, error=_l("Name: enter 1 to 200 characters.")),
        error_messages={"required": _l("Name: enter the site's name.")})


def kind_rule_message(kind: str, parent_kind: str) -> str:
    """Why a kind may not sit under a parent, and what may (CHILD_KINDS)."""
    allowed = identity.CHILD_KINDS[parent_kind]
    if not allowed:
        return _("Parent: a %(parent)s can have no sites under it.",
                 parent=KIND_LABELS[parent_kind])
    return _("Parent: a %(kind)s cannot sit under a %(parent)s; only these can: %(allowed)s.",
             kind=KIND_LABELS[kind], parent=KIND_LABELS[parent_kind],
             allowed="、".join(str(KIND_LABELS[k]) for k in allowed))


def tree_order() -> list[tuple[Site, int]]:
    """Every site with its depth, parents before children, siblings by code."""
    children: dict[int | None, list[Site]] = {}
    for site in Site.select().order_by(Site.code):
        children.setdefault(site.parent_id, []).append(site)
    out: list[tuple[Site, int]] = []
    stack = [(site, 0) for site in reversed(children.get(None, []))]
    while stack:
        site, depth = stack.pop()
        out.append((site, depth))
        stack.extend((child, depth + 1) for child in reversed(children.get(site.id, [])))
    return out


def _site_or_404(site_id: int) -> Site:
    site = Site.get_or_none(Site.id == site_id)
    if site is None:
        abort(404)
    return site


@bp.get("/sites/")
@requires(PLATFORM)
def sites():
    """The site tree, searchable by name (either script, pinyin) or code, paged."""
    q = request.args.get("q", "").strip()
    rows = tree_order()
    if q:
        term = textfold.fold_query(q)
        found = {i for (i,) in Site.select(Site.id).where(
            Site.search.contains(term) | Site.code.contains(q)).tuples()}
        rows = [(site, depth) for site, depth in rows if site.id in found]
    return render_template("admin/sites.html", page=page_of(rows), q=q, kinds=KIND_LABELS)


def _parent_options():
    return [("", _("(none: a top-level site)"))] + [
        (str(site.id), f"{'— ' * depth}{site.name} ({site.code})")
        for site, depth in tree_order()]


@bp.route("/sites/new", methods=["GET", "POST"])
@requires(PLATFORM)
def site_new():
    """Create a site; a refused form keeps what was typed and names field and rule."""
    errors, values = {}, request.form
    if request.method == "POST":
        data, errors = load_form(SiteForm(), request.form)
        if not errors:
            parent = Site.get_by_id(data["parent"]) if data["parent"] else None
            try:
                site = identity.create_site(code=data["code"], name=data["name"],
                                            kind=data["kind"], parent=parent)
            except identity.IdentityError as err:
                errors = {err.field or "_schema": [_create_message(err, data, parent)]}
            else:
                flash(_("Site %(name)s created.", name=site.name), "success")
                return redirect(url_for("admin.site", site_id=site.id))
    else:
        values = {"parent": request.args.get("parent", "")}
    return render_template("admin/site_new.html", errors=errors, values=values,
                           kinds=[("", _("Choose…"))] + [(k, KIND_LABELS[k]) for k in SITE_KINDS],
                           parents=_parent_options()), (422 if errors else 200)


def _create_message(err: identity.IdentityError, data: dict, parent: Site | None) -> str:
    if err.code == "code_taken":
        return _("Code: %(code)s is already used by another site.", code=data["code"])
    if err.code == "parent_kind" and parent is not None:
        return kind_rule_message(data["kind"], parent.kind)
    return _("Kind: choose one of the listed kinds.")


@bp.get("/sites/<int:site_id>")
@requires(PLATFORM)
def site(site_id):
    """One site: its facts, its children and the grants it holds over them."""
    target = _site_or_404(site_id)
    children = paginate(Site.select().where(Site.parent == target).order_by(Site.code))
    grants = {g.child_id: g.right for g in SiteGrant.select().where(SiteGrant.parent == target)}
    return render_template("admin/site.html", target=target, children=children, grants=grants,
                           kinds=KIND_LABELS, rights=RIGHT_LABELS,
                           can_have_children=bool(identity.CHILD_KINDS[target.kind]))


@bp.route("/sites/<int:site_id>/rename", methods=["GET", "POST"])
@requires(PLATFORM)
def site_rename(site_id):
    """Rename a site (audited, search keys rebuilt)."""
    target = _site_or_404(site_id)
    errors, values = {}, {"name": target.name}
    if request.method == "POST":
        values = request.form
        data, errors = load_form(RenameForm(), request.form)
        if not errors:
            update(target, name=data["name"], search=textfold.search_keys(data["name"]),
                   action="core.site.rename")
            flash(_("Site renamed to %(name)s.", name=data["name"]), "success")
            return redirect(url_for("admin.site", site_id=target.id))
    return render_template("admin/site_rename.html", target=target, errors=errors,
                           values=values), (422 if errors else 200)


def _child_or_404(target: Site, child_id: int) -> Site:
    child = Site.get_or_none(Site.id == child_id, Site.parent == target)
    if child is None:
        abort(404)
    return child


@bp.post("/sites/<int:site_id>/grants/<int:child_id>")
@requires(PLATFORM)
def site_grant(site_id, child_id):
    """Give the parent ``read`` or ``approve`` rights over one of its children."""
    target = _site_or_404(site_id)
    child = _child_or_404(target, child_id)
    right = request.form.get("right", "")
    if right not in RIGHT_LABELS:
        flash(_("Right: choose read, or read and approve."), "error")
    else:
        identity.grant(target, child, right)
        flash(_("%(parent)s now holds the right “%(right)s” over %(child)s.",
                parent=target.name, right=RIGHT_LABELS[right], child=child.name), "success")
    return redirect(url_for("admin.site", site_id=target.id))


@bp.route("/sites/<int:site_id>/grants/<int:child_id>/revoke", methods=["GET", "POST"])
@requires(PLATFORM)
def site_revoke(site_id, child_id):
    """Withdraw the parent's grant over a child, after a confirmation step."""
    target = _site_or_404(site_id)
    child = _child_or_404(target, child_id)
    if request.method == "POST":
        identity.revoke_grant(target, child)
        flash(_("%(parent)s no longer holds rights over %(child)s.",
                parent=target.name, child=child.name), "success")
        return redirect(url_for("admin.site", site_id=target.id))
    if not SiteGrant.select().where(SiteGrant.parent == target,
                                    SiteGrant.child == child).exists():
        abort(404)
    return confirm(
        title=_("Withdraw rights"),
        message=_("Members of %(parent)s will no longer see or approve anything of %(child)s.",
                  parent=target.name, child=child.name),
        action=url_for("admin.site_revoke", site_id=target.id, child_id=child.id),
        button=_("Withdraw rights"), cancel=url_for("admin.site", site_id=target.id))
