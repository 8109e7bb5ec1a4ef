"""The signed-in user's API tokens: create (shown once), list, revoke with confirmation.

A token acts in one site, chosen among the sites where the user holds
``core.api.token``; only its SHA-256 is stored (SECURITY S2), so the page
that creates it is the only place it is ever shown. Another user's token is
not there (404).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from marshmallow import fields, validate

from core.api import tokens
from core.api.schemas import StrictSchema
from core.i18n import _, _l
from core.models import Site
from core.web.access import AUTHENTICATED, requires
from core.web.forms import load_form
from core.web.pagination import paginate

bp = Blueprint("tokens", __name__, url_prefix="/account/tokens")


class TokenForm(StrictSchema):
    """A new token: a name to recognise it by and the site it acts in."""

    #: the site is chosen here, then checked against the user's own sites
    allow_input = frozenset({"site_id"})

    name = fields.String(required=True,
                         validate=validate.Length(min=1, max=100,
                                                  error=_l("Use 1 to 100 characters.")),
                         error_messages={"required": _l("Give the token a name.")})
    site_id = fields.Integer(required=True,
                             error_messages={"required": _l("Choose a site."),
                                             "invalid": _l("Choose a site.")})


@bp.get("/")
@requires(AUTHENTICATED)
def index():
    """The user's tokens, newest first, with their site and last use."""
    return render_template("tokens/index.html", page=paginate(tokens.tokens_of(g.user)))


@bp.route("/new", methods=["GET", "POST"])
@requires(AUTHENTICATED)
def new():
    """Create a token; the response is the only time it is shown."""
    sites = tokens.sites_for_tokens(g.user)
    errors, values = {}, {"site_id": g.site.id if g.site else ""}
    if request.method == "POST":
        values = request.form
        data, errors = load_form(TokenForm(), request.form)
        if data is not None:
            site = next((s for s in sites if s.id == data["site_id"]), None)
            if site is None:
                errors = {"site_id": [_("Choose one of your sites.")]}
            else:
                row, token = tokens.create_token(g.user, site, data["name"])
                return render_template("tokens/created.html", row=row, site=site, token=token)
    return render_template("tokens/new.html", site_options=[(s.id, s.name) for s in sites],
                           errors=errors, values=values), (422 if errors else 200)


def _own(token_id: int):
    row = tokens.token_of(g.user, token_id)
    if row is None:
        abort(404)
    return row


@bp.get("/<int:token_id>/revoke")
@requires(AUTHENTICATED)
def confirm_revoke(token_id: int):
    """Ask before revoking: the programs using the token stop working."""
    row = _own(token_id)
    return render_template("tokens/revoke.html", row=row, site=Site.get_by_id(row.site_id))


@bp.post("/<int:token_id>/revoke")
@requires(AUTHENTICATED)
def revoke(token_id: int):
    """Revoke the token now; its next request gets 401."""
    row = _own(token_id)
    tokens.revoke_token(row)
    flash(_("The token %(name)s is revoked.", name=row.name), "success")
    return redirect(url_for("tokens.index"))
