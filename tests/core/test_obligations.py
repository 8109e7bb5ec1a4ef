"""Obligations: the hook, roll-up to the parent, due-soon window, reminders, page and widget.

ARCHITECTURE "Obligations"; SECURITY Z2 (a site never sees another's), Z6
(a parent sees only the children it holds a grant over).
"""

from __future__ import annotations

import datetime as dt

import pytest

from core import PluginInfo, bundles, hookimpl, identity, settings
from core.cli import cli
from core.models import Notification, User
from core.obligations import (
    DONE,
    DUE_SOON,
    LATER,
    OVERDUE,
    Obligation,
    classify,
    collect,
    collect_tree,
    notify_due,
)
from core.testing import Browser, make_site, make_user, register_test_plugin

TODAY = dt.date(2026, 3, 10)


class Duties:
    """A test plugin whose obligations are set per site by the test."""

    def __init__(self):
        self.by_site: dict[int, list[Obligation]] = {}
        self.calls: list[tuple[int, dt.date]] = []

    @hookimpl
    def plugin_info(self):
        return PluginInfo(name="gr_duties", title="职责")

    @hookimpl
    def obligations(self, site, today):
        self.calls.append((site.id, today))
        return list(self.by_site.get(site.id, ()))


@pytest.fixture
def duties(app):
    with register_test_plugin(app, Duties(), "gr_duties") as plugin:
        yield plugin


def ob(title, days, **extra) -> Obligation:
    return Obligation(title=title, due=TODAY + dt.timedelta(days=days),
                      citation=extra.pop("citation", "rules/test.md#R1"), **extra)


def signed_in(app, user, site=None) -> Browser:
    browser = Browser(app.test_client())
    browser.login(user, site=site)
    return browser


def main_of(response) -> str:
    text = response.get_data(as_text=True)
    return text[text.index('<main id="main">'):text.index("</main>")]


def test_hook_obligations_collect_sorts_by_due_and_stamps_plugin_and_site(app, site, duties):
    bundles.enable(site, "gr_duties")
    duties.by_site[site.id] = [ob("开党员大会", 20), ob("公开财务", 2), ob("交台账", 9)]
    found = collect(site, TODAY)
    assert [o.title for o in found] == ["公开财务", "交台账", "开党员大会"]
    assert {(o.plugin, o.site.id) for o in found} == {("gr_duties", site.id)}
    assert duties.calls == [(site.id, TODAY)]


def test_hook_obligations_is_called_only_where_the_plugin_is_enabled(app, two_sites, duties):
    a, b = two_sites
    bundles.enable(a, "gr_duties")
    duties.by_site = {a.id: [ob("甲的事", 1)], b.id: [ob("乙的事", 1)]}
    assert [o.title for o in collect(a, TODAY)] == ["甲的事"]
    assert collect(b, TODAY) == []
    assert [sid for sid, _ in duties.calls] == [a.id]


@pytest.mark.parametrize(("days", "done", "expected"), [
    (-1, False, OVERDUE), (0, False, DUE_SOON), (7, False, DUE_SOON), (8, False, LATER),
    (-30, True, DONE), (3, True, DONE),
])
def test_classify_at_the_window_edges(days, done, expected):
    assert classify(ob("x", days, done=done), TODAY, 7) == expected


def test_due_soon_window_is_a_site_setting(app, site):
    assert settings.values(site, "core")["obligation_due_soon_days"] == 7
    settings.change(site, "core", "obligation_due_soon_days", 14)
    from core.obligations import due_soon_days

    assert due_soon_days(site) == 14
    assert classify(ob("x", 14), TODAY, due_soon_days(site)) == DUE_SOON


def test_due_soon_window_shows_in_settings_show_with_its_citation(app, site, runner):
    result = runner.invoke(cli, ["settings", "show", "--site", site.code, "--plugin", "core"])
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if "obligation_due_soon_days" in x)
    assert "= 7" in line and "由各单位自定" in line


def test_identity_is_stable_and_uses_the_key_when_given():
    first, again = ob("开会", 3, plugin="p"), ob("开会", 3, plugin="p")
    assert first.identity() == again.identity()
    assert first.identity() != ob("开会", 4, plugin="p").identity()
    assert ob("标题一", 3, key="meeting:1").identity() == ob("标题二", 9,
                                                           key="meeting:1").identity()


@pytest.fixture
def office_tree(app, duties):
    office = make_site("street_office", name="东城街道")
    granted = make_site(parent=office, name="和平社区")
    hidden = make_site(parent=office, name="幸福社区")
    identity.grant(office, granted, "read")
    for s in (office, granted, hidden):
        bundles.enable(s, "gr_duties")
    duties.by_site = {office.id: [ob("街道述职", 5)], granted.id: [ob("和平的会", 1)],
                      hidden.id: [ob("幸福的会", 2)]}
    return office, granted, hidden


def test_Z6_collect_tree_rolls_up_granted_children_only(office_tree):
    office, granted, _hidden = office_tree
    assert [(o.title, o.site.id) for o in collect_tree(office, TODAY)] == [
        ("和平的会", granted.id), ("街道述职", office.id)]
    everything = collect_tree(office, TODAY, every_child=True)
    assert [o.title for o in everything] == ["和平的会", "幸福的会", "街道述职"]
    assert [o.title for o in collect_tree(granted, TODAY)] == ["和平的会"]


