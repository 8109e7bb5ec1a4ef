"""The audit log page for leaders, supervisors and platform administrators.

SECURITY §3.3 item 9 and the §5 row "Audit log access": only holders of
``core.audit.view`` (leaders and supervisors) and platform administrators
see it; every look at it — list, detail, export, print — is itself an audit
event (MLPS 安全管理中心, 审计管理); no route changes an event; another site's
event answers 404. Every value is escaped by the templates: an admin
activity log is where Decidim had stored XSS (CVE-2024-32034).
"""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, g, render_template, request
from flask_babel import format_datetime

from core.audit import chain, checkpoints, log, search, spreadsheet
from core.audit.models import AuditEvent
from core.i18n import _
from core.models import Site, User
from core.storage import transaction, utcnow
from core.web.access import requires
from core.web.forms import load_form
from core.web.pagination import paginate

bp = Blueprint("audit", __name__, url_prefix="/audit")

PERMISSION = "core.audit.view"
#: rows on the printable version; more asks the reader to narrow the filter
PRINT_LIMIT = 1000


def _admin() -> bool:
    return bool(g.access and g.access.platform_admin)


def _scope(choice: str):
    """The chains shown: the current site's, or for platform admins the chosen one or all."""
    if _admin():
        if choice == "all":
            return None
        if choice.isdigit() and (choice == "0" or Site.get_or_none(Site.id == int(choice))):
            return [int(choice)]
    return [g.site.id]


def _filters():
    """``(data, errors, scope)`` from the query string (``data`` is empty on errors)."""
    data, errors = load_form(search.EventFilter(), request.args)
    if errors:
        data = {}
    scope = _scope(data.get("site") or request.args.get("site", ""))
    return data, errors, scope


def _record(action: str, scope, payload: dict, object_id=None) -> None:
    """Log a look at the log in the chain looked at (chain 0 for "all")."""
    site_id = scope[0] if scope is not None and len(scope) == 1 else None
    with transaction():
        log.append(action, site_id=site_id or None, object_type="core_audit_event",
                   object_id=object_id, payload=payload)


def _described(data: dict, scope) -> dict:
    out = {k: v.isoformat() if hasattr(v, "isoformat") else v
           for k, v in data.items() if v not in (None, "")}
    out["chains"] = "all" if scope is None else scope
    return out


def _rows(events) -> list[dict]:
    """Events with their time, actor and site, for the templates."""
    events = list(events)
    users = {u.id: u for u in User.select().where(
        User.id.in_({e.actor_id for e in events if e.actor_id}))}
    sites = {s.id: s for s in Site.select().where(Site.id.in_({e.chain_id for e in events}))}
    return [{"event": e, "when": search.stamp_time(e.ts_utc), "actor": users.get(e.actor_id),
             "site": sites.get(e.chain_id)} for e in events]


def _fingerprint() -> dict | None:
    """The newest checkpoint for the paper register: its digits, time, whether it is
    today's and whether its MAC verifies (a forged one must not be copied)."""
    config = current_app.config
    latest = checkpoints.latest(config["CHECKPOINT_DIR"])
    if latest is None:
        return None
    try:
        valid = checkpoints.check(latest.record,
                                  checkpoints.read_key(config["AUDIT_KEY_FILE"])) is None
    except checkpoints.KeyFileError:
        valid = False
    zone = config["BABEL_DEFAULT_TIMEZONE"]
    digits = latest.fingerprint
    return {"digits": " ".join(digits[i:i + 4] for i in range(0, len(digits), 4)),
            "when": search.stamp_time(latest.time), "valid": valid,
            "today": checkpoints.local_date(latest.time, zone)
            == dt.datetime.now(ZoneInfo(zone)).date()}


def _site_choices():
    sites = Site.select(Site.id, Site.name, Site.code).order_by(Site.code)
    return [("all", _("All sites")), ("0", _("Platform"))] + [(str(s.id), s.name) for s in sites]


@bp.after_app_request
def record_refusal(response):
    """Log every refused request of a signed-in user (SECURITY L2, ASVS 16.3.2).

    A 403, and a 404 from a matched route — which is how a row of another site
    answers (Z2) — become a ``read.refused`` event (GET and HEAD: an attempt to
    read, kept with the read records) or a ``write.refused`` event (any other
    method) in the chain of the site the user acts in. Unknown URLs are no
    authorization decision and are not logged; guests are refused by the
    sign-in page, whose failures ``core.auth`` logs.
    """
    if (response.status_code in (403, 404) and request.endpoint is not None
            and g.get("user") is not None):
        site = g.get("site")
        action = "read.refused" if request.method in ("GET", "HEAD") else "write.refused"
        with transaction():
            log.append(action, site_id=site.id if site else None, result="refused",
                       payload={"status": response.status_code, "method": request.method,
                                "endpoint": request.endpoint, "path": request.path[:200]})
    return response


