"""Plugin API blueprints: registered for every installed plugin, answering per site."""

from __future__ import annotations

import pytest
from flask import g

from core import identity
from core.api import Blueprint, tokens
from core.app import create_app
from core.context import Actor, acting_as
from core.permissions import Permission
from core.plugins import PluginError, PluginInfo, hookimpl
from core.testing import IsolatedClient, make_site, make_user
from core.web.access import requires


class Census:
    """A test plugin with one API view, enabled by default for villages only."""

    def __init__(self, prefix="/api/v1/census"):
        self.prefix = prefix

    @hookimpl
    def plugin_info(self):
        return PluginInfo(name="census", title="census", default_for=("village",))

    @hookimpl
    def register_permissions(self):
        return [Permission("census.view", "view", roles=("staff",))]

    @hookimpl
    def register_api(self, api):
        blp = Blueprint("census_api", __name__, url_prefix=self.prefix)

        @blp.route("/count", methods=["GET", "POST"])
        @requires("census.view")
        def count():
            """The site the request acts in."""
            return {"site": g.site.id}

        return [blp]


@pytest.fixture
def census_app(app_config):
    application = create_app(app_config, extra_plugins=[("census", Census())])
    application.test_client_class = IsolatedClient
    with application.app_context(), acting_as(Actor(via="test")):
        yield application


def _bearer(user, site):
    _row, token = tokens.create_token(user, site, "t")
    return {"Authorization": f"Bearer {token}"}


def test_plugin_api_answers_only_where_the_plugin_is_enabled(census_app):
    office = make_site("street_office")
    village, community = make_site("village", parent=office), make_site(parent=office)
    user = make_user(village, roles=("staff",))
    identity.add_member(user, community, "staff")
    client = census_app.test_client()
    response = client.get("/api/v1/census/count", headers=_bearer(user, village))
    assert response.status_code == 200 and response.get_json() == {"site": village.id}
    response = client.get("/api/v1/census/count", headers=_bearer(user, community))
    assert response.status_code == 404 and response.get_json()["code"] == 404
    assert client.get("/api/v1/census/count").status_code == 401


def test_plugin_api_writes_with_a_token_need_no_csrf_token(census_app):
    village = make_site("village")
    user = make_user(village, roles=("staff",))
    response = census_app.test_client().post("/api/v1/census/count",
                                             headers=_bearer(user, village))
    assert response.status_code == 200


def test_plugin_api_outside_api_v1_fails_start_up(app_config):
    with pytest.raises(PluginError, match="/api/v1/"):
        create_app(app_config, extra_plugins=[("census", Census(prefix="/census-api"))])
