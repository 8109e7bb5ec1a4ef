"""``/api/v1/settings/<plugin>``: read and change a site's settings of one plugin.

One path per installed plugin that declares settings, each documented with
the plugin's own settings schema (``register_settings``), so the OpenAPI
document shows every key, its type and its bounds. Reading and changing
need ``core.site.admin``; a plugin the token's site has not enabled answers
404. A change is validated by :func:`core.settings.change` and audited; a
refused value answers 422 naming the key, and nothing is stored.
"""

from __future__ import annotations

from flask import abort, g, request
from flask.views import MethodView
from marshmallow import ValidationError

from core import settings
from core.api.blueprint import Blueprint
from core.storage import transaction
from core.web.access import requires

PERMISSION = "core.site.admin"


def settings_blueprint(schemas: dict[str, type]) -> Blueprint:
    """A blueprint with ``GET`` and ``PATCH /api/v1/settings/<plugin>`` for each schema."""
    blp = Blueprint("api_settings", __name__, url_prefix="/api/v1/settings",
                    description="Per-site settings of each plugin (site administrators)")
    for plugin, schema in sorted(schemas.items()):
        blp.route(f"/{plugin}", endpoint=plugin)(_view(blp, plugin, schema))
    return blp


def _enabled(plugin: str) -> None:
    if plugin != "core" and plugin not in g.enabled_plugins:
        abort(404)


def _view(blp: Blueprint, plugin: str, schema: type) -> type:
    class PluginSettings(MethodView):
        decorators = [requires(PERMISSION)]

        @blp.response(200, schema)
        def get(self):
            """The plugin's effective settings in this site: defaults with overrides."""
            _enabled(plugin)
            return settings.values(g.site, plugin)

        @blp.arguments(schema)
        @blp.response(200, schema)
        def patch(self, _loaded):
            """Change the keys sent (the others keep their values); returns all settings."""
            _enabled(plugin)
            sent = request.get_json()
            errors = {}
            # all or nothing: a refused key rolls back the keys changed before it
            with transaction():
                for key in sent:
                    try:
                        settings.change(g.site, plugin, key, sent[key])
                    except ValidationError as err:
                        errors.update(err.messages if isinstance(err.messages, dict)
                                      else {key: err.messages})
                    except settings.UnknownSetting:
                        errors[key] = ["Unknown field."]
                if errors:
                    raise ValidationError(errors)  # answered 422 by GrassrootsApi
            return settings.values(g.site, plugin)

    PluginSettings.__name__ = f"{plugin.title()}Settings"
    PluginSettings.__qualname__ = PluginSettings.__name__
    return PluginSettings
