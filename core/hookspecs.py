"""Every hook a Grassroots plugin can implement: the kernel's whole contract.

Hooks are called with keyword arguments only. An implementation takes only
the arguments it uses, so a spec can gain arguments without breaking plugins.
Two kinds of hook:

* **Installed hooks** are called on every installed plugin, whatever the
  site: identity, permissions, settings, blueprints, commands, migrations.
* **Site hooks** are called only on the plugins enabled for the site in
  question (through :class:`core.plugins.SiteHooks`), never on the others.

List hooks are flattened by the kernel and sorted by an explicit ``order``,
never by plugin registration order (pluggy calls in LIFO order).
``docs/hooks.md`` documents each hook with its exact signature; a test keeps
the two in step.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("grassroots")


# ---------------------------------------------------------------------------
# Installed hooks: called on every installed plugin, at start-up
# ---------------------------------------------------------------------------


@hookspec
def plugin_info():
    """Say who the plugin is and what it needs.

    Called once per installed plugin when the plugin manager is built. Return a
    :class:`core.plugins.PluginInfo`: ``name`` (must equal the entry-point
    name), a lazily translated ``title``, ``requires`` (plugin names that must
    be enabled wherever this one is) and ``default_for`` (site kinds whose
    default bundle includes it). A plugin without this hook fails start-up.
    """


@hookspec
def register_permissions():
    """Declare the plugin's permissions.

    Called once on every installed plugin at start-up. Return a list of
    :class:`core.permissions.Permission` (``name`` prefixed with the plugin
    name, a lazy ``label``, the ``roles`` that hold it by default, and
    ``level``: ``read``, ``write``, ``approve`` or ``admin``). Every view and
    API route names one of these, or a kernel permission.
    """


@hookspec
def register_settings():
    """Declare the plugin's per-site settings.

    Called once on every installed plugin at start-up. Return a marshmallow
    ``Schema`` class whose fields carry ``load_default`` (the regulation's
    number) and ``metadata={"label": ..., "citation": "RULE-ID source:line"}``,
    or None. Administrators change values per site; every change is validated
    against the schema and audited.
    """


@hookspec
def register_blueprints(app):
    """Contribute Flask blueprints (pages) of the plugin.

    Called once on every installed plugin while the app is built; blueprints of
    plugins not enabled for the current site answer 404. Return a list of
    ``flask.Blueprint``; each must be named like the plugin (or start with
    ``<plugin>_``) and declare a permission on every view.

    :param app: the Flask application being built.
    """


@hookspec
def register_api(api):
    """Contribute JSON API blueprints under ``/api/v1/``.

    Called once on every installed plugin while the app is built. Return a
    list of ``flask_smorest.Blueprint`` built from the plugin's marshmallow
    schemas; the kernel registers them on ``api`` so they appear in the
    OpenAPI document.

    :param api: the kernel's :class:`flask_smorest.Api`.
    """


@hookspec
def register_commands(cli):
    """Add the plugin's CLI commands.

    Called once on every installed plugin when the ``grassroots`` command
    group is built. Add a click group named after the plugin to ``cli``
    (``cli.add_command(group)``); return nothing.

    :param cli: the ``grassroots`` click group.
    """


@hookspec
def register_migrations():
    """Name the plugin's migrations directory.

    Called on every installed plugin by ``grassroots db upgrade|status`` and at
    start-up. Return the path of a directory of numbered scripts
    ``0001_name.py`` defining ``up(migrator, db)``; the kernel runs them in
    order after the kernel's own and those of required plugins, recording
    them in the table ``<plugin>_migrations``.
    """


@hookspec
def register_models():
    """List the plugin's peewee models.

    Called on every installed plugin by the schema-drift check and the
    site-isolation harness. Return a list of model classes; site-scoped ones
    subclass :class:`core.SiteModel`, and every table name starts with the
    plugin name.
    """


@hookspec
def personal_data_fields():
    """Declare the names of fields that hold personal data.

    Called once on every installed plugin at start-up. Return an iterable of
    field names (e.g. ``"id_number"``); the audit log stores such values masked
    with a keyed fingerprint, never in clear (SECURITY §3.3 item 4).
    """


# ---------------------------------------------------------------------------
# Site hooks: called only on the plugins enabled for ``site``
# ---------------------------------------------------------------------------


@hookspec
def menu_items(site, user):
    """Contribute entries to the site's main menu.

    Fires on every page render after login. Called only on plugins enabled for
    ``site``. Return a list of :class:`core.web.MenuItem`; the kernel drops
    items whose permission the user lacks and sorts by ``MenuItem.order``.

    :param site: the current :class:`core.models.Site`.
    :param user: the logged-in :class:`core.models.User`.
    """


@hookspec
def dashboard_widgets(site, user):
    """Contribute widgets to the site's dashboard.

    Fires when the dashboard renders. Called only on plugins enabled for
    ``site``. Return a list of :class:`core.web.Widget` (title, template,
    context, permission, order); widgets the user may not see are dropped.
    Keep each widget to one or two queries: the dashboard is benchmarked.
    """


@hookspec
def obligations(site, today):
    """Contribute what the site must do by a date.

    Fires when the obligations page or dashboard renders and when the kernel
    notifies of obligations falling due. Called only on plugins enabled for
    ``site``. Return a list of :class:`core.obligations.Obligation` (title,
    due date, citation, url, done); the kernel shows them together, per site
    and rolled up to the parent site.

    :param today: the date to evaluate against (a ``datetime.date``).
    """


@hookspec
def site_created(site):
    """React to a new site.

    Fires once after a site is created and its default bundle applied, inside
    the creating transaction. Called only on the plugins enabled for the new
    site. Return nothing; writes go through :mod:`core.records`.
    """


@hookspec
def plugin_enabled(site, plugin):
    """React to a plugin being enabled for a site.

    Fires after the change is written, inside its transaction. Called on the
    plugins enabled for ``site`` after the change (so the plugin itself hears
    it). Return nothing.

    :param plugin: the name of the plugin just enabled.
    """


@hookspec
def plugin_disabled(site, plugin):
    """React to a plugin being disabled for a site.

    Fires after the change is written, inside its transaction. Called on the
    plugins still enabled for ``site`` and on the disabled plugin itself. Its
    data stays; re-enabling shows it again. Return nothing.

    :param plugin: the name of the plugin just disabled.
    """


@hookspec
def record_written(site, event, obj):
    """React to an audited write.

    Fires after every audited write through :mod:`core.records`, inside the
    same transaction, so a failing implementation undoes the write. Called only
    on plugins enabled for ``site``. Return nothing.

    :param event: the :class:`core.audit.AuditEvent` just appended.
    :param obj: the written model instance (after the write; for a delete, the
        row as it was).
    """


@hookspec(firstresult=True)
def can_view_record(site, user, object_type, object_id):
    """Say whether ``user`` may see one record, e.g. before serving its attachment.

    Asked by :mod:`core.attachments` on every download, after the kernel has
    checked that the user may act in ``site`` and that the file belongs to
    ``site``. Called only on plugins enabled for ``site``; firstresult: the
    first answer that is not None decides. Answer only for your own object
    types (table names starting with your plugin's name) and return None for
    the others. Look the record up inside ``site`` (``get_in_site``) and apply
    the same permission as its detail page. Nobody answering means no: the
    kernel denies by default, and answers itself only for its own types
    (``core_site``, ``core_user``).

    :param site: the :class:`core.models.Site` the record must belong to.
    :param user: the :class:`core.models.User` asking.
    :param object_type: the record's table name, e.g. ``meetings_meeting``.
    :param object_id: the record's primary key, as a string.
    :returns: True to allow, False to refuse, None when not yours.
    """
