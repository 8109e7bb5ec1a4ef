"""Site isolation (SECURITY Z2, Z3): the kernel's own rows, and the harness itself.

The harness in core/isolation.py is what every plugin's isolation test uses;
the last tests here show that it fails on a leaky route and on a mistyped one,
so that a green run means something.
"""

from __future__ import annotations

import io

import flask
import peewee as pw
import pytest
from marshmallow import fields
from werkzeug.datastructures import FileStorage

from core import PluginInfo, SiteModel, attachments, hookimpl, records, requires
from core.api import Blueprint as ApiBlueprint
from core.api import RecordSchema
from core.context import current_actor
from core.models import ApiToken, Attachment, Membership, Notification
from core.notifications import notify
from core.testing import (
    Route,
    assert_reference_refused,
    assert_site_isolated,
    make_user,
    signed_in,
    site_table_migration,
)

# ---------------------------------------------------------------------------
# The kernel's site-scoped rows
# ---------------------------------------------------------------------------


# -- start isolation_harness --
def test_Z2_a_notification_of_one_site_is_invisible_to_another(app):
    def make_notification(site, marker):
        return notify(current_actor().user_id, site, kind="test", title=marker, body=marker)

    report = assert_site_isolated(app, Notification, make_notification, [
        Route("GET", "/inbox/", listing=True),
        Route("GET", "/api/v1/notifications", listing=True),
        Route("POST", "/api/v1/notifications/read", {"ids": ["{id}"]}, listing=True,
              shows_marker=False),
    ])
    assert report.attempts == 3
    assert Notification.get_by_id(report.row.id).read_at is None
# -- end isolation_harness --


def test_Z2_an_attachment_of_one_site_is_404_to_another(app):
    def make_attachment(site, marker):
        upload = FileStorage(io.BytesIO(f"{marker}\n".encode()), filename=f"{marker}.txt")
        return attachments.store(site, site, upload)

    report = assert_site_isolated(app, Attachment, make_attachment,
                                  [Route("GET", "/files/{id}")])
    assert report.attempts == 1


def test_Z3_switching_to_another_sites_id_is_refused(app, two_sites):
    site_a, site_b = two_sites
    member = signed_in(app, make_user(site_b), site_b)
    assert_reference_refused(member, Route("POST", "/site", {"site_id": str(site_a.id)}),
                             watch=[Membership])


def test_Z3_a_token_for_another_sites_id_is_refused(app, two_sites):
    site_a, site_b = two_sites
    member = signed_in(app, make_user(site_b), site_b)
    assert_reference_refused(
        member, Route("POST", "/account/tokens/new", {"name": "mine", "site_id": str(site_a.id)}),
        watch=[ApiToken])


# ---------------------------------------------------------------------------
# A test plugin with a foreign key between two site-scoped tables
# ---------------------------------------------------------------------------


class Household(SiteModel):
    name = pw.CharField(max_length=100)

    class Meta:
        table_name = "survey_household"


class Visit(SiteModel):
    household = pw.ForeignKeyField(Household, on_delete="RESTRICT")
    note = pw.CharField(max_length=100)

    class Meta:
        table_name = "survey_visit"


SURVEY_MIGRATION = site_table_migration("Household visits.", [
    ("Household", "survey_household", "name = CharField(max_length=100)"),
    ("Visit", "survey_visit", """household = ForeignKeyField(Household, on_delete="RESTRICT")
note = CharField(max_length=100)"""),
])


class VisitSchema(RecordSchema):
    household_id = fields.Integer(required=True, strict=True)
    note = fields.String(required=True)


class Survey:
    """Household visits: one page and one API route that take a household id."""

    def __init__(self, migrations):
        self.migrations = migrations

    @hookimpl
    def plugin_info(self):
        return PluginInfo(name="survey", title="Survey", default_for=("urban_community",))

    @hookimpl
    def register_migrations(self):
        return self.migrations

    @hookimpl
    def register_models(self):
        return [Household, Visit]

    @hookimpl
    def register_blueprints(self, app):
        bp = flask.Blueprint("survey", __name__, url_prefix="/survey")

        # -- start foreign_key_view --
        @bp.post("/visits")
        @requires("core.obligation.view")
        def add_visit():
            """Record a visit; the household is looked up in the current site (Z3)."""
            household = Household.get_in_site(flask.g.site,
                                              flask.request.form.get("household", type=int))
            visit = records.create(Visit, site=flask.g.site, household=household,
                                   note=flask.request.form.get("note", ""))
            return flask.redirect(f"/survey/households/{household.id}#visit-{visit.id}")
        # -- end foreign_key_view --

        @bp.post("/visits/unchecked")
        @requires("core.obligation.view")
        def add_visit_unchecked():
            """Takes the household id as given: only the model's check stands (Z3)."""
            visit = records.create(Visit, site=flask.g.site,
                                   household=flask.request.form.get("household", type=int),
                                   note=flask.request.form.get("note", ""))
            return flask.redirect(f"/survey/households/{visit.household_id}")

        @bp.get("/households/<int:household_id>")
        @requires("core.obligation.view")
        def household(household_id):
            """One household of the site."""
            return Household.get_in_site(flask.g.site, household_id).name

        @bp.get("/households/<int:household_id>/leaky")
        @requires("core.obligation.view")
        def leaky(household_id):
            """Deliberately wrong: any site's household (the harness must catch it)."""
            return Household.get_by_id(household_id).name

        return [bp]

    @hookimpl
    def register_api(self, api):
        blp = ApiBlueprint("survey_api", __name__, url_prefix="/api/v1/survey")
        @blp.post("/visits")
        @requires("core.obligation.view")
        @blp.arguments(VisitSchema)
        @blp.response(201, VisitSchema)
        def add_visit(data):
            """Record a visit; the model refuses another site's household (Z3)."""
            return records.create(Visit, site=flask.g.site, household=data["household_id"],
                                  note=data["note"])

        return [blp]


