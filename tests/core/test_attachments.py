"""Attachments: checked by content, stored by hash, re-authorised on every download.

SECURITY F3 (size → 413, SVG/HTML/JS refused by sniffing, stored outside the
web root under generated names, served as attachment with nosniff and a
sandbox CSP), Z2 (another site's file is 404), the Decidim lesson (a
download URL is no bearer link: replay after logout fails) and the
``can_view_record`` hook.
"""

from __future__ import annotations

import contextlib
import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
from flask import Blueprint, g, request
from werkzeug.datastructures import FileStorage

from core import attachments, bundles, identity
from core.app import ROOT, create_app
from core.audit.models import AuditEvent
from core.context import Actor, acting_as
from core.models import Attachment, Membership
from core.permissions import Permission
from core.plugins import PluginInfo, hookimpl
from core.sitemodel import CrossSiteReference
from core.testing import Browser, IsolatedClient, make_site, make_user
from core.web.access import requires

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
HTML = b"\xef\xbb\xbf  <!DOCTYPE html><html><body><script>alert(1)</script></body></html>"


def upload(data: bytes, name: str, content_type: str = "application/octet-stream"):
    return FileStorage(stream=io.BytesIO(data), filename=name, content_type=content_type)


def _zip(content_types: bytes, extra=()) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", content_types)
        for name in extra:
            archive.writestr(name, b"x")
    return buffer.getvalue()


def _xlsx() -> bytes:
    buffer = io.BytesIO()
    workbook = openpyxl.Workbook()
    workbook.active["A1"] = "姓名"
    workbook.save(buffer)
    return buffer.getvalue()


