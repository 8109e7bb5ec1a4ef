"""The JSON API under ``/api/v1/``, built from the same marshmallow schemas as the forms."""

from __future__ import annotations

from flask_smorest import Api


def install_api(app, hub) -> Api:
    """Create the API, register the kernel's and every plugin's API blueprints."""
    api = Api(app)
    for impl in hub.pm.hook.register_api.get_hookimpls():
        for blueprint in impl.function(**{n: api for n in impl.argnames}) or ():
            api.register_blueprint(blueprint)
    return api