def test_notify_due_reminds_members_once_a_day(app, site, duties):
    bundles.enable(site, "gr_duties")
    staff, leader = make_user(site, roles=("staff",)), make_user(site, roles=("leader",))
    gone = make_user(site, roles=("staff",))
    User.update(is_active=False).where(User.id == gone.id).execute()
    duties.by_site[site.id] = [ob("公开财务", 2, url="/finance/1"), ob("交台账", -3),
                               ob("开大会", 30), ob("已办完", 1, done=True)]

    assert notify_due(site, TODAY) == 4  # two obligations × two active members
    notes = list(Notification.select().where(Notification.user == staff))
    assert sorted(n.url for n in notes) == ["/finance/1", "/obligations/"]
    assert any("公开财务" in n.title for n in notes) and any("交台账" in n.title for n in notes)
    assert all("rules/test.md#R1" in n.body for n in notes)
    assert Notification.select().where(Notification.user == leader).count() == 2
    assert not Notification.select().where(Notification.user == gone).exists()

    assert notify_due(site, TODAY) == 0
    assert notify_due(site, TODAY + dt.timedelta(days=1)) == 4


def test_notify_due_cli_for_a_daily_cron(app, site, duties, runner):
    bundles.enable(site, "gr_duties")
    make_user(site, roles=("staff",))
    duties.by_site[site.id] = [ob("公开财务", 2)]
    result = runner.invoke(cli, ["obligations", "notify", "--date", TODAY.isoformat()])
    assert result.exit_code == 0, result.output
    assert f"{site.code}: 1 reminders" in result.output
    again = runner.invoke(cli, ["obligations", "notify", "--date", TODAY.isoformat(),
                                "--site", site.code])
    assert again.exit_code == 0 and "0 reminders" in again.output
    bad = runner.invoke(cli, ["obligations", "notify", "--date", "10/03/2026"])
    assert bad.exit_code == 1 and "YYYY-MM-DD" in bad.output
    unknown = runner.invoke(cli, ["obligations", "notify", "--site", "nowhere"])
    assert unknown.exit_code == 1 and "nowhere" in unknown.output


@pytest.fixture
def frozen_today(monkeypatch):
    from core import obligations

    monkeypatch.setattr(obligations, "local_today", lambda: TODAY)


def test_Z5_obligations_page_matrix(app, site, duties, frozen_today, client):
    response = client.get("/obligations/")
    assert response.status_code == 302 and "/login" in response.location
    for role in ("staff", "leader", "supervisor", "site_admin"):
        browser = signed_in(app, make_user(site, roles=(role,)), site)
        assert browser.get("/obligations/").status_code == 200, role
    nowhere = signed_in(app, make_user())
    assert nowhere.get("/obligations/").status_code == 404


def test_page_lists_own_and_granted_children_with_their_source(app, office_tree, frozen_today):
    office, granted, _hidden = office_tree
    browser = signed_in(app, make_user(office, roles=("staff",)), office)
    text = main_of(browser.get("/obligations/"))
    assert "街道述职" in text and "和平的会" in text and "幸福的会" not in text
    assert "rules/test.md#R1" in text
    assert "和平社区" in text  # the per-site counts and the site column
    only_child = main_of(browser.get("/obligations/", query_string={"site": granted.id}))
    assert "和平的会" in only_child and "街道述职" not in only_child


def test_platform_admin_page_rolls_up_every_child(app, office_tree, frozen_today):
    office = office_tree[0]
    browser = signed_in(app, make_user(platform_admin=True), office)
    assert "幸福的会" in main_of(browser.get("/obligations/"))


def test_Z2_a_site_never_sees_another_sites_obligations(app, two_sites, duties, frozen_today):
    a, b = two_sites
    for s in (a, b):
        bundles.enable(s, "gr_duties")
    duties.by_site = {a.id: [ob("甲社区的秘密", 1)], b.id: [ob("乙社区的事", 1)]}
    browser = signed_in(app, make_user(b, roles=("site_admin",)), b)
    text = browser.get("/obligations/").get_data(as_text=True)
    assert "乙社区的事" in text and "甲社区的秘密" not in text
    assert "甲社区的秘密" not in browser.get("/").get_data(as_text=True)
    assert "甲社区的秘密" not in browser.get(f"/obligations/?site={a.id}").get_data(as_text=True)


def test_page_filters_searches_and_pages(app, site, duties, frozen_today):
    bundles.enable(site, "gr_duties")
    duties.by_site[site.id] = [ob("公开财务", -2), ob("交台账", 3), ob("开大会", 30),
                               ob("已办完的事", 1, done=True)]
    browser = signed_in(app, make_user(site, roles=("staff",)), site)
    default = main_of(browser.get("/obligations/"))
    assert "公开财务" in default and "开大会" in default and "已办完的事" not in default
    overdue = main_of(browser.get("/obligations/?status=overdue"))
    assert "公开财务" in overdue and "交台账" not in overdue
    done = main_of(browser.get("/obligations/?status=done"))
    assert "已办完的事" in done and "公开财务" not in done
    found = main_of(browser.get("/obligations/", query_string={"q": "taizhang"}))
    assert "交台账" in found and "公开财务" not in found
    app.config["PAGE_SIZE"] = 2
    first = main_of(browser.get("/obligations/?status=all"))
    second = main_of(browser.get("/obligations/?status=all&page=2"))
    assert "公开财务" in first and "开大会" not in first and "开大会" in second


def test_hook_dashboard_widgets_kernel_widget_shows_next_obligations(app, site, duties,
                                                                   frozen_today):
    bundles.enable(site, "gr_duties")
    duties.by_site[site.id] = [ob(f"事项{n}", n) for n in range(1, 8)] + [
        ob("办完了", 0, done=True)]
    browser = signed_in(app, make_user(site, roles=("staff",)), site)
    text = main_of(browser.get("/"))
    assert "事项1" in text and "事项5" in text and "事项6" not in text
    assert "办完了" not in text
    assert 'href="/obligations/"' in text
