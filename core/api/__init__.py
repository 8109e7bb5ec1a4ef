"""The JSON API under ``/api/v1/``, built from the same marshmallow schemas as the forms.

What plugins use: :class:`Blueprint` (flask-smorest's, with type-strict JSON
bodies and the paging convention), :class:`QueryPage`, :class:`StrictSchema`
and :class:`RecordSchema` (SECURITY Z4). ``docs/api.md`` describes the API
for its clients: tokens, errors, paging.
"""

from __future__ import annotations

from flask import Flask

from core.api.blueprint import Blueprint, QueryPage
from core.api.schemas import RecordSchema, StrictSchema
from core.plugins import HookBus

__all__ = ["Blueprint", "QueryPage", "RecordSchema", "StrictSchema", "install_api"]


def install_api(app: Flask, hub: HookBus):
    """Create the API: bearer authentication, the kernel's endpoints, every plugin's.

    Called once by the web shell after the page blueprints. Each installed
    plugin's ``register_api`` blueprints are registered whatever the site
    (Flask allows no later registration); they answer 404 where the token's
    site has not enabled the plugin.
    """
    from core.api import account, auth, notifications
    from core.api.extension import GrassrootsApi
    from core.api.settings import settings_blueprint

    app.before_request(auth.authenticate_request)  # before GrassrootsApi's plugin gate
    api = GrassrootsApi(app)
    schemas = app.extensions["grassroots"].settings_schemas
    for blp in (account.blp, notifications.blp, settings_blueprint(schemas)):
        api.register_blueprint(blp)
    for impl in hub.pm.hook.register_api.get_hookimpls():
        for blp in impl.function(**{n: api for n in impl.argnames}) or ():
            api.register_blueprint(blp, plugin=None if impl.plugin_name == "core"
                                   else impl.plugin_name)
    app.extensions["grassroots_api"] = api
    return api