@pytest.fixture
def survey_app(app_with_plugins, tmp_path):
    (tmp_path / "0001_initial.py").write_text(SURVEY_MIGRATION)
    return app_with_plugins(("survey", Survey(str(tmp_path))))


def make_household(site, marker):
    return records.create(Household, site=site, name=marker)


@pytest.fixture
def neighbours(survey_app):
    """Site A's household, and a signed-in member of site B with a household of its own."""
    from core.testing import make_site

    office = make_site("street_office")
    site_a, site_b = make_site(parent=office), make_site(parent=office)
    theirs, ours = make_household(site_a, "A 户"), make_household(site_b, "B 户")
    member = signed_in(survey_app, make_user(site_b), site_b, api=True)
    return theirs, ours, member


# -- start reference_refused --
def test_Z3_a_form_naming_another_sites_row_is_404(neighbours):
    theirs, ours, member = neighbours
    assert_reference_refused(
        member, Route("POST", "/survey/visits", {"household": str(theirs.id), "note": "x"}),
        watch=[Visit, Household])
    # the same form with the site's own household is accepted
    assert member.send(Route("POST", "/survey/visits",
                             {"household": str(ours.id), "note": "x"})).status_code == 302
# -- end reference_refused --


def test_Z3_a_page_relying_on_the_model_check_answers_404_not_500(neighbours):
    theirs, _ours, member = neighbours
    assert_reference_refused(
        member, Route("POST", "/survey/visits/unchecked", {"household": str(theirs.id),
                                                           "note": "x"}),
        watch=[Visit, Household])
    refused = member.send(Route("POST", "/survey/visits/unchecked",
                                {"household": str(theirs.id), "note": "x"}))
    assert refused.status_code == 404
    assert "<html" in refused.get_data(as_text=True)


def test_Z3_the_api_naming_another_sites_row_is_422(neighbours):
    theirs, ours, member = neighbours
    assert_reference_refused(
        member, Route("POST", "/api/v1/survey/visits", {"household_id": theirs.id, "note": "x"}),
        watch=[Visit, Household])
    assert member.send(Route("POST", "/api/v1/survey/visits",
                             {"household_id": ours.id, "note": "x"})).status_code == 201


def test_Z3_the_model_refuses_another_sites_row_on_create_and_update(neighbours):
    from core import CrossSiteReference

    theirs, ours, _member = neighbours
    with pytest.raises(CrossSiteReference) as refused:
        records.create(Visit, site=ours.site_id, household=theirs, note="x")
    assert refused.value.field == "household"
    visit = records.create(Visit, site=ours.site_id, household=ours, note="x")
    with pytest.raises(CrossSiteReference):
        records.update(visit, household=theirs)
    assert Visit.get_by_id(visit.id).household_id == ours.id


def test_Z2_the_harness_passes_a_site_scoped_page(survey_app):
    report = assert_site_isolated(survey_app, Household, make_household,
                                  [Route("GET", "/survey/households/{id}")])
    assert report.attempts == 1


def test_Z2_the_harness_catches_a_page_that_shows_another_sites_row(survey_app):
    with pytest.raises(AssertionError, match="shows site A's row to site B"):
        assert_site_isolated(survey_app, Household, make_household,
                             [Route("GET", "/survey/households/{id}/leaky")])


def test_Z2_the_harness_refuses_a_route_that_does_not_exist(survey_app):
    with pytest.raises(AssertionError, match="matches no route"):
        assert_site_isolated(survey_app, Household, make_household,
                             [Route("GET", "/survey/household/{id}")])


def test_Z2_the_harness_refuses_a_page_that_does_not_show_the_row_to_its_own_site(survey_app):
    with pytest.raises(AssertionError, match="does not show the row to its own site"):
        assert_site_isolated(survey_app, Household, lambda site, marker: make_household(
            site, "unmarked"), [Route("GET", "/survey/households/{id}")])


def test_Z3_the_reference_check_catches_an_accepted_foreign_row(neighbours):
    theirs, _ours, member = neighbours
    with pytest.raises(AssertionError, match="not 404 or 422"):
        assert_reference_refused(member, Route("GET", f"/survey/households/{theirs.id}/leaky"),
                                 watch=[Household])
