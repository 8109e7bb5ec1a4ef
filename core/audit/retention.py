"""Retention of audit payloads: redacted after the period, never before 180 days.

SECURITY §2.3, §2.8, §3.3 items 1 and 3, and the §5 row "Security/audit events
purgeable before 180 days: 0". Redaction sets an event's ``payload`` (the
before/after values, a read's purpose) to NULL and nothing else: the row, its
payload hash and its chain hash stay, so the chain still verifies and
``verify`` reports "payload redacted" (PIPL Art. 19/47: keep personal data no
longer than needed). The database trigger allows exactly this change.

- Every event: not before the site setting ``core.audit_retention_days`` and
  never before :data:`FLOOR_DAYS` whatever is set (网络安全法 Art. 21(3), Art. 23
  as amended: network logs kept at least six months).
- ``read.*`` events, the records of personal-data processing: not before
  :data:`PROCESSING_RECORD_DAYS` (PIPL Art. 56: at least three years).
- ``audit.checkpoint`` and ``audit.restore``: never; they hold only hashes,
  and ``verify`` needs them.

Each redaction is itself an ``audit.redact`` event in the same chain.
"""

from __future__ import annotations

import datetime as dt

from core.audit import log
from core.audit.checkpoints import CHECKPOINT_ACTION
from core.audit.models import AuditEvent
from core.audit.restores import RESTORE_ACTION
from core.storage import transaction, utcnow

FLOOR_DAYS = 180
PROCESSING_RECORD_DAYS = 3 * 365
KEEP_ACTIONS = (CHECKPOINT_ACTION, RESTORE_ACTION)
REDACT_ACTION = "audit.redact"


class RetentionRefused(ValueError):
    """A redaction that would touch events younger than the retention period."""


def retention_days(site) -> int:
    """The site's retention period in days, never below :data:`FLOOR_DAYS`."""
    if site is None:
        return FLOOR_DAYS
    from core import settings  # core.settings imports core.records, which imports this package

    configured = settings.values(site, "core").get("audit_retention_days") or FLOOR_DAYS
    return max(FLOOR_DAYS, int(configured))


def _stamp(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="microseconds") + "Z"


def _redact(chain_id: int, cutoff: dt.datetime, *, reads: bool) -> int:
    is_read = AuditEvent.action.startswith("read.")
    return (AuditEvent.update(payload=None)
            .where(AuditEvent.chain_id == chain_id, AuditEvent.ts_utc <= _stamp(cutoff),
                   AuditEvent.payload.is_null(False), AuditEvent.action.not_in(KEEP_ACTIONS),
                   is_read if reads else ~is_read)
            .execute())


def redact_before(site, cutoff: dt.datetime, *, now: dt.datetime | None = None) -> int:
    """Redact the payloads of ``site``'s events stamped at or before ``cutoff`` (UTC).

    :param site: a :class:`~core.models.Site`, or None for the platform chain 0.
    :param now: the current time (UTC, naive); tests pass it to stand at a boundary.
    :returns: how many payloads were redacted.
    :raises RetentionRefused: when ``cutoff`` is later than ``now`` minus the
        retention period: younger events are never touched.
    """
    now = now or utcnow()
    days = retention_days(site)
    if cutoff > now - dt.timedelta(days=days):
        raise RetentionRefused(f"events younger than {days} days are kept")
    chain_id = site.id if site is not None else 0
    with transaction():
        count = _redact(chain_id, cutoff, reads=False)
        count += _redact(chain_id, min(cutoff, now - dt.timedelta(days=PROCESSING_RECORD_DAYS)),
                         reads=True)
        if count:
            log.append(REDACT_ACTION, site_id=chain_id or None, object_type="audit_chain",
                       object_id=chain_id, payload={"before": _stamp(cutoff), "events": count,
                                                    "retention_days": days})
    return count


def redact_expired(site, *, now: dt.datetime | None = None) -> int:
    """Redact every payload of ``site``'s chain older than its retention period (the daily job)."""
    now = now or utcnow()
    return redact_before(site, now - dt.timedelta(days=retention_days(site)), now=now)
