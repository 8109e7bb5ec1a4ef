"""``grassroots check --deploy`` and ``grassroots run`` refuse an unsafe start (SECURITY A5, D5)."""

from __future__ import annotations

import datetime as dt
import os
import secrets

import pytest

from core import auth, identity
from core.app import create_app
from core.cli import cli, security_commands
from core.context import Actor, acting_as
from core.models import User
from core.storage import utcnow
from core.testing import Browser, IsolatedClient, make_user

GOOD_KEY = secrets.token_urlsafe(64)


@pytest.fixture
def prod(app_config, tmp_path, monkeypatch):
    """An app configured as production would be, on its own instance directory."""
    instance = tmp_path / "instance"
    instance.mkdir()
    monkeypatch.setenv("GRASSROOTS_INSTANCE", str(instance))
    key = instance / "audit.key"
    key.write_bytes(secrets.token_bytes(32).hex().encode())
    os.chmod(key, 0o600)
    secret = instance / "secret.key"
    secret.write_text(GOOD_KEY)
    os.chmod(secret, 0o600)
    application = create_app({**app_config, "SECRET_KEY": GOOD_KEY, "AUDIT_KEY_FILE": str(key),
                              "SESSION_COOKIE_SECURE": True,
                              "BASE_URL": "https://grassroots.example.cn",
                              "PASSWORD_HASH_PROFILE": "production"})
    application.test_client_class = IsolatedClient
    with application.app_context(), acting_as(Actor(via="test")):
        yield application


def plain_user(**flags) -> User:
    """A user without a real password (hashing with the production profile is slow)."""
    user = identity.create_user(username=f"u{secrets.token_hex(4)}", display_name="某人",
                                password_hash="$argon2id$unusable", **flags)
    return user


def check(app):
    return app.test_cli_runner().invoke(cli, ["check", "--deploy"])


def lines(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line]


def test_D5_a_clean_instance_passes(prod):
    result = check(prod)
    assert result.exit_code == 0, result.stderr
    assert "ready for production" in result.output


def test_A5_a_demo_account_refuses(prod):
    plain_user(is_demo=True)
    result = check(prod)
    assert result.exit_code == 1
    assert len(lines(result)) == 1 and "demo account" in lines(result)[0]


def test_A5_an_unused_initial_password_refuses_until_used(prod):
    prod.config["PASSWORD_HASH_PROFILE"] = "test"  # fast hashing for the set-up only
    user = make_user()
    initial = auth.issue_initial_password(user)
    prod.config["PASSWORD_HASH_PROFILE"] = "production"
    result = check(prod)
    assert result.exit_code == 1 and len(lines(result)) == 1
    assert "initial password" in lines(result)[0] and user.username in lines(result)[0]
    assert initial not in result.stderr
    prod.config["PASSWORD_HASH_PROFILE"] = "test"
    assert Browser(prod.test_client()).login(user, password=initial).status_code == 302
    prod.config["PASSWORD_HASH_PROFILE"] = "production"
    assert check(prod).exit_code == 0, "a used initial password can no longer sign in"


def test_A5_an_expired_initial_password_does_not_refuse(prod):
    plain_user(must_change_password=True,
               initial_password_expires_at=utcnow() - dt.timedelta(minutes=1))
    assert check(prod).exit_code == 0


@pytest.mark.parametrize(("key", "problem"), [
    ("x" * 49, "49 characters"),
    ("abcd" * 13, "4 distinct"),
    (None, "not set"),
])
def test_D5_a_weak_secret_key_refuses(prod, key, problem):
    prod.config["SECRET_KEY"] = key
    result = check(prod)
    assert result.exit_code == 1 and problem in result.stderr


def test_D5_fifty_varied_characters_are_enough(prod):
    prod.config["SECRET_KEY"] = "abcde" * 10
    assert check(prod).exit_code == 0


def test_D5_debug_refuses(prod):
    prod.config["DEBUG"] = True
    result = check(prod)
    assert result.exit_code == 1 and "DEBUG" in result.stderr


def test_D5_a_missing_audit_key_refuses(prod):
    os.remove(prod.config["AUDIT_KEY_FILE"])
    result = check(prod)
    assert result.exit_code == 1 and "audit key" in result.stderr


@pytest.mark.parametrize("name", ["audit.key", "secret.key", "config.py"])
def test_D5_a_secret_file_readable_by_others_refuses(prod, name):
    path = os.path.join(prod.instance_path, name)
    if not os.path.exists(path):
        with open(path, "w") as handle:
            handle.write("# settings\n")
    os.chmod(path, 0o644)
    result = check(prod)
    assert result.exit_code == 1
    assert lines(result) == [f"{path} has mode 0644; secrets need 0600 (chmod 600 {path})"]


def test_D5_test_settings_are_refused_in_production(prod):
    prod.config.update(SESSION_COOKIE_SECURE=False, PASSWORD_HASH_PROFILE="test")
    result = check(prod)
    assert result.exit_code == 1
    assert len(lines(result)) == 2


@pytest.mark.parametrize("url", ["http://localhost:5000", "", None])
def test_F4_a_base_url_without_https_refuses(prod, url):
    prod.config["BASE_URL"] = url
    result = check(prod)
    assert result.exit_code == 1 and "BASE_URL" in lines(result)[0]


def test_D5_every_problem_is_one_line(prod):
    prod.config.update(DEBUG=True, SECRET_KEY="short")
    os.chmod(prod.config["AUDIT_KEY_FILE"], 0o640)
    plain_user(is_demo=True)
    result = check(prod)
    assert result.exit_code == 1 and len(lines(result)) == 4


def _served(monkeypatch):
    calls = []
    monkeypatch.setattr(security_commands, "serve_production",
                        lambda app, host, port, workers: calls.append(("gunicorn", host, port)))
    monkeypatch.setattr(security_commands, "serve_demo",
                        lambda app, host, port: calls.append(("flask", host, port)))
    return calls


def test_A5_run_refuses_while_the_check_fails(prod, monkeypatch):
    calls = _served(monkeypatch)
    plain_user(is_demo=True)
    result = prod.test_cli_runner().invoke(cli, ["run"])
    assert result.exit_code == 1 and "demo account" in result.stderr
    assert calls == []


def test_A5_run_serves_with_gunicorn_when_the_check_passes(prod, monkeypatch):
    calls = _served(monkeypatch)
    result = prod.test_cli_runner().invoke(cli, ["run", "--host", "192.0.2.10", "--port", "8080"])
    assert result.exit_code == 0, result.output
    assert calls == [("gunicorn", "192.0.2.10", 8080)]


def test_A5_run_demo_skips_the_check_and_uses_the_development_server(prod, monkeypatch):
    calls = _served(monkeypatch)
    plain_user(is_demo=True)
    result = prod.test_cli_runner().invoke(cli, ["run", "--demo"])
    assert result.exit_code == 0, result.output
    assert calls == [("flask", "127.0.0.1", 8000)]


def test_A5_gunicorn_is_installed_for_run():
    from gunicorn.app.base import BaseApplication

    assert BaseApplication
