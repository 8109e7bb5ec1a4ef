"""The demo instance (`grassroots demo`): idempotent, marked as demo, second factors enrolled."""

from __future__ import annotations

import pyotp

from core import auth, demo
from core.cli import cli
from core.models import Membership, Site, User
from core.testing import make_user


def test_demo_builds_the_tree_people_and_second_factors(app):
    built = demo.build()
    office = built.sites["heping"]
    assert office.name == "和平街道办事处"
    children = {s.name: s.kind for s in Site.select().where(Site.parent == office)}
    assert children == {"东风村": "village", "阳光社区": "urban_community",
                        "阳光社区卫生服务站": "health_station"}
    users = list(User.select())
    assert len(users) == len(demo.PEOPLE) and all(u.is_demo for u in users)
    roles = {m.role for m in Membership.select()}
    assert roles == {"site_admin", "leader", "staff", "supervisor"}
    assert any(u.is_platform_admin for u in users)
    for user in users:
        assert bool(user.totp_secret) == auth.mfa_required(user), user.username
        assert auth.authenticate(user.username, demo.DEMO_PASSWORD, None).user is not None


def test_A5_demo_accounts_are_marked_and_the_password_passes_the_policy(app):
    demo.build()
    assert auth.policy_violations(demo.DEMO_PASSWORD) == []
    assert not User.select().where(User.is_demo == False).exists()  # noqa: E712


def test_demo_twice_changes_nothing(app):
    first = demo.build()
    again = demo.build()
    assert [u.id for u in first.users.values()] == [u.id for u in again.users.values()]
    assert first.logins == again.logins
    assert Site.select().count() == len(demo.SITES)


def test_demo_code_is_what_an_authenticator_app_shows(app):
    built = demo.build()
    secret = built.users["admin"].totp_secret
    code, left = demo.current_code(secret)
    assert pyotp.TOTP(secret).verify(code) and 0 < left <= 30


def test_demo_command_twice_and_codes(runner):
    for _ in range(2):
        result = runner.invoke(cli, ["demo", "--no-serve"])
        assert result.exit_code == 0, result.output
        assert "赵建国" in result.output and "second factor: TOTP secret" in result.output
        assert demo.DEMO_PASSWORD in result.output and "admin" in result.output
    codes = runner.invoke(cli, ["demo", "codes"])
    assert codes.exit_code == 0 and "admin\t" in codes.output


def test_A5_demo_refuses_a_database_with_real_accounts(runner, site):
    make_user(site)
    result = runner.invoke(cli, ["demo", "--no-serve"])
    assert result.exit_code == 1
    assert "not demo accounts" in result.output
    assert not User.select().where(User.is_demo == True).exists()  # noqa: E712
