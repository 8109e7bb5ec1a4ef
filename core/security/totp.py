"""TOTP second factor (RFC 6238 via pyotp): SHA-1, 6 digits, 30-second steps.

Contract (ASVS 6.5.1, 6.5.3, 6.5.5; SECURITY.md A6):
    * Secrets are 160 random bits from ``secrets`` (base32, 32 characters).
    * A code is accepted within its own 30-second step with ±1 step of clock skew.
    * ``verify_code`` returns the matched time step; the caller stores it as
      ``last_used_step`` so the same code (or an older one) is accepted at most once.
    * Counting wrong codes and locking (A4/A6) is the caller's job.
"""

from __future__ import annotations

import hmac
import re
import unicodedata
from datetime import datetime

import pyotp
import segno

SECRET_LENGTH = 32  # base32 characters × 5 bits = 160 bits
STEP_SECONDS = 30
DIGITS = 6
SKEW_STEPS = 1
QR_SCALE = 4
_CODE = re.compile(r"[0-9]{6}")


def new_secret() -> str:
    """A new base32 TOTP secret of 160 bits from ``secrets`` (ASVS 6.5.3)."""
    return pyotp.random_base32(length=SECRET_LENGTH)


def provisioning_uri(secret: str, account: str, issuer: str = "Grassroots") -> str:
    """The ``otpauth://totp/…`` URI an authenticator app enrols from (shown as a QR code)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=account, issuer_name=issuer
    )


def time_step(now: datetime) -> int:
    """The RFC 6238 counter for ``now`` (timezone-aware; ValueError if naive)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return int(now.timestamp()) // STEP_SECONDS


def verify_code(secret: str, code: str, *, now: datetime, last_used_step: int | None) -> int | None:
    """Return the time step ``code`` belongs to if accepted, else None.

    Accepted: after removing whitespace (and folding full-width digits, NFKC), exactly six
    ASCII digits that match the step of ``now`` or one step either side, and whose step is
    greater than ``last_used_step`` — so a code is accepted at most once (ASVS 6.5.1).
    If a code matches two steps, the later one is returned. Raises ValueError for a naive
    ``now`` or a secret under 112 bits (pyotp's floor).
    """
    current = time_step(now)
    code = "".join(unicodedata.normalize("NFKC", code).split())
    if not _CODE.fullmatch(code):
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    for step in range(current + SKEW_STEPS, current - SKEW_STEPS - 1, -1):
        if last_used_step is not None and step <= last_used_step:
            break
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def qr_svg(uri: str) -> str:
    """The enrolment QR code for ``uri`` as an inline ``<svg>`` element (segno): a full
    (never Micro) QR code, error level M, black on white with a 4-module quiet zone;
    only ``svg``, ``g`` and ``path`` elements — no scripts, links or XML declaration."""
    return segno.make_qr(uri, error="m").svg_inline(scale=QR_SCALE, dark="#000", light="#fff")
