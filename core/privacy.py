"""Display masking of personal data (SECURITY.md §2.7, GB/T 35273 §7.2).

ID numbers show the area code and the last four digits
(``110105********1234``), mobiles the first three and last four
(``138****5678``). Plugins mask with these functions in lists, pages and
exports; the audit log uses them for payloads (SECURITY §3.3 item 4).
"""

from __future__ import annotations

import hashlib
import hmac

#: field names the kernel always treats as personal data in audit payloads
PI_FIELDS = frozenset({"id_number", "id_card", "phone", "mobile", "telephone"})


def mask_id_number(value: str | None, keep_head: int = 6, keep_tail: int = 4) -> str:
    """``110105199001011234`` → ``110105********1234``."""
    if not value:
        return ""
    value = str(value)
    if len(value) <= keep_head + keep_tail:
        return "*" * len(value)
    return value[:keep_head] + "*" * (len(value) - keep_head - keep_tail) + value[-keep_tail:]


def mask_phone(value: str | None, keep_head: int = 3, keep_tail: int = 4) -> str:
    """``13812345678`` → ``138****5678``."""
    return mask_id_number(value, keep_head, keep_tail)


def mask_name(value: str | None) -> str:
    """``张晓明`` → ``张*明``; two characters → ``张*`` (public notices, SECURITY §2.7)."""
    if not value:
        return ""
    if len(value) == 1:
        return value
    if len(value) == 2:
        return value[0] + "*"
    return value[0] + "*" * (len(value) - 2) + value[-1]


def keyed_fingerprint(key: bytes, value: str) -> str:
    """A keyed hash proving that a value changed without storing it."""
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def mask_for_audit(key: bytes, field: str, value):
    """The audit form of one personal-data value: masked text plus a keyed hash."""
    if value is None or value == "":
        return value
    text = str(value)
    masked = mask_phone(text) if field in ("phone", "mobile", "telephone") \
        else mask_id_number(text)
    return {"masked": masked, "hmac": keyed_fingerprint(key, text)}
