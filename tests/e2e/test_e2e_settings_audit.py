"""A site administrator changes a setting; a supervisor finds the change in the audit log."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def test_setting_change_appears_in_the_audit_log(person):
    admin = person()
    admin.sign_in("zhouhong")
    page = admin.page
    admin.visit("/admin/settings/", "settings")
    admin.click("a[href='/admin/settings/core']", "settings-core")
    page.fill("#f-audit_retention_days", "400")
    admin.submit("main form", "settings-saved")
    assert page.locator("main .flash.success").count() == 1
    assert "400" in page.inner_text("main table")

    supervisor = person()
    supervisor.sign_in("chenjing")
    log = supervisor.page
    supervisor.visit("/audit/?action=core.setting.change", "audit-filtered")
    rows = log.locator("table.audit-events tbody tr")
    assert rows.count() == 1
    assert "周红" in rows.first.inner_text()
    supervisor.click("table.audit-events tbody tr a", "audit-event")
    changes = log.inner_text("main table")
    assert "core.audit_retention_days" in changes
    assert "180" in changes and "400" in changes
