"""The obligations page and dashboard widget: what the site (and its children) must do.

The page lists the current site's obligations and, for a parent such as a
street office, those of the children it holds a grant over (every child for
platform administrators; see :mod:`core.obligations`), with a count per
site, a search and a status filter.
"""

from __future__ import annotations

from flask import Blueprint, g, render_template, request

from core import identity, obligations, textfold
from core.i18n import _l
from core.web.access import requires
from core.web.admin import page_of
from core.web.layout import Widget

bp = Blueprint("obligations", __name__, url_prefix="/obligations")

VIEW = obligations.VIEW_PERMISSION
#: how many obligations the dashboard widget shows
WIDGET_SIZE = 5

STATUS_LABELS = {
    obligations.OVERDUE: _l("Overdue"),
    obligations.DUE_SOON: _l("Due soon"),
    obligations.LATER: _l("Later"),
    obligations.DONE: _l("Done"),
}
#: the status filter: ``open`` (the default) hides what is done
FILTERS = {
    "open": _l("Not done"),
    obligations.OVERDUE: _l("Overdue"),
    obligations.DUE_SOON: _l("Due soon"),
    obligations.DONE: _l("Done"),
    "all": _l("All"),
}


def _rows(site, user, today):
    """(obligation, status) of the site's tree as this user may see it."""
    window = obligations.due_soon_days(site)
    items = obligations.collect_tree(site, today, every_child=user.is_platform_admin)
    return [(o, obligations.classify(o, today, window)) for o in items], window


@bp.get("/")
@requires(VIEW)
def index():
    """Obligations of this site and its visible children, by due date; paged and searchable."""
    today = obligations.local_today()
    rows, window = _rows(g.site, g.user, today)
    counts: dict[int, dict[str, int]] = {}
    sites = {g.site.id: g.site}
    for child in obligations.visible_children(g.site, every_child=g.user.is_platform_admin):
        sites[child.id] = child
    for site_id in sites:
        counts[site_id] = dict.fromkeys(STATUS_LABELS, 0)
    for ob, status in rows:
        counts[ob.site.id][status] += 1
    chosen = request.args.get("status", "open")
    if chosen not in FILTERS:
        chosen = "open"
    site_id = request.args.get("site", type=int)
    q = request.args.get("q", "").strip()
    shown = [(ob, status) for ob, status in rows
             if (chosen == "all" or status == chosen
                 or (chosen == "open" and status != obligations.DONE))
             and (site_id is None or site_id not in sites or ob.site.id == site_id)
             and (not q or textfold.matches(q, f"{ob.title} {ob.citation} {ob.site.name}"))]
    return render_template("obligations/index.html", page=page_of(shown), q=q, today=today,
                           window=window, site_map=sites, counts=counts, status=chosen,
                           site_id=site_id if site_id in sites else None,
                           labels=STATUS_LABELS, filters=FILTERS)


def dashboard_widget(site, user) -> Widget | None:
    """The next few open obligations of the site's tree, for members who may see them."""
    access = identity.access(user, site)
    if access is None or not access.can(VIEW):
        return None
    today = obligations.local_today()
    rows, _window = _rows(site, user, today)
    upcoming = [(ob, status) for ob, status in rows if status != obligations.DONE]
    return Widget(title=_l("Obligations"), template="obligations/widget.html",
                  context={"rows": upcoming[:WIDGET_SIZE],
                           "rollup": len({o.site.id for o, _ in rows}) > 1},
                  permission=VIEW, order=10)
