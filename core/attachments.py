"""Files attached to records: checked by content, stored by hash, re-authorised on every read.

SECURITY F3 (ASVS 5.2.1, 5.2.2, 5.3.2, 5.4.1, 3.2.1):

* a file over ``ATTACHMENT_MAX_BYTES`` is refused with 413 while it is read;
* its type is decided by its bytes, never by its name or the browser's
  Content-Type: PDF, PNG, JPEG, GIF, WebP, XLSX and DOCX (a zip whose
  ``[Content_Types].xml`` names the workbook or document, macros refused),
  and plain text or CSV (UTF-8 or GB18030, no control characters, nothing
  that looks like markup, a ``.txt``/``.csv``/``.tsv`` name). SVG, HTML,
  JavaScript and everything else are refused with 415;
* the bytes live outside the web root, under ``UPLOAD_DIR/<sha256[:2]>/<sha256>``
  (content-addressed: one copy however often a file is attached), so backups
  take the whole of ``UPLOAD_DIR``;
* each attachment is a ``core_attachment`` row of one site, written and
  deleted through :mod:`core.records` (audited);
* a download (``/files/<id>``, :mod:`core.web.attachments`) checks the
  user's access to the site and asks the owner's plugin through the
  ``can_view_record`` hook, every time (Decidim CVE-2026-45377/45378).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
import zipfile
from pathlib import Path

import peewee as pw
from flask import current_app
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge, UnsupportedMediaType

from core import records
from core.bundles import site_hooks
from core.context import current_actor
from core.i18n import _l
from core.models import Attachment, Site, User
from core.sitemodel import CrossSiteReference, NotFound
from core.storage import transaction

#: the kinds a file may be, with the media type it is served as
KINDS = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "text": "text/plain; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
}
#: what :func:`store` accepts unless told otherwise
DEFAULT_ALLOWED = frozenset(KINDS)
#: images only, for photos
IMAGES = frozenset({"png", "jpeg", "gif", "webp"})

_MAGIC = (
    (b"%PDF-", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
)
#: the main part's content type in ``[Content_Types].xml`` of each Office kind
_OFFICE = {
    "xlsx": b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    "docx": b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
}
_TEXT_SUFFIXES = {".txt": "text", ".csv": "csv", ".tsv": "csv"}
#: the name suffixes that agree with each kind; another suffix gets the first appended
_KIND_SUFFIXES = {"pdf": (".pdf",), "png": (".png",), "jpeg": (".jpg", ".jpeg"),
                  "gif": (".gif",), "webp": (".webp",), "xlsx": (".xlsx",),
                  "docx": (".docx",), "text": (".txt",), "csv": (".csv", ".tsv")}
#: anything a browser could take for markup: <tag, </tag, <!doctype, <?xml
_MARKUP = re.compile(rb"<\s*[a-zA-Z!?/]")
#: control characters other than tab, line feed, form feed and carriage return
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_CHUNK = 64 * 1024


class AttachmentRefused(HTTPException):
    """A file refused by :func:`store`; ``message`` says why, in the user's language."""

    @property
    def message(self) -> str:
        return str(self.description)


class FileTooLarge(AttachmentRefused, RequestEntityTooLarge):
    """Over ``ATTACHMENT_MAX_BYTES`` (HTTP 413)."""


class FileTypeRefused(AttachmentRefused, UnsupportedMediaType):
    """Not one of the allowed kinds, whatever its name says (HTTP 415)."""


def upload_root() -> Path:
    return Path(current_app.config["UPLOAD_DIR"])


def path_of(attachment: Attachment) -> Path:
    """Where the attachment's bytes are."""
    return upload_root() / attachment.sha256[:2] / attachment.sha256


def owner_key(owner) -> tuple[str, str]:
    """``(object_type, object_id)`` of a model instance or a ``(type, id)`` pair."""
    if isinstance(owner, tuple):
        kind, key = owner
        return str(kind), str(key)
    return records.object_type(owner), str(owner.get_id())


def _check_owner(site: Site, owner) -> None:
    """Refuse an owner row of another site (SECURITY Z3)."""
    if isinstance(owner, tuple):
        return
    owner_site = owner.id if isinstance(owner, Site) else owner.__data__.get("site")
    scoped = isinstance(owner, Site) or "site" in owner._meta.fields
    if scoped and owner_site != site.id:
        raise CrossSiteReference("owner")


def clean_filename(name: str | None, kind: str) -> str:
    """The name to offer on download: no directories or control characters, and a
    suffix that agrees with the content (``photo.html`` holding a PNG becomes
    ``photo.html.png``, so a saved copy never opens as a page)."""
    name = unicodedata.normalize("NFC", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip(" .")
    name = name[-200:] or "file"
    suffixes = _KIND_SUFFIXES[kind]
    return name if name.lower().endswith(suffixes) else name + suffixes[0]


def sniff(path: Path, filename: str) -> str | None:
    """The kind of the file at ``path`` judged by its bytes, or None when refused."""
    with path.open("rb") as f:
        head = f.read(16)
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"PK\x03\x04"):
        return _office_kind(path)
    return _text_kind(path, filename)


