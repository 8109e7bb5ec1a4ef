"""One error shape under /api/, HTML pages elsewhere (STYLE 15, gotchas 3 and 6; SECURITY Z3)."""

from __future__ import annotations

import flask
import pytest
from flask_smorest import abort as api_abort
from marshmallow import Schema, ValidationError, fields

from core.api import Blueprint, tokens
from core.api.errors import normalise_errors
from core.app import create_app
from core.context import Actor, acting_as
from core.i18n import _l
from core.permissions import Permission
from core.plugins import PluginInfo, hookimpl
from core.records import Conflict
from core.sitemodel import CrossSiteReference, NotFound
from core.testing import IsolatedClient, make_site, make_user
from core.web.access import requires


class Raiser:
    """A test plugin whose API raises each kind of error."""

    @hookimpl
    def plugin_info(self):
        return PluginInfo(name="raiser", title="raiser", default_for=("urban_community",))

    @hookimpl
    def register_permissions(self):
        return [Permission("raiser.view", "view", roles=("staff",))]

    @hookimpl
    def register_api(self, api):
        blp = Blueprint("raiser_api", __name__, url_prefix="/api/v1/raiser")

        class Lazy(Schema):
            quorum = fields.Integer(required=True,
                                    error_messages={"required": _l("Quorum is required.")})

        @blp.route("/<what>")
        @requires("raiser.view")
        def fail(what):
            """Raise the error named in the path."""
            if what == "conflict":
                raise Conflict(flask.g.site, 1)
            if what == "missing":
                raise NotFound("x")
            if what == "schema":
                Lazy().load({})
            if what == "cross":
                raise CrossSiteReference("meeting_id")
            if what == "forbidden":
                api_abort(403)
            if what == "boom":
                raise RuntimeError("secret detail /etc/passwd")
            return {"ok": what}

        return [blp]


@pytest.fixture
def raiser_app(app_config):
    application = create_app(app_config, extra_plugins=[("raiser", Raiser())])
    application.test_client_class = IsolatedClient
    with application.app_context(), acting_as(Actor(via="test")):
        yield application


@pytest.fixture
def api_get(raiser_app):
    site = make_site()
    user = make_user(site, roles=("staff",))
    _row, token = tokens.create_token(user, site, "t")
    client = raiser_app.test_client()

    def get(path, **kwargs):
        return client.get(path, headers={"Authorization": f"Bearer {token}"}, **kwargs)

    return get


def _shape_ok(body, code):
    assert body["code"] == code
    assert isinstance(body["status"], str)
    assert set(body) <= {"code", "status", "message", "errors"}
    for location, messages in body.get("errors", {}).items():
        assert isinstance(location, str)
        for field, items in messages.items():
            assert isinstance(field, str)
            assert items and all(isinstance(m, str) for m in items)


def test_gotcha3_a_404_on_an_html_page_stays_html(client):
    response = client.get("/no/such/page", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "<html" in response.get_data(as_text=True)


def test_gotcha3_a_405_on_an_html_page_stays_html(client):
    response = client.delete("/login")
    assert response.status_code in (400, 405)  # CSRF may refuse first
    assert response.mimetype == "text/html"


def test_api_404_and_405_are_json_in_the_one_shape(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404 and response.mimetype == "application/json"
    _shape_ok(response.get_json(), 404)
    response = client.delete("/api/v1/me")
    assert response.status_code == 405
    _shape_ok(response.get_json(), 405)
    assert "GET" in response.headers["Allow"]


@pytest.mark.parametrize(("what", "code"), [
    ("conflict", 409), ("missing", 404), ("forbidden", 403), ("schema", 422), ("cross", 422),
])
def test_api_errors_raised_anywhere_under_api_share_one_shape(api_get, what, code):
    response = api_get(f"/api/v1/raiser/{what}")
    assert response.status_code == code
    assert response.mimetype == "application/json"
    _shape_ok(response.get_json(), code)


def test_gotcha6_lazy_messages_come_back_as_lists_of_strings(api_get):
    body = api_get("/api/v1/raiser/schema").get_json()
    assert body["errors"] == {"json": {"quorum": ["Quorum is required."]}}


def test_Z3_a_reference_to_another_sites_row_names_the_field(api_get):
    body = api_get("/api/v1/raiser/cross").get_json()
    assert list(body["errors"]["json"]) == ["meeting_id"]


def test_D4_api_500_is_json_without_details(api_get, caplog):
    response = api_get("/api/v1/raiser/boom")
    assert response.status_code == 500
    body = response.get_json()
    _shape_ok(body, 500)
    assert "passwd" not in response.get_data(as_text=True)
    assert "secret detail" in caplog.text  # logged for the operator


def test_api_401_answers_in_the_one_shape_with_a_bearer_challenge(client):
    response = client.get("/api/v1/notifications")
    _shape_ok(response.get_json(), 401)
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="grassroots"'


def test_api_422_from_webargs_names_location_and_field(client, site):
    user = make_user(site, roles=("staff",))
    _row, token = tokens.create_token(user, site, "t")
    response = client.post("/api/v1/notifications/read", json={"ids": ["one"]},
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 422
    body = response.get_json()
    _shape_ok(body, 422)
    with client.application.test_request_context():
        expected = str(_l("Not a valid integer."))  # the default locale, as the client had
    assert body["errors"] == {"json": {"ids.0": [expected]}}


def test_api_invalid_json_body_is_refused_in_the_one_shape(client, site):
    user = make_user(site, roles=("staff",))
    _row, token = tokens.create_token(user, site, "t")
    response = client.post("/api/v1/notifications/read", data="{not json",
                           content_type="application/json",
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code in (400, 422)
    _shape_ok(response.get_json(), response.status_code)


def test_gotcha6_normalise_errors_wraps_every_leaf(app):
    with app.test_request_context():
        out = normalise_errors({"json": {"a": _l("Lazy."), "b": {"c": ["x", "y"]}},
                                "query": ["whole"]})
        assert out == {"json": {"a": ["Lazy."], "b.c": ["x", "y"]},
                       "query": {"_schema": ["whole"]}}
        assert normalise_errors({"a": "bare"}) == {"json": {"a": ["bare"]}}


def test_gotcha6_library_messages_are_translated(app):
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        out = normalise_errors({"json": ValidationError({"x": ["Unknown field."]}).messages})
        assert out["json"]["x"] == [str(_l("Unknown field."))]
