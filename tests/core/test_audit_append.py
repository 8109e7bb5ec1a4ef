"""What append guarantees: canonical payloads, masked personal data, append-only rows.

SECURITY §3.3 items 1, 2 and 4; §3.5; the §5 rows L3 (no full ID or phone in
audit output) and L4 (no change through the application's connection).
"""

import json
from pathlib import Path

import peewee
import pytest

from core.audit import NonCanonicalValue, NotInTransaction, append, chain
from core.audit.models import AuditEvent
from core.privacy import keyed_fingerprint
from core.storage import db, transaction

ID_NUMBER = "110105199001011234"
PHONE = "13812345678"


def an_event(site):
    with transaction():
        return append("test.thing.update", site_id=site.id, object_type="test_thing",
                      object_id=1, before={"title": "a"}, after={"title": "b"})


def test_float_in_a_payload_is_refused_at_append(app, site):
    with transaction(), pytest.raises(NonCanonicalValue):
        append("test.money", site_id=site.id, payload={"amount": 12.5})
    with transaction(), pytest.raises(NonCanonicalValue):
        append("test.money", site_id=site.id, after={"amount": 0.1})
    assert not AuditEvent.select().where(AuditEvent.action == "test.money").exists()


def test_append_outside_a_transaction_is_refused(app, site):
    with pytest.raises(NotInTransaction):
        append("test.thing.update", site_id=site.id)


def test_L3_personal_data_in_payloads_is_masked_with_a_keyed_fingerprint(app, site):
    key = Path(app.config["AUDIT_KEY_FILE"]).read_bytes().strip()
    with transaction():
        event = append("registry.resident.update", site_id=site.id,
                       before={"id_number": ID_NUMBER, "phone": PHONE, "name": "张三"},
                       after={"id_number": None, "phone": "13987654321", "name": "张三"})
    stored = AuditEvent.get_by_id(event.id).payload
    assert ID_NUMBER not in stored and PHONE not in stored and "13987654321" not in stored
    body = json.loads(stored)
    assert body["before"]["id_number"] == {"masked": "110105********1234",
                                           "hmac": keyed_fingerprint(key, ID_NUMBER)}
    assert body["before"]["phone"] == {"masked": "138****5678",
                                       "hmac": keyed_fingerprint(key, PHONE)}
    assert body["after"]["phone"]["hmac"] != body["before"]["phone"]["hmac"]
    assert keyed_fingerprint(b"another key", PHONE) != body["before"]["phone"]["hmac"]


def test_payload_is_stored_in_the_form_its_hash_covers(app, site):
    event = AuditEvent.get_by_id(an_event(site).id)
    assert event.payload.encode() == chain.canonical(json.loads(event.payload))
    assert chain.payload_hash(event.alg, json.loads(event.payload)) == event.payload_hash


def refused(query) -> None:
    with pytest.raises(peewee.DatabaseError), db.atomic():
        query.execute()


def test_L4_update_and_delete_through_the_app_connection_are_refused(app, site):
    event = an_event(site)
    this = AuditEvent.id == event.id
    refused(AuditEvent.update(action="test.thing.delete").where(this))
    refused(AuditEvent.update(payload='{"after":{"title":"c"}}').where(this))
    refused(AuditEvent.delete().where(this))
    refused(AuditEvent.update(payload=None, action="test.other").where(this))
    refused(AuditEvent.update(payload=None, actor_id=99).where(this))
    refused(AuditEvent.update(payload=None, ts_utc="2000-01-01T00:00:00.000000Z").where(this))
    stored = AuditEvent.get_by_id(event.id)
    assert (stored.action, stored.payload is not None) == ("test.thing.update", True)


def test_L4_only_redaction_passes_the_guard(app, site):
    event = an_event(site)
    assert AuditEvent.update(payload=None).where(AuditEvent.id == event.id).execute() == 1
    stored = AuditEvent.get_by_id(event.id)
    assert stored.payload is None
    assert (stored.hash, stored.payload_hash) == (event.hash, event.payload_hash)