def _office_kind(path: Path) -> str | None:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            info = archive.getinfo("[Content_Types].xml")
            if info.file_size > 1024 * 1024:
                return None
            types = archive.read(info)
    except (KeyError, zipfile.BadZipFile, OSError, NotImplementedError, RuntimeError):
        return None
    if b"macroEnabled" in types or any(n.lower().endswith("vbaproject.bin") for n in names):
        return None
    for kind, main in _OFFICE.items():
        if main in types:
            return kind
    return None


def _text_kind(path: Path, filename: str) -> str | None:
    kind = _TEXT_SUFFIXES.get(Path(filename).suffix.lower())
    if kind is None:
        return None
    data = path.read_bytes()
    if not data or _MARKUP.search(data):
        return None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return None if _CONTROL.search(text) else kind
    return None


def _receive(file_storage, directory: Path, limit: int) -> tuple[Path, str, int]:
    """Copy the upload to a private temporary file, hashing and counting as it goes."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, name = tempfile.mkstemp(dir=directory)
    temp = Path(name)
    digest, size = hashlib.sha256(), 0
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := file_storage.stream.read(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise FileTooLarge(_l("The file is larger than %(mb)s MB.",
                                          mb=round(limit / 1024 / 1024, 1)))
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp, digest.hexdigest(), size


def store(site: Site, owner, file_storage, *, allowed=DEFAULT_ALLOWED) -> Attachment:
    """Check and keep an uploaded file as an attachment of ``owner`` in ``site``.

    :param owner: the record the file belongs to (a model instance of
        ``site``), or an ``(object_type, object_id)`` pair.
    :param file_storage: a ``werkzeug.datastructures.FileStorage`` (``request.files[...]``).
    :param allowed: the kinds accepted (keys of :data:`KINDS`), e.g. :data:`IMAGES`.
    :raises FileTooLarge: over ``ATTACHMENT_MAX_BYTES`` (413).
    :raises FileTypeRefused: a kind not allowed, judged by content (415).
    :raises CrossSiteReference: ``owner`` belongs to another site.
    """
    _check_owner(site, owner)
    object_type, object_id = owner_key(owner)
    root = upload_root()
    temp, digest, size = _receive(file_storage, root / ".incoming",
                                  current_app.config["ATTACHMENT_MAX_BYTES"])
    try:
        kind = sniff(temp, file_storage.filename or "")
        if kind is None or kind not in allowed:
            raise FileTypeRefused(_l("This kind of file is not accepted. Attach a PDF, an "
                                     "image, a Word or Excel file, or a plain text or CSV "
                                     "file."))
        filename = clean_filename(file_storage.filename, kind)
        target = root / digest[:2] / digest

        @transaction()
        def write():
            row = records.create(Attachment, site=site, owner_type=object_type,
                                 owner_id=object_id, sha256=digest, size=size,
                                 mime=KINDS[kind], filename=filename,
                                 uploaded_by=current_actor().user_id,
                                 action="core.attachment.create")
            # the bytes land after the row exists, inside its transaction, so a
            # concurrent delete of the last row with this hash cannot remove them
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                os.replace(temp, target)
            return row

        return write()
    finally:
        temp.unlink(missing_ok=True)


def for_owner(site: Site, owner) -> list[Attachment]:
    """The attachments of ``owner`` in ``site``, oldest first."""
    object_type, object_id = owner_key(owner)
    return list(Attachment.select()
                .where(Attachment.site == site, Attachment.owner_type == object_type,
                       Attachment.owner_id == object_id)
                .order_by(Attachment.created_at, Attachment.id))


def get_in_site(site: Site, attachment_id) -> Attachment:
    """The attachment ``attachment_id`` of ``site``.

    :raises NotFound: when there is none, or it belongs to another site (404).
    """
    try:
        return Attachment.get((Attachment.id == int(attachment_id)) & (Attachment.site == site))
    except (Attachment.DoesNotExist, TypeError, ValueError, OverflowError, pw.DataError):
        raise NotFound(f"attachment {attachment_id!r}") from None


def can_view(site: Site, user: User, attachment: Attachment) -> bool:
    """Whether ``user`` may read ``attachment`` now (the ``can_view_record`` hook).

    Only True allows: no answer, or a plugin not enabled for the site, is a no.
    """
    if attachment.site_id != site.id:
        return False
    answer = site_hooks(site).can_view_record(site=site, user=user,
                                              object_type=attachment.owner_type,
                                              object_id=attachment.owner_id)
    return answer is True


def delete(attachment: Attachment) -> None:
    """Delete the attachment (audited); its bytes go when no attachment shares them."""
    path = path_of(attachment)

    @transaction()
    def write():
        records.delete(attachment, action="core.attachment.delete")
        # inside the write lock: a concurrent store() of the same bytes either
        # committed its row before (we keep the file) or writes it after us
        shared = Attachment.select().where(Attachment.sha256 == attachment.sha256).exists()
        if not shared:
            path.unlink(missing_ok=True)

    write()
