"""Downloading attachments: ``/files/<id>``, re-authorised on every request (SECURITY F3, Z2).

A download URL is no bearer link (Decidim CVE-2026-45377/45378): each
request needs a live session, the file must belong to the site the user is
acting in (another site's file is 404, never 403), and the owner record's
plugin must say the user may see it (``can_view_record``). The file is
always a download, never rendered by the browser: ``Content-Disposition:
attachment``, ``nosniff`` and a sandboxing CSP (Indico CVE-2026-25739).
"""

from __future__ import annotations

import logging

from flask import Blueprint, abort, g, send_file

from core import attachments
from core.web.access import AUTHENTICATED, requires

bp = Blueprint("attachments", __name__, url_prefix="/files")
log = logging.getLogger("grassroots.attachments")

#: nothing in a served file may run, load or frame anything
DOWNLOAD_CSP = "sandbox; default-src 'none'; frame-ancestors 'none'"


@bp.get("/<int:attachment_id>")
@requires(AUTHENTICATED)
def download(attachment_id: int):
    """Send one attachment of the current site, if the user may see its record."""
    if g.get("site") is None or g.get("access") is None:
        abort(404)
    attachment = attachments.get_in_site(g.site, attachment_id)
    if not attachments.can_view(g.site, g.user, attachment):
        # SECURITY L2: refused reads are logged; the answer does not say the file exists
        log.info("request %s: user %s refused attachment %s", g.get("request_id"),
                 g.user.id, attachment.id)
        abort(404)
    path = attachments.path_of(attachment)
    if not path.is_file():
        log.error("attachment %s: bytes missing at %s", attachment.id, path)
        abort(404)
    response = send_file(path, mimetype=attachment.mime, as_attachment=True,
                         download_name=attachment.filename, max_age=0, etag=False)
    response.headers["Content-Security-Policy"] = DOWNLOAD_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
