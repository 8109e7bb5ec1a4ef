"""The audit events' update guard allows exactly "payload -> NULL, everything else unchanged".

SECURITY §3.3 item 1: events are append-only, with one exception, the
retention job's redaction, which may only set ``payload`` to NULL. 0001's
guards compared only ``hash``, ``seq``, ``chain_id`` and ``payload_hash``, so
an UPDATE that redacted a payload could also change the action, the actor or
the time through the application's connection (``verify`` would catch it, but
the guard is meant to stop it first). Here every column is compared, NULLs
included, on SQLite and PostgreSQL alike. The trigger names stay those of 0001.
"""

from peewee import PostgresqlDatabase

SQLITE = (
    "DROP TRIGGER IF EXISTS core_audit_event_no_update",
    """CREATE TRIGGER core_audit_event_no_update BEFORE UPDATE ON core_audit_event
       WHEN NOT (NEW.payload IS NULL
                 AND NEW.id IS OLD.id AND NEW.chain_id IS OLD.chain_id
                 AND NEW.seq IS OLD.seq AND NEW.ts_utc IS OLD.ts_utc
                 AND NEW.actor_id IS OLD.actor_id AND NEW.actor_site_id IS OLD.actor_site_id
                 AND NEW.site_id IS OLD.site_id AND NEW.action IS OLD.action
                 AND NEW.object_type IS OLD.object_type AND NEW.object_id IS OLD.object_id
                 AND NEW.result IS OLD.result AND NEW.ip IS OLD.ip
                 AND NEW.request_id IS OLD.request_id AND NEW.payload_hash IS OLD.payload_hash
                 AND NEW.alg IS OLD.alg AND NEW.prev_hash IS OLD.prev_hash
                 AND NEW.hash IS OLD.hash)
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END""",
)

POSTGRES = (
    """CREATE OR REPLACE FUNCTION core_audit_event_guard() RETURNS trigger AS $$
       BEGIN
         IF TG_OP = 'UPDATE' AND NEW.payload IS NULL
            AND (NEW.id, NEW.chain_id, NEW.seq, NEW.ts_utc, NEW.actor_id, NEW.actor_site_id,
                 NEW.site_id, NEW.action, NEW.object_type, NEW.object_id, NEW.result, NEW.ip,
                 NEW.request_id, NEW.payload_hash, NEW.alg, NEW.prev_hash, NEW.hash)
            IS NOT DISTINCT FROM
                (OLD.id, OLD.chain_id, OLD.seq, OLD.ts_utc, OLD.actor_id, OLD.actor_site_id,
                 OLD.site_id, OLD.action, OLD.object_type, OLD.object_id, OLD.result, OLD.ip,
                 OLD.request_id, OLD.payload_hash, OLD.alg, OLD.prev_hash, OLD.hash) THEN
           RETURN NEW;
         END IF;
         RAISE EXCEPTION 'audit events are append-only';
       END $$ LANGUAGE plpgsql""",
)


def up(migrator, db):
    for sql in POSTGRES if isinstance(db, PostgresqlDatabase) else SQLITE:
        db.execute_sql(sql)