DOCX = _zip(b'<Types><Override PartName="/word/document.xml" ContentType="application/'
            b'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
XLSM = _zip(b'<Types><Override PartName="/xl/workbook.xml" ContentType="application/'
            b'vnd.ms-excel.sheet.macroEnabled.main+xml"/></Types>', ("xl/vbaProject.bin",))


# -- what is accepted ---------------------------------------------------------------


@pytest.mark.parametrize(("data", "name", "mime"), [
    (PDF, "通知.pdf", "application/pdf"),
    (PNG, "photo.png", "image/png"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 20, "photo.jpg", "image/jpeg"),
    (b"GIF89a\x01\x00\x01\x00" + b"\x00" * 10, "a.gif", "image/gif"),
    (b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 20, "a.webp", "image/webp"),
    (DOCX, "minutes.docx",
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("会议记录\n第一项：通过。\n".encode(), "minutes.txt", "text/plain; charset=utf-8"),
    ("姓名,电话\n张三,13800000000\n".encode("gb18030"), "名单.csv", "text/csv; charset=utf-8"),
])
def test_F3_allowed_kinds_are_recognised_by_content(site, data, name, mime):
    row = attachments.store(site, site, upload(data, name, "text/html"))
    assert row.mime == mime and row.size == len(data) and row.filename == name


def test_F3_xlsx_from_openpyxl_is_accepted(site):
    row = attachments.store(site, site, upload(_xlsx(), "台账.xlsx"))
    assert row.mime == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# -- what is refused ----------------------------------------------------------------


@pytest.mark.parametrize(("data", "name"), [
    (SVG, "logo.svg"),
    (SVG, "logo.png"),            # the name lies: content decides
    (SVG, "logo.txt"),
    (HTML, "report.pdf"),
    (HTML, "report.txt"),
    (HTML, "report.html"),
    (b"alert(document.cookie)", "app.js"),
    (b"<script>alert(1)</script>", "notes.csv"),
    (b"plain\x00binary", "notes.txt"),
    (b"", "empty.txt"),
    (XLSM, "macros.xlsx"),
    (_zip(b"<Types/>"), "archive.docx"),
    (b"PK\x03\x04not really a zip", "broken.xlsx"),
    (b"MZ\x90\x00\x03", "setup.exe"),
    (b"MZ\x90\x00\x03", "setup.pdf"),
])
def test_F3_other_kinds_are_refused_by_content_whatever_the_name(site, data, name):
    with pytest.raises(attachments.FileTypeRefused) as refused:
        attachments.store(site, site, upload(data, name, "application/pdf"))
    assert refused.value.code == 415
    assert not Attachment.select().exists()


def test_F3_allowed_narrows_the_kinds(site):
    with pytest.raises(attachments.FileTypeRefused):
        attachments.store(site, site, upload(PDF, "a.pdf"), allowed=attachments.IMAGES)
    assert attachments.store(site, site, upload(PNG, "a.png"), allowed=attachments.IMAGES)


def test_F3_over_the_size_limit_is_413_and_leaves_nothing(app, site):
    app.config["ATTACHMENT_MAX_BYTES"] = 100
    with pytest.raises(attachments.FileTooLarge) as refused:
        attachments.store(site, site, upload(PDF + b"x" * 100, "big.pdf"))
    assert refused.value.code == 413
    assert not Attachment.select().exists()
    root = Path(app.config["UPLOAD_DIR"])
    assert [p for p in root.rglob("*") if p.is_file()] == []


# -- how it is kept -------------------------------------------------------------------


def test_F3_bytes_live_outside_the_web_root_under_their_hash(app, site):
    row = attachments.store(site, site, upload(PDF, "../../etc/通知.pdf"))
    path = attachments.path_of(row)
    assert path == Path(app.config["UPLOAD_DIR"]) / row.sha256[:2] / row.sha256
    assert path.read_bytes() == PDF
    assert not path.resolve().is_relative_to(ROOT / "themes")
    assert row.filename == "通知.pdf"


def test_F3_a_name_that_disagrees_with_the_content_gets_the_right_suffix(site):
    assert attachments.store(site, site, upload(PNG, "photo.html")).filename == \
        "photo.html.png"


def test_attachments_are_deduplicated_audited_and_listed_per_owner(app, two_sites):
    a, b = two_sites
    first = attachments.store(a, a, upload(PDF, "one.pdf"))
    second = attachments.store(a, ("core_user", "7"), upload(PDF, "two.pdf"))
    attachments.store(b, b, upload(PDF, "other site.pdf"))
    assert first.sha256 == second.sha256
    files = [p for p in Path(app.config["UPLOAD_DIR"]).rglob("*") if p.is_file()]
    assert len(files) == 1
    assert [x.id for x in attachments.for_owner(a, a)] == [first.id]
    assert attachments.for_owner(a, b) == []
    events = AuditEvent.select().where(AuditEvent.action == "core.attachment.create")
    assert {e.site_id for e in events} == {a.id, b.id} and events.count() == 3


def test_Z3_a_record_of_another_site_cannot_own_an_attachment(two_sites):
    a, b = two_sites
    with pytest.raises(CrossSiteReference):
        attachments.store(a, b, upload(PDF, "x.pdf"))


def test_delete_is_audited_and_removes_the_bytes_with_the_last_row(site):
    first = attachments.store(site, site, upload(PDF, "one.pdf"))
    second = attachments.store(site, site, upload(PDF, "two.pdf"))
    path = attachments.path_of(first)
    attachments.delete(first)
    assert path.exists()
    attachments.delete(second)
    assert not path.exists()
    assert AuditEvent.select().where(AuditEvent.action == "core.attachment.delete").count() == 2


# -- downloads -------------------------------------------------------------------------


def test_F3_downloads_are_attachments_with_nosniff_and_a_sandbox(browser, site):
    user = make_user(site, roles=("staff",))
    row = attachments.store(site, site, upload(PNG, "照片.png", "text/html"))
    browser.login(user, site=site)
    response = browser.get(f"/files/{row.id}")
    assert response.status_code == 200
    assert response.get_data() == PNG
    assert response.mimetype == "image/png"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%E7%85%A7%E7%89%87.png" in response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"].startswith("sandbox")
    assert response.headers["Cache-Control"] == "no-store"


def test_Z2_another_sites_file_is_404_even_for_a_member_of_both(browser, two_sites):
    a, b = two_sites
    user = make_user(a, roles=("staff",))
    identity.add_member(user, b, "staff")
    row = attachments.store(a, a, upload(b"MARKER-A\n", "secret.txt"))
    browser.login(user, site=b)
    response = browser.get(f"/files/{row.id}")
    assert response.status_code == 404
    assert b"MARKER-A" not in response.get_data()
    browser.post("/site", {"site_id": a.id})
    assert browser.get(f"/files/{row.id}").status_code == 200


def test_download_is_reauthorised_on_every_request(browser, site):
    user = make_user(site, roles=("staff",))
    row = attachments.store(site, site, upload(PDF, "a.pdf"))
    browser.login(user, site=site)
    assert browser.get(f"/files/{row.id}").status_code == 200
    identity.remove_member(Membership.get(Membership.user == user))
    assert browser.get(f"/files/{row.id}").status_code == 404


def test_download_replay_after_logout_fails(client, site):
    user = make_user(site, roles=("staff",))
    row = attachments.store(site, site, upload(PDF, "a.pdf"))
    browser = Browser(client)
    browser.login(user, site=site)
    assert browser.get(f"/files/{row.id}").status_code == 200
    cookie = client.get_cookie("gr_session").value
    browser.post("/logout", {})
    replay = client.application.test_client()
    replay.set_cookie("gr_session", cookie)
    response = replay.get(f"/files/{row.id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert response.get_data() != PDF


def test_kernel_answers_for_its_own_types_and_denies_the_rest(browser, site):
    viewer, staff = make_user(site, roles=("site_admin",)), make_user(site, roles=("staff",))
    own = attachments.store(site, ("core_user", str(staff.id)), upload(PDF, "mine.pdf"))
    unknown = attachments.store(site, ("nobody_thing", "1"), upload(PDF, "x.pdf"))
    browser.login(staff, site=site)
    assert browser.get(f"/files/{own.id}").status_code == 200
    assert browser.get(f"/files/{unknown.id}").status_code == 404
    theirs = attachments.store(site, ("core_user", str(viewer.id)), upload(PDF, "v.pdf"))
    assert browser.get(f"/files/{theirs.id}").status_code == 404
    browser.post("/logout", {})
    browser.login(viewer, site=site)
    assert browser.get(f"/files/{own.id}").status_code == 200


# -- a plugin's records ------------------------------------------------------------------


class Files:
    """A test plugin owning ``files_thing`` records; record "secret" is never visible."""

    def __init__(self):
        self.asked = []

    @hookimpl
    def plugin_info(self):
        return PluginInfo(name="files", title="files", default_for=("urban_community",))

    @hookimpl
    def register_permissions(self):
        return [Permission("files.upload", "upload", roles=("staff",), level="write")]

    @hookimpl
    def register_blueprints(self, app):
        bp = Blueprint("files", __name__, url_prefix="/files-probe")

        @bp.post("/upload")
        @requires("files.upload")
        def upload_view():
            """Attach the posted file to thing 1."""
            row = attachments.store(g.site, ("files_thing", "1"), request.files["file"])
            return str(row.id)

        return [bp]

    @hookimpl
    def can_view_record(self, site, user, object_type, object_id):
        if not object_type.startswith("files_"):
            return None
        self.asked.append((site.id, user.id, object_type, object_id))
        return object_id != "secret"


@pytest.fixture
def files_plugin(app_config):
    plugin = Files()
    application = create_app(app_config, extra_plugins=[("files", plugin)])
    application.test_client_class = IsolatedClient
    with application.app_context(), acting_as(Actor(via="test")):
        yield application, plugin


def test_F3_upload_over_the_limit_answers_413_through_a_page(files_plugin):
    application, _plugin = files_plugin
    site = make_site()
    user = make_user(site, roles=("staff",))
    application.config["ATTACHMENT_MAX_BYTES"] = 50
    browser = Browser(application.test_client())
    browser.login(user, site=site)
    response = browser.post("/files-probe/upload",
                            {"file": (io.BytesIO(PDF + b"x" * 60), "big.pdf")})
    assert response.status_code == 413
    application.config["ATTACHMENT_MAX_BYTES"] = 10_000
    response = browser.post("/files-probe/upload", {"file": (io.BytesIO(SVG), "a.png")})
    assert response.status_code == 415
    response = browser.post("/files-probe/upload", {"file": (io.BytesIO(PDF), "ok.pdf")})
    assert response.status_code == 200


def test_hook_can_view_record_decides_for_its_own_types_in_enabled_sites(files_plugin):
    application, plugin = files_plugin
    site = make_site()
    user = make_user(site, roles=("staff",))
    visible = attachments.store(site, ("files_thing", "1"), upload(PDF, "a.pdf"))
    secret = attachments.store(site, ("files_thing", "secret"), upload(PDF, "b.pdf"))
    browser = Browser(application.test_client())
    browser.login(user, site=site)
    assert browser.get(f"/files/{visible.id}").status_code == 200
    assert browser.get(f"/files/{secret.id}").status_code == 404
    assert plugin.asked == [(site.id, user.id, "files_thing", "1"),
                            (site.id, user.id, "files_thing", "secret")]
    with contextlib.suppress(Exception):
        bundles.disable(site, "files")
    assert "files" not in bundles.enabled_plugins(site)
    # a plugin the site has turned off is not asked, and nobody answering means no
    assert browser.get(f"/files/{visible.id}").status_code == 404
    assert len(plugin.asked) == 2
