"""The kernel's flask-smorest ``Api``: JSON under ``/api/`` only, one error shape.

flask-smorest registers one handler for every ``HTTPException`` and answers
JSON, even for a 404 on an HTML page (STYLE gotcha 3). :class:`GrassrootsApi`
answers JSON only for paths under ``/api/`` and hands every other error back
to the HTML error pages of :mod:`core.web.errors`. Its JSON is the shape of
:mod:`core.api.errors` (STYLE 15, gotcha 6).

Blueprints registered through it (the kernel's and every plugin's
``register_api``) must live under ``/api/v1/``; they are exempt from CSRF
because the API accepts only bearer tokens (:mod:`core.api.auth`), and a
plugin's blueprint answers 404 in sites that have not enabled the plugin.
"""

from __future__ import annotations

from flask import abort, g, request
from flask_smorest import Api
from flask_smorest.pagination import PaginationMetadataSchema
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from core.api.errors import ErrorSchema, error_response, http_error_response
from core.plugins import PluginError
from core.sitemodel import CrossSiteReference
from core.web.access import AUTHENTICATED, requires
from core.web.errors import wants_json

#: every API blueprint's URL prefix starts with this
PREFIX = "/api/v1/"

SECURITY_SCHEME = {"type": "http", "scheme": "bearer",
                   "description": "A per-user API token, scoped to one site (docs/api.md)."}


class GrassrootsApi(Api):
    """flask-smorest's ``Api`` with the kernel's error handling, security and gating."""

    ERROR_SCHEMA = ErrorSchema

    def __init__(self, app):
        self._fallback = {}
        self._plugin_of: dict[str, str] = {}
        super().__init__(app, spec_kwargs={"security": [{"bearerAuth": []}]})
        self.spec.components.security_scheme("bearerAuth", SECURITY_SCHEME)
        app.before_request(self._gate)

    # -- errors ---------------------------------------------------------------

    def _register_error_handlers(self):
        """Keep the HTML handlers registered before us as the fallback off ``/api/``."""
        handlers = self._app.error_handler_spec[None][None]
        for exc_class in (HTTPException, Exception):
            self._fallback[exc_class] = handlers.get(exc_class)
        super()._register_error_handlers()
        self._app.register_error_handler(ValidationError, self.handle_validation_error)
        self._app.register_error_handler(CrossSiteReference, self.handle_cross_site)

    def _not_api(self, error, exc_class):
        handler = self._fallback.get(exc_class)
        if handler is None:
            if isinstance(error, HTTPException):
                return error
            raise error
        return handler(error)

    def handle_http_exception(self, error):
        """JSON in the one error shape under ``/api/``; the HTML error page elsewhere."""
        if not wants_json() or (error.code or 500) >= 500:
            # 5xx go to the kernel's handler too, which logs them; it answers
            # JSON under /api/ through core.api.errors as well
            return self._not_api(error, HTTPException)
        return http_error_response(error.code, error.name, error)

    def handle_validation_error(self, error: ValidationError):
        """A schema refusing data inside an API view: 422 naming the fields."""
        if not wants_json():
            return self._not_api(error, Exception)
        return error_response(422, "Unprocessable Entity", errors={"json": error.messages})

    def handle_cross_site(self, error: CrossSiteReference):
        """A reference to another site's row (SECURITY Z3): 422 naming the field.

        On a page it is a 404, as if the row did not exist: ids do not leak.
        """
        if not wants_json():
            from core.web.errors import render_error

            return render_error(404, "Not Found")
        from core.i18n import _

        return error_response(422, "Unprocessable Entity",
                              errors={"json": {error.field: [_("There is no such record.")]}})

    # -- documents and blueprints ---------------------------------------------

    def _register_pagination_header(self):
        """Document ``X-Pagination`` as what it is: a JSON text in a header.

        flask-smorest documents it with an object ``schema``, which no header
        value can match; OpenAPI 3 describes such a header with ``content``.
        """
        self.spec.components.header("PAGINATION", {
            "description": "Paging of the list (docs/api.md): total, total_pages, page, "
                           "first_page, last_page, previous_page, next_page",
            "content": {"application/json": {"schema": PaginationMetadataSchema}},
        }, lazy=True)

    @requires(AUTHENTICATED)
    def _openapi_json(self):
        """The OpenAPI document: for bearers of a token, like every API path."""
        return super()._openapi_json()

    def register_blueprint(self, blp, *, plugin: str | None = None, **options):
        """Register an API blueprint; ``plugin`` names its plugin (None: the kernel).

        :raises PluginError: for a blueprint outside ``/api/v1/``.
        """
        prefix = options.get("url_prefix", blp.url_prefix) or ""
        if not (prefix.rstrip("/") + "/").startswith(PREFIX):
            raise PluginError(f"API blueprint {blp.name!r} must live under {PREFIX}")
        name = options.get("name", blp.name)
        super().register_blueprint(blp, **options)
        csrf = self._app.extensions.get("csrf")
        for endpoint, view in self._app.view_functions.items():
            if endpoint.startswith(f"{name}.") and csrf is not None:
                # bearer tokens only: no cookie rides along, so no CSRF (docs/api.md)
                csrf.exempt(f"{view.__module__}.{view.__name__}")
        if plugin is not None:
            self._plugin_of[name] = plugin

    def _gate(self):
        """A plugin's API answers 404 where the token's site has not enabled it."""
        names = request.blueprints
        plugin = next((self._plugin_of[n] for n in names if n in self._plugin_of), None)
        if plugin is None:
            return
        if g.get("site") is None:
            abort(401)
        if plugin not in g.enabled_plugins:
            abort(404)
