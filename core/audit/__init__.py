"""The kernel's audit trail: append, sensitive reads, checkpoints, verification, retention.

SECURITY.md §3. Plugins use :func:`read` for sensitive reads and
``core.records`` (which calls :func:`append`) for writes; ``docs/audit.md`` is
the guide. The rest serves the ``grassroots audit`` commands, the audit page,
the backup's restore and the daily jobs.
"""

from core.audit.chain import NonCanonicalValue
from core.audit.checkpoints import KeyFileError, checkpoint_now
from core.audit.log import NotInTransaction, append
from core.audit.reads import READ_KINDS, read
from core.audit.restores import record_restore
from core.audit.retention import RetentionRefused, redact_before, redact_expired
from core.audit.verify import KINDS, verify_chains

__all__ = [
    "KINDS",
    "READ_KINDS",
    "KeyFileError",
    "NonCanonicalValue",
    "NotInTransaction",
    "RetentionRefused",
    "append",
    "checkpoint_now",
    "read",
    "record_restore",
    "redact_before",
    "redact_expired",
    "verify_chains",
]
