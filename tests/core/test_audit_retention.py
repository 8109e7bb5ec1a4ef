"""Audit payload retention: redacted after the period, never before 180 days.

SECURITY §2.3, §2.8, §3.3 item 3; §5 row "Security/audit events purgeable
before 180 days: 0", tested at the floor −1 day and at the floor.
"""

import datetime as dt

import pytest
from marshmallow import ValidationError

from core import settings
from core.audit import log, read, redact_before, redact_expired, retention
from core.audit.models import AuditEvent
from core.audit.verify import verify_chains
from core.models import SettingValue
from core.storage import transaction

DAY = dt.timedelta(days=1)


def an_event(site, action="test.thing.update"):
    with transaction():
        event = log.append(action, site_id=site.id, after={"title": "x"})
    return event, dt.datetime.fromisoformat(event.ts_utc.rstrip("Z"))


def payload(event):
    return AuditEvent.get_by_id(event.id).payload


def test_floor_minus_one_day_keeps_the_payload_and_refuses_an_explicit_cutoff(app, site):
    event, stamp = an_event(site)
    now = stamp + 179 * DAY
    assert redact_expired(site, now=now) == 0
    assert payload(event) is not None
    with pytest.raises(retention.RetentionRefused):
        redact_before(site, stamp, now=now)
    assert payload(event) is not None


def test_at_the_floor_the_payload_is_redacted_and_the_redaction_is_an_event(app, site):
    event, stamp = an_event(site)
    later, _ = an_event(site)
    assert redact_expired(site, now=stamp + 180 * DAY) >= 1
    assert payload(event) is None and payload(later) is not None
    redaction = AuditEvent.select().where(AuditEvent.chain_id == site.id,
                                          AuditEvent.action == "audit.redact").get()
    assert '"retention_days":180' in redaction.payload
    report = verify_chains([site.id], checkpoint_dir=app.config["CHECKPOINT_DIR"],
                           key=b"00" * 32)
    assert report.ok and report.chains[0].redacted >= 1


def test_a_longer_site_setting_is_honoured(app, site):
    settings.change(site, "core", "audit_retention_days", 365)
    event, stamp = an_event(site)
    assert redact_expired(site, now=stamp + 364 * DAY) == 0
    with pytest.raises(retention.RetentionRefused):
        redact_before(site, stamp, now=stamp + 200 * DAY)
    assert redact_expired(site, now=stamp + 365 * DAY) >= 1
    assert payload(event) is None


def test_no_setting_goes_below_180_days(app, site):
    with pytest.raises(ValidationError):
        settings.change(site, "core", "audit_retention_days", 30)
    SettingValue.create(site=site, plugin="core", key="audit_retention_days", value="30")
    assert retention.retention_days(site) == 180
    event, stamp = an_event(site)
    assert redact_expired(site, now=stamp + 30 * DAY) == 0
    assert payload(event) is not None


def test_processing_records_and_anchors_are_kept_longer(app, site):
    reading = read("health_record", site=site, fields=["diagnosis"], purpose="随访", rows=1,
                   kind="view")
    stamp = dt.datetime.fromisoformat(reading.ts_utc.rstrip("Z"))
    with transaction():
        anchor = log.append("audit.checkpoint", site_id=site.id, payload={"heads": []})
    redact_expired(site, now=stamp + 400 * DAY)
    assert payload(reading) is not None and payload(anchor) is not None
    redact_expired(site, now=stamp + 3 * 365 * DAY)
    assert payload(reading) is None and payload(anchor) is not None


def test_redact_command_runs_over_every_site(app, runner, site):
    from core.cli import cli

    an_event(site)
    result = runner.invoke(cli, ["audit", "redact", "--all"])
    assert result.exit_code == 0, result.output
    assert "platform: 0 payloads redacted (older than 180 days)" in result.output
    assert f"{site.name}: 0 payloads redacted" in result.output
    assert runner.invoke(cli, ["audit", "redact"]).exit_code == 2
