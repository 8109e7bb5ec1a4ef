"""The audit tables: append-only events and one head row per chain."""

from __future__ import annotations

import peewee as pw

from core.storage import BaseModel


class AuditEvent(BaseModel):
    """One audited action. Never updated or deleted (database triggers refuse)."""

    chain_id = pw.IntegerField()
    seq = pw.BigIntegerField()
    ts_utc = pw.CharField(max_length=32)
    actor_id = pw.IntegerField(null=True)
    actor_site_id = pw.IntegerField(null=True)
    site_id = pw.IntegerField(null=True)
    action = pw.CharField(max_length=64)
    object_type = pw.CharField(max_length=64, null=True)
    object_id = pw.CharField(max_length=64, null=True)
    result = pw.CharField(max_length=16, default="ok")
    ip = pw.CharField(max_length=64, null=True)
    request_id = pw.CharField(max_length=64, null=True)
    payload_hash = pw.CharField(max_length=64)
    payload = pw.TextField(null=True)
    alg = pw.CharField(max_length=16)
    prev_hash = pw.CharField(max_length=64)
    hash = pw.CharField(max_length=64)

    class Meta:
        table_name = "core_audit_event"
        indexes = (
            (("chain_id", "seq"), True),
            (("site_id", "ts_utc"), False),
            (("object_type", "object_id"), False),
            (("actor_id",), False),
        )


class AuditHead(BaseModel):
    """The newest event of each chain; locked while appending."""

    chain_id = pw.IntegerField(primary_key=True)
    seq = pw.BigIntegerField()
    hash = pw.CharField(max_length=64)

    class Meta:
        table_name = "core_audit_head"
