"""The kernel's base schemas refuse mass assignment (SECURITY Z4, CKAN CVE-2022-43685)."""

from __future__ import annotations

import pytest
from marshmallow import ValidationError, fields

from core.api.schemas import READ_ONLY_NAMES, RecordSchema, StrictSchema, json_type_errors


class MeetingIn(RecordSchema):
    """What a plugin's create/edit schema looks like."""

    title = fields.String(required=True)
    quorum = fields.Integer()
    status = fields.String(dump_only=True)
    approved_by = fields.Integer(dump_only=True)


@pytest.mark.parametrize("field", ["id", "site_id", "version", "created_by", "created_at",
                                   "status", "approved_by", "owner"])
def test_Z4_read_only_and_unknown_fields_are_refused_by_name(field):
    with pytest.raises(ValidationError) as caught:
        MeetingIn().load({"title": "支部大会", field: 7})
    assert list(caught.value.messages) == [field]


def test_Z4_read_only_fields_are_still_dumped():
    class Row:
        id, site_id, version, created_by_id, title, quorum = 5, 2, 3, 9, "t", 1
        created_at = updated_at = None
        status, approved_by = "draft", None

    dumped = MeetingIn().dump(Row())
    assert dumped["id"] == 5 and dumped["site_id"] == 2 and dumped["created_by"] == 9
    assert dumped["status"] == "draft"


@pytest.mark.parametrize("name", sorted(READ_ONLY_NAMES))
def test_Z4_a_schema_cannot_make_a_read_only_name_loadable_by_accident(name):
    schema_class = type("Careless", (StrictSchema,), {name: fields.Raw()})
    with pytest.raises(TypeError, match=name):
        schema_class()


def test_Z4_a_schema_may_say_which_read_only_name_it_loads():
    class StatusFilter(StrictSchema):
        allow_input = frozenset({"status"})
        status = fields.String()

    assert StatusFilter().load({"status": "draft"}) == {"status": "draft"}


def test_Z4_a_data_key_cannot_smuggle_a_read_only_name():
    schema_class = type("Smuggler", (StrictSchema,),
                        {"owner": fields.Integer(data_key="site_id")})
    with pytest.raises(TypeError, match="site_id"):
        schema_class()


@pytest.mark.parametrize(("field", "good", "bad"), [
    (fields.Boolean(), True, 1),
    (fields.Boolean(), False, "false"),
    (fields.Integer(), 3, "3"),
    (fields.Integer(), 3, True),
    (fields.Integer(), 3, 3.5),
    (fields.Float(), 3.5, "3.5"),
    (fields.String(), "x", 5),
    (fields.Date(), "2026-01-01", 20260101),
    (fields.List(fields.Integer()), [1], ["1"]),
    (fields.List(fields.Integer()), [1], "1"),
])
def test_json_bodies_are_type_strict(field, good, bad):
    schema = type("One", (StrictSchema,), {"value": field})()
    assert json_type_errors(schema, {"value": good}) == {}
    assert list(json_type_errors(schema, {"value": bad})) == ["value"]


def test_json_type_check_reaches_into_nested_schemas():
    class Inner(StrictSchema):
        n = fields.Integer()

    class Outer(StrictSchema):
        one = fields.Nested(Inner)
        many = fields.Nested(Inner, many=True)

    found = json_type_errors(Outer(), {"one": {"n": "1"}, "many": [{"n": 1}, {"n": "2"}]})
    assert found == {"one": {"n": ["Not a valid integer."]},
                     "many": {"1.n": ["Not a valid integer."]}}