@bp.get("/")
@requires(PERMISSION)
def events():
    """The events of the current site (or any, for platform admins), newest first, filtered."""
    data, errors, scope = _filters()
    page = None
    if not errors:
        page = paginate(search.events(scope, data, current_app.config["BABEL_DEFAULT_TIMEZONE"]))
        page.items = _rows(page.items)
    _record("audit.view", scope, {"filters": _described(data, scope),
                                  "page": page.number if page else None,
                                  "rows": len(page.items) if page else 0})
    chosen = "all" if scope is None else str(scope[0])
    return render_template("audit/events.html", page=page, errors=errors, args=request.args,
                           admin=_admin(), site_choices=_site_choices() if _admin() else [],
                           chosen=chosen, many=scope is None, fingerprint=_fingerprint(),
                           query={k: v for k, v in request.args.items() if k != "page"})


def _cell(value) -> str:
    """One before/after value as text; masked personal data as mask and fingerprint."""
    if value is None:
        return ""
    if isinstance(value, dict) and set(value) == {"masked", "hmac"}:
        return f"{value['masked']} (#{str(value['hmac'])[:8]})"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


@bp.get("/<int:event_id>")
@requires(PERMISSION)
def event(event_id: int):
    """One event: every stored column, the before/after table, and whether it matches its hash."""
    found = AuditEvent.get_or_none(AuditEvent.id == event_id)
    if found is None or (not _admin() and found.chain_id != g.site.id):
        abort(404)
    body, changes, detail, intact = None, [], None, None
    if found.payload is not None:
        try:
            body = json.loads(found.payload)
            intact = chain.payload_hash(found.alg, body) == found.payload_hash
        except (ValueError, chain.NonCanonicalValue):
            intact = False
    if isinstance(body, dict):
        before, after = body.get("before") or {}, body.get("after") or {}
        if isinstance(before, dict) and isinstance(after, dict):
            changes = [(k, _cell(before.get(k)), _cell(after.get(k)))
                       for k in sorted(set(before) | set(after))]
        if "detail" in body:
            detail = json.dumps(body["detail"], ensure_ascii=False, indent=2, sort_keys=True)
    _record("audit.view", [found.chain_id], {"event": found.id}, object_id=found.id)
    return render_template("audit/event.html", row=_rows([found])[0], changes=changes,
                           detail=detail, intact=intact, redacted=found.payload is None)


@bp.get("/export.xlsx")
@requires(PERMISSION)
def export():
    """The filtered events as an Excel workbook (formula cells defused, SECURITY E5)."""
    data, errors, scope = _filters()
    if errors:
        abort(400)
    timezone = current_app.config["BABEL_DEFAULT_TIMEZONE"]
    query = search.events(scope, data, timezone)
    header = [_("Time"), _("User"), _("Site"), _("Action"), _("Object type"), _("Object"),
              _("Result"), _("IP address"), _("Chain"), _("Seq"), _("Details")]
    rows = []
    for row in _rows(query):
        e = row["event"]
        rows.append([format_datetime(row["when"], "yyyy-MM-dd HH:mm:ss"),
                     f"{row['actor'].display_name} ({row['actor'].username})"
                     if row["actor"] else "", row["site"].name if row["site"] else "",
                     e.action, e.object_type, e.object_id, e.result, e.ip, e.chain_id, e.seq,
                     spreadsheet.payload_text(e.payload)])
    content = spreadsheet.workbook(_("Audit log"), header, rows)
    _record("audit.export", scope, {"filters": _described(data, scope), "rows": len(rows)})
    name = "audit-all" if scope is None else f"audit-{scope[0]}"
    return current_app.response_class(
        content, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})


@bp.get("/print")
@requires(PERMISSION)
def print_view():
    """A printable list of the filtered events (at most :data:`PRINT_LIMIT`)."""
    data, errors, scope = _filters()
    rows, total = [], 0
    if not errors:
        query = search.events(scope, data, current_app.config["BABEL_DEFAULT_TIMEZONE"])
        total = query.count()
        rows = _rows(query.limit(PRINT_LIMIT))
    _record("audit.print", scope, {"filters": _described(data, scope), "rows": len(rows)})
    site = Site.get_or_none(Site.id == scope[0]) if scope and scope[0] else None
    labels = {"user": _("User"), "object_type": _("Object type"), "action": _("Action"),
              "date_from": _("From (YYYY-MM-DD)"), "date_to": _("To (YYYY-MM-DD)")}
    shown = [(label, value) for key, label in labels.items()
             if (value := _described(data, scope).get(key))]
    return render_template("audit/print.html", rows=rows, total=total, limit=PRINT_LIMIT,
                           errors=errors, filters=shown, site=site, many=scope is None,
                           now=utcnow())
