"""Sensitive reads are audit events (SECURITY §3.3 item 6; §5 L2 and "Sensitive reads")."""

import json

import pytest

from core.audit import read
from core.audit.models import AuditEvent
from core.context import Actor, acting_as
from core.models import User
from core.storage import db, transaction
from core.testing import make_user


def detail(event) -> dict:
    return json.loads(AuditEvent.get_by_id(event.id).payload)["detail"]


def test_L2_reveal_of_an_id_number_is_logged_with_actor_site_purpose(app, site):
    reader = make_user(site, roles=("staff",))
    resident = make_user(site)  # any row stands in for a resident record
    assert not db.obj.in_transaction()
    with acting_as(Actor(user_id=reader.id, site_id=site.id, ip="10.1.2.3", via="web")):
        event = read(resident, site=site, fields=["id_number"], purpose="核对低保申请")
    stored = AuditEvent.get_by_id(event.id)
    assert (stored.action, stored.chain_id, stored.actor_id, stored.ip) == (
        "read.reveal", site.id, reader.id, "10.1.2.3")
    assert (stored.object_type, stored.object_id) == ("core_user", str(resident.id))
    assert detail(event) == {"fields": ["id_number"], "purpose": "核对低保申请", "rows": 1}


def test_L2_exports_and_prints_record_the_row_count(app, site):
    exported = read(User, site=site.id, fields=["phone", "name"], purpose="走访名单",
                    rows=25, kind="export")
    printed = read("health_record", site=site, fields=[], purpose="随访", rows=3, kind="print")
    assert AuditEvent.get_by_id(exported.id).action == "read.export"
    assert detail(exported) == {"fields": ["name", "phone"], "purpose": "走访名单", "rows": 25}
    stored = AuditEvent.get_by_id(printed.id)
    assert (stored.action, stored.object_type, stored.object_id) == (
        "read.print", "health_record", None)


def test_read_joins_the_callers_transaction(app, site):
    class Rollback(Exception):
        pass

    with pytest.raises(Rollback), transaction():
        event = read("health_record", site=site, fields=["diagnosis"], purpose="查看", rows=1,
                     kind="view")
        raise Rollback
    assert not AuditEvent.select().where(AuditEvent.id == event.id).exists()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"purpose": "  "}, "purpose"),
    ({"purpose": "x", "kind": "peek"}, "unknown read kind"),
    ({"purpose": "x", "rows": -1}, "rows"),
])
def test_read_refuses_incomplete_records(app, site, kwargs, message):
    with pytest.raises(ValueError, match=message):
        read(User, site=site, fields=["phone"], **kwargs)
