"""TOTP — SECURITY.md 1.1 row A6 (ASVS 6.5.1, 6.5.3, 6.5.5). Expected codes are computed
independently with pyotp's ``TOTP.at`` and checked against the RFC 6238 test vector."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta, timezone

import pyotp
import pytest

from core.security.totp import (
    QR_SCALE,
    new_secret,
    provisioning_uri,
    qr_svg,
    time_step,
    verify_code,
)

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
OTHER_SECRET = "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"
NOW = datetime(2026, 3, 1, 9, 30, 15, tzinfo=UTC)
STEP = int(NOW.timestamp()) // 30


def code_at(step: int, secret: str = SECRET) -> str:
    return pyotp.TOTP(secret).at(step * 30)


def test_A6_rfc6238_test_vector():
    secret = base64.b32encode(b"12345678901234567890").decode()
    at_59 = datetime(1970, 1, 1, 0, 0, 59, tzinfo=UTC)
    assert verify_code(secret, "287082", now=at_59, last_used_step=None) == 1


def test_A6_code_accepted_in_its_step():
    assert verify_code(SECRET, code_at(STEP), now=NOW, last_used_step=None) == STEP


@pytest.mark.parametrize("seconds", [0, 14, 29])
def test_A6_code_accepted_anywhere_in_its_30_second_step(seconds):
    start = datetime.fromtimestamp(STEP * 30, tz=UTC)
    now = start + timedelta(seconds=seconds)
    assert verify_code(SECRET, code_at(STEP), now=now, last_used_step=None) == STEP


@pytest.mark.parametrize("skew", [-1, 1])
def test_A6_code_accepted_one_step_either_side(skew):
    assert verify_code(SECRET, code_at(STEP + skew), now=NOW, last_used_step=None) == STEP + skew


@pytest.mark.parametrize("skew", [-2, 2, -10, 10])
def test_A6_code_refused_two_or_more_steps_away(skew):
    code = code_at(STEP + skew)
    if code in {code_at(STEP + s) for s in (-1, 0, 1)}:
        pytest.skip("6-digit collision with an accepted step")
    assert verify_code(SECRET, code, now=NOW, last_used_step=None) is None


def test_A6_code_refused_when_replayed():
    used = verify_code(SECRET, code_at(STEP), now=NOW, last_used_step=None)
    assert used == STEP
    assert verify_code(SECRET, code_at(STEP), now=NOW, last_used_step=used) is None
    later = NOW + timedelta(seconds=20)  # same code, still inside the skew window
    assert verify_code(SECRET, code_at(STEP), now=later, last_used_step=used) is None


def test_A6_code_of_an_earlier_step_refused_after_a_later_one_was_used():
    assert verify_code(SECRET, code_at(STEP - 1), now=NOW, last_used_step=STEP) is None
    assert verify_code(SECRET, code_at(STEP), now=NOW, last_used_step=STEP - 1) == STEP
    assert verify_code(SECRET, code_at(STEP + 1), now=NOW, last_used_step=STEP) == STEP + 1


def test_A6_wrong_code_refused():
    right = code_at(STEP)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    assert verify_code(SECRET, wrong, now=NOW, last_used_step=None) is None
    assert verify_code(OTHER_SECRET, right, now=NOW, last_used_step=None) is None


@pytest.mark.parametrize(
    "code", ["12a456", "abcdef", "12345", "1234567", "", "      ", "-12345", "+123456", "12345\n6x"]
)
def test_A6_code_with_letters_or_wrong_length_refused(code):
    assert verify_code(SECRET, code, now=NOW, last_used_step=None) is None


def test_A6_letters_refused_even_around_a_valid_code():
    right = code_at(STEP)
    for code in (right + "a", "a" + right, right[:3] + "O" + right[4:]):
        assert verify_code(SECRET, code, now=NOW, last_used_step=None) is None


def test_A6_spaces_stripped():
    right = code_at(STEP)
    for code in (f"{right[:3]} {right[3:]}", f" {right} ", f"{right[:3]}\u3000{right[3:]}"):
        assert verify_code(SECRET, code, now=NOW, last_used_step=None) == STEP


def test_A6_full_width_digits_from_chinese_input_accepted():
    full_width = "".join(chr(ord(d) - ord("0") + ord("０")) for d in code_at(STEP))
    assert verify_code(SECRET, full_width, now=NOW, last_used_step=None) == STEP


@pytest.mark.parametrize("code", ["123456", "abcdef"])
def test_A6_naive_now_refused(code):
    with pytest.raises(ValueError):
        verify_code(SECRET, code, now=NOW.replace(tzinfo=None), last_used_step=None)


def test_A6_time_step_is_rfc6238_counter():
    assert time_step(NOW) == STEP
    assert time_step(NOW.astimezone(timezone(timedelta(hours=8)))) == STEP


def test_A6_secret_is_160_bit_base32():
    secrets_ = {new_secret() for _ in range(200)}
    assert len(secrets_) == 200
    for secret in secrets_:
        assert re.fullmatch(r"[A-Z2-7]{32}", secret)
        assert len(base64.b32decode(secret)) == 20


def test_A6_provisioning_uri_round_trips():
    secret = new_secret()
    uri = provisioning_uri(secret, "张伟@幸福社区")
    assert uri.startswith("otpauth://totp/Grassroots:")
    parsed = pyotp.parse_uri(uri)
    assert (parsed.secret, parsed.name, parsed.issuer) == (secret, "张伟@幸福社区", "Grassroots")
    assert (parsed.digits, parsed.interval) == (6, 30)
    assert pyotp.parse_uri(provisioning_uri(secret, "li", issuer="幸福社区")).issuer == "幸福社区"


def test_A6_qr_svg_is_inline_svg_without_active_content():
    svg = qr_svg(provisioning_uri(new_secret(), "zhang.wei"))
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "<?xml" not in svg and "<!DOCTYPE" not in svg.upper()
    assert set(re.findall(r"<(\w+)", svg)) <= {"svg", "g", "path"}
    assert not re.search(r"\son\w+\s*=|href|javascript:|<script|<foreignObject", svg, re.I)


def test_A6_qr_svg_is_a_full_qr_code_not_micro():
    # Micro QR is at most 17 modules; a full QR is at least 21 plus a 4-module quiet zone.
    svg = qr_svg("otpauth://totp/x")
    width = int(re.search(r'width="(\d+)"', svg).group(1))
    assert width >= (21 + 2 * 4) * QR_SCALE
    assert qr_svg("otpauth://totp/a") != qr_svg("otpauth://totp/b")
