"""The audit page: who sees it, what it shows, and that looking is itself logged.

SECURITY §3.3 item 9, §5 rows "Audit log access" and "Stored XSS" (the audit
log is where Decidim had stored XSS, CVE-2024-32034), E5 (spreadsheet cells).
"""

import io
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from core.audit import checkpoints, log
from core.audit.models import AuditEvent
from core.storage import transaction
from core.testing import Browser, make_user

XSS = '<script>alert("audit")</script>'


def last_event(action):
    return AuditEvent.select().where(AuditEvent.action == action).order_by(
        AuditEvent.id.desc()).first()


def add_event(site, **kwargs):
    with transaction():
        return log.append(kwargs.pop("action", "test.thing.update"), site_id=site.id, **kwargs)


@pytest.mark.parametrize(("role", "status"), [("leader", 200), ("supervisor", 200),
                                              ("staff", 403), ("site_admin", 403)])
def test_audit_page_only_for_leader_supervisor_and_platform_admin(app, site, browser, role,
                                                                   status):
    browser.login(make_user(site, roles=(role,)), site=site)
    assert browser.get("/audit/").status_code == status


def test_audit_page_guest_goes_to_login(app, client):
    response = client.get("/audit/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_viewing_the_audit_log_is_an_audit_event(app, site, browser):
    leader = make_user(site, roles=("leader",))
    browser.login(leader, site=site)
    assert browser.get("/audit/?action=core.member").status_code == 200
    event = last_event("audit.view")
    assert (event.chain_id, event.actor_id) == (site.id, leader.id)
    assert '"action":"core.member"' in event.payload


def test_E1_audit_log_escapes_payloads_and_names(app, site, browser):
    from core.context import Actor, acting_as
    from core.models import User

    leader = make_user(site, roles=("leader",))
    User.update(display_name=XSS).where(User.id == leader.id).execute()
    with acting_as(Actor(user_id=leader.id, site_id=site.id)):
        add_event(site, object_type="test_thing", object_id=XSS, after={"name": XSS},
                  payload={"note": XSS})
    browser.login(leader, site=site)
    page = browser.get("/audit/").get_data(as_text=True)
    assert "&lt;script&gt;alert(" in page
    assert XSS not in page
    event = AuditEvent.select().where(AuditEvent.object_id == XSS).get()
    detail = browser.get(f"/audit/{event.id}").get_data(as_text=True)
    assert detail.count("&lt;script&gt;alert(") >= 2
    assert XSS not in detail and "<script>alert(" not in detail
    printed = browser.get("/audit/print").get_data(as_text=True)
    assert "<script>alert(" not in printed


def test_detail_shows_before_and_after(app, site, browser):
    event = add_event(site, object_type="test_thing", object_id=1,
                      before={"title": "旧标题", "phone": "13812345678"},
                      after={"title": "新标题", "phone": "13987654321"})
    browser.login(make_user(site, roles=("supervisor",)), site=site)
    page = browser.get(f"/audit/{event.id}").get_data(as_text=True)
    assert "旧标题" in page and "新标题" in page
    assert "138****5678" in page and "139****4321" in page
    assert "13812345678" not in page


def test_Z2_leader_of_site_b_gets_404_for_site_a_events(app, two_sites, browser):
    a, b = two_sites
    marker = add_event(a, object_type="test_thing", object_id="marker-of-site-a")
    browser.login(make_user(b, roles=("leader",)), site=b)
    assert browser.get(f"/audit/{marker.id}").status_code == 404
    for path in ("/audit/", f"/audit/?site={a.id}", "/audit/print",
                 f"/audit/print?site={a.id}"):
        assert "marker-of-site-a" not in browser.get(path).get_data(as_text=True)
    sheet = browser.get(f"/audit/export.xlsx?site={a.id}")
    assert b"marker-of-site-a" not in sheet.data


def test_platform_admin_sees_every_site_and_may_choose(app, two_sites, browser):
    a, b = two_sites
    add_event(a, object_type="test_thing", object_id="marker-in-site-a")
    add_event(b, object_type="test_thing", object_id="marker-in-site-b")
    admin = make_user(platform_admin=True)
    browser.login(admin, site=b)
    page = browser.get("/audit/?site=all").get_data(as_text=True)
    assert "marker-in-site-a" in page and "marker-in-site-b" in page
    assert '<option value="all"' in page
    only_a = browser.get(f"/audit/?site={a.id}").get_data(as_text=True)
    assert "marker-in-site-a" in only_a and "marker-in-site-b" not in only_a
    event = AuditEvent.get(AuditEvent.object_id == "marker-in-site-a")
    assert browser.get(f"/audit/{event.id}").status_code == 200
    assert last_event("audit.view").chain_id == a.id


def test_filters_by_action_user_type_and_dates(app, site, browser):
    leader = make_user(site, roles=("leader",), username="filterleader")
    add_event(site, action="party.meeting.create", object_type="party_meeting", object_id=1)
    add_event(site, action="party.member.create", object_type="party_member", object_id=2)
    browser.login(leader, site=site)

    def objects(query):
        page = browser.get("/audit/?" + query).get_data(as_text=True)
        return set(re.findall(r"(party_\w+)", page))

    assert objects("action=party.meeting") == {"party_meeting"}
    assert objects("object_type=party_member") == {"party_member"}
    assert objects("user=filterleader") == set()
    assert objects("date_from=2000-01-01&date_to=2999-12-31") == {"party_meeting",
                                                                   "party_member"}
    assert objects("date_to=2000-01-01") == set()


def test_a_bad_date_keeps_the_input_and_names_the_field(app, site, browser):
    browser.login(make_user(site, roles=("leader",)), site=site)
    page = browser.get("/audit/?date_from=2026-13-45&user=someone").get_data(as_text=True)
    assert 'id="e-date_from"' in page
    assert 'value="2026-13-45"' in page and 'value="someone"' in page
    reversed_dates = browser.get("/audit/?date_from=2026-02-01&date_to=2026-01-01")
    assert 'id="e-date_to"' in reversed_dates.get_data(as_text=True)


def test_list_pages_and_shows_times_in_chinese(app, site, browser):
    app.config["PAGE_SIZE"] = 3
    for n in range(8):
        add_event(site, object_id=n)
    browser.login(make_user(site, roles=("leader",)), site=site)
    page = browser.get("/audit/").get_data(as_text=True)
    assert "rel=\"next\"" in page
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日", page)
    assert browser.get("/audit/?page=2").status_code == 200


def test_E5_excel_export_defuses_formulas_and_is_logged(app, site, browser):
    add_event(site, object_type="test_thing", object_id="=HYPERLINK(\"http://x\")")
    add_event(site, object_type="test_thing", object_id="@SUM(A1)")
    browser.login(make_user(site, roles=("leader",)), site=site)
    response = browser.get("/audit/export.xlsx")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    sheet = load_workbook(io.BytesIO(response.data)).active
    values = [cell.value for row in sheet.iter_rows() for cell in row]
    assert "'=HYPERLINK(\"http://x\")" in values and "'@SUM(A1)" in values
    assert not any(isinstance(v, str) and v.startswith(("=", "+", "-", "@")) for v in values)
    export = last_event("audit.export")
    assert export.chain_id == site.id and '"rows":' in export.payload


def test_printable_version_has_a_print_button_and_is_logged(app, site, browser):
    add_event(site, object_type="test_thing", object_id="printed-row")
    browser.login(make_user(site, roles=("supervisor",)), site=site)
    page = browser.get("/audit/print").get_data(as_text=True)
    assert "data-print" in page and "printed-row" in page
    assert last_event("audit.print").chain_id == site.id


def test_todays_fingerprint_is_shown_for_the_paper_register(app, site, browser):
    browser.login(make_user(site, roles=("supervisor",)), site=site)
    assert 'class="checkpoint-none"' in browser.get("/audit/").get_data(as_text=True)
    taken = checkpoints.checkpoint_now()
    page = browser.get("/audit/").get_data(as_text=True)
    digits = taken.fingerprint
    assert len(digits) == 16
    assert " ".join(digits[i:i + 4] for i in range(0, 16, 4)) in page


def test_a_forged_newest_checkpoint_is_not_offered_for_copying(app, site, browser):
    taken = checkpoints.checkpoint_now()
    day_file = next(Path(app.config["CHECKPOINT_DIR"]).glob("*.json"))
    day_file.write_text(day_file.read_text().replace(taken.record["mac"], "f" * 64))
    browser.login(make_user(site, roles=("supervisor",)), site=site)
    page = browser.get("/audit/").get_data(as_text=True)
    assert "ffff ffff" not in page and 'class="fingerprint"' not in page
    assert "checkpoint-invalid" in page


def test_no_route_changes_an_event(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("audit."):
            assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule


def test_site_selector_is_ignored_for_site_members(app, two_sites, browser):
    _, b = two_sites
    add_event(b, object_type="test_thing", object_id="own-row")
    browser.login(make_user(b, roles=("leader",)), site=b)
    page = browser.get("/audit/?site=all").get_data(as_text=True)
    assert "own-row" in page and '<option value="all"' not in page


def test_L2_refused_authorizations_are_logged(app, two_sites, browser):
    a, b = two_sites
    foreign = add_event(a, object_type="test_thing", object_id="of-site-a")
    staff = make_user(b, roles=("staff",))
    browser.login(staff, site=b)
    assert browser.get("/audit/").status_code == 403
    assert browser.get(f"/audit/{foreign.id}").status_code in (403, 404)
    refused = list(AuditEvent.select().where(AuditEvent.action == "read.refused")
                   .order_by(AuditEvent.id))
    assert [(e.chain_id, e.actor_id, e.result) for e in refused] == [(b.id, staff.id,
                                                                       "refused")] * 2
    assert '"status":403' in refused[0].payload
    assert '"endpoint":"audit.events"' in refused[0].payload
    leader = make_user(b, roles=("leader",))
    browser = Browser(app.test_client())
    browser.login(leader, site=b)
    assert browser.get(f"/audit/{foreign.id}").status_code == 404
    last = last_event("read.refused")
    assert last.actor_id == leader.id and '"status":404' in last.payload
    assert browser.get("/no-such-page").status_code == 404
    assert last_event("read.refused").id == last.id
