"""PDF papers (the file kept sealed, a paper.document record) and zip archives (each
member routed to its importer), with hostile inputs."""

from __future__ import annotations

import io
import struct
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, ClassVar

import pytest

from selfdata.access import SpaceView
from selfdata.errors import InvalidInput
from selfdata.importers import (
    ArchiveReport,
    FileItem,
    ImportContext,
    Importer,
    ImporterRegistry,
    ImportFailed,
    ImportReport,
    ImportRunner,
    Item,
    Notice,
    RecordBatch,
    RecordRow,
    UnknownFormat,
)
from selfdata.importers import archive as archive_module
from selfdata.platform import Platform
from tests.conftest import make_space
from tests.samples.papers import (
    bomb_pdf,
    encrypted_pdf,
    invoice_pdf,
    many_pages_pdf,
    owner_only_pdf,
)

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
REAL_PDF = Path("/work/shared/sample-data/pdf")


def run(view: SpaceView, data: bytes, name: str, **kwargs: object) -> ImportReport:
    return ImportRunner(view).run(io.BytesIO(data), name, **kwargs)  # type: ignore[arg-type]


def papers(view: SpaceView) -> list[dict[str, object]]:
    return [r.data for r in view.iter_records("paper.document")]


# -- PDF papers ------------------------------------------------------------------------


def test_a_pdf_is_kept_sealed_with_its_record(platform: Platform) -> None:
    view = make_space(platform)
    data = invoice_pdf()
    report = run(view, data, "scans/facture-janvier.pdf", options={"kind": "invoice"})
    assert report.importer == "pdf" and not report.refused, report.rejected
    assert report.files_stored == 1 and report.counts["paper.document"].created == 1
    (paper,) = papers(view)
    assert paper["title"] == "Facture F-2025-0042"  # the PDF's own title
    assert paper["kind"] == "invoice" and paper["filename"] == "facture-janvier.pdf"
    assert paper["media_type"] == "application/pdf" and paper["size_bytes"] == len(data)
    assert paper["page_count"] == 1 and paper["issued_on"] == "2025-02-03"
    assert "Montant TTC : 84,20 €" in str(paper["extracted_text"])
    info, content = view.open_file(str(paper["file_id"]))
    assert b"".join(content) == data  # the very bytes, back from the sealed store
    assert info.source_id == report.source_id


def test_importing_the_same_pdf_again_changes_nothing(platform: Platform) -> None:
    view = make_space(platform)
    first = run(view, invoice_pdf(), "facture.pdf")
    again = run(view, invoice_pdf(), "facture.pdf")
    assert again.source_existed and again.source_id == first.source_id
    assert again.files_stored == 0 and again.files_unchanged == 1
    assert again.counts["paper.document"].unchanged == 1
    assert len(view.files()) == 1 and len(papers(view)) == 1
    run(view, invoice_pdf("F-2025-0043"), "facture-2.pdf")
    assert len(view.files()) == 2 and len(papers(view)) == 2


def test_no_plaintext_of_the_paper_on_disk(sqlite_platform: Platform, tmp_path: Path) -> None:
    view = make_space(sqlite_platform)
    run(view, invoice_pdf("SECRET-4242"), "facture.pdf")
    assert papers(view)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert b"SECRET-4242" not in path.read_bytes(), path


def test_an_encrypted_pdf_is_refused_and_nothing_written(platform: Platform) -> None:
    view = make_space(platform)
    with pytest.raises(ImportFailed, match="password") as caught:
        run(view, encrypted_pdf(), "bulletin.pdf")
    assert caught.value.errors[0].path == "encryption"
    assert papers(view) == [] and view.files() == []
    # Encrypted with an empty user password (restrictions only): readable, imported.
    report = run(view, owner_only_pdf(), "restreint.pdf")
    assert report.counts["paper.document"].created == 1


@pytest.mark.parametrize(
    "data",
    [invoice_pdf()[: len(invoice_pdf()) // 3], b"%PDF-1.4\n" + b"\x00garbage" * 100],
    ids=["truncated", "garbage"],
)
def test_a_broken_pdf_fails_clearly(sqlite_platform: Platform, data: bytes) -> None:
    view = make_space(sqlite_platform)
    with pytest.raises(ImportFailed, match=r"casse\.pdf, pdf: not a readable PDF .*truncated"):
        run(view, data, "casse.pdf")
    assert papers(view) == [] and view.files() == []


def test_a_decompression_bomb_is_not_inflated(sqlite_platform: Platform) -> None:
    view = make_space(sqlite_platform)
    report = run(view, bomb_pdf(64), "bombe.pdf")
    assert not report.refused
    (paper,) = papers(view)
    assert "extracted_text" not in paper  # the page's text was not extracted…
    assert any("page 1" in n.message for n in report.notices)  # …and the report says so


def test_a_huge_page_count_reads_the_text_of_the_first_pages_only(
    sqlite_platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    from selfdata.importers import pdf

    monkeypatch.setattr(pdf, "MAX_PAGES", 50)
    view = make_space(sqlite_platform)
    report = run(view, many_pages_pdf(400), "long.pdf")
    (paper,) = papers(view)
    assert paper["page_count"] == 400
    assert any("first 50 pages" in n.message for n in report.notices)


@pytest.mark.skipif(not REAL_PDF.is_dir(), reason="shared sample data absent")
def test_real_invoices(sqlite_platform: Platform) -> None:
    view = make_space(sqlite_platform)
    for path in sorted(REAL_PDF.glob("*.pdf")):
        report = run(view, path.read_bytes(), path.name)
        assert report.files_stored == 1, path.name
    texts = {str(p["filename"]): str(p.get("extracted_text", "")) for p in papers(view)}
    assert len(texts) == 6
    assert "Amazon Web Services" in texts["invoice2data__AmazonWebServices.pdf"]


# -- zip archives ------------------------------------------------------------------------


def make_zip(members: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def takeout() -> bytes:
    inner = make_zip(
        {"Contacts/tous.vcf": (SAMPLES / "contacts" / "address_book.vcf").read_bytes()}
    )
    deeper = make_zip({"x.zip": make_zip({"y.vcf": b"BEGIN:VCARD\nFN:Y\nEND:VCARD\n"})})
    return make_zip(
        {
            "Takeout/": b"",
            "Takeout/Agenda/perso.ics": (SAMPLES / "calendar" / "agenda.ics").read_bytes(),
            "Takeout/Santé/dossier.json": (SAMPLES / "health" / "bundle_r4.json").read_bytes(),
            "Takeout/Drive/facture.pdf": invoice_pdf(),
            "Takeout/archive_browser.html": b"<html><body>Takeout</body></html>",
            "Takeout/Contacts.zip": inner,
            "Takeout/deep.zip": deeper,
        }
    )


def test_a_zip_routes_each_member_to_its_importer(platform: Platform) -> None:
    view = make_space(platform)
    report = run(view, takeout(), "takeout-2025.zip")
    assert isinstance(report, ArchiveReport) and report.importer == "zip"
    assert not report.refused
    imported = {m.filename.rpartition("!/")[2]: m.importer for m in report.members}
    assert imported == {
        "Takeout/Agenda/perso.ics": "ical",
        "Takeout/Santé/dossier.json": "fhir",
        "Takeout/Drive/facture.pdf": "pdf",
        "Contacts/tous.vcf": "vcard",  # from the zip inside the zip
    }
    skipped = dict(report.skipped)
    assert skipped["Takeout/archive_browser.html"] == "format not recognised"
    assert "nested more than" in skipped["Takeout/deep.zip!/x.zip"]
    # Each member is its own source; the archive's totals add them up.
    assert len({m.source_id for m in report.members}) == 4
    assert report.counts["calendar.event"].created == 5
    assert report.counts["contact.card"].created == 3
    assert report.counts["health.patient"].created == 1
    assert report.files_stored == 1 and len(papers(view)) == 1
    assert report.as_dict()["members"][0]["filename"].startswith("takeout-2025.zip!/")

    again = run(view, takeout(), "takeout-2025.zip")
    assert isinstance(again, ArchiveReport) and again.created == 0
    assert all(m.source_existed for m in again.members)


def test_office_documents_are_not_taken_for_archives(sqlite_platform: Platform) -> None:
    view = make_space(sqlite_platform)
    docx = make_zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>"})
    with pytest.raises(UnknownFormat):
        run(view, docx, "lettre.docx")
    odt = make_zip({"mimetype": b"application/vnd.oasis.opendocument.text"})
    with pytest.raises(UnknownFormat):
        run(view, odt, "lettre.odt")


def test_a_zip_starting_with_a_stored_pdf_is_a_zip(sqlite_platform: Platform) -> None:
    view = make_space(sqlite_platform)
    data = make_zip({"a.pdf": invoice_pdf()}, compression=zipfile.ZIP_STORED)
    assert b"%PDF-" in data[:100]
    report = run(view, data, "papiers.zip")
    assert report.importer == "zip" and report.files_stored == 1


def test_an_archive_takes_no_option(sqlite_platform: Platform) -> None:
    view = make_space(sqlite_platform)
    data = make_zip({"c.vcf": (SAMPLES / "contacts" / "address_book.vcf").read_bytes()})
    with pytest.raises(InvalidInput, match="zip has no option kind"):
        run(view, data, "c.zip", options={"kind": "invoice"})
    assert list(view.iter_records("contact.card")) == []


def test_large_members_are_streamed_from_the_archive(
    sqlite_platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every member "large": read through the bounded seekable zip stream, not memory
    # (the PDF reader seeks back and forth; the inner zip is opened from the stream).
    monkeypatch.setattr(archive_module, "IN_MEMORY", 0)
    view = make_space(sqlite_platform)
    report = run(view, takeout(), "takeout.zip")
    assert isinstance(report, ArchiveReport) and not report.refused
    assert len(report.members) == 4
    assert report.counts["contact.card"].created == 3 and report.files_stored == 1
    (paper,) = papers(view)
    _info, content = view.open_file(str(paper["file_id"]))
    assert b"".join(content) == invoice_pdf()


def test_an_archive_reports_steady_progress(sqlite_platform: Platform) -> None:
    view = make_space(sqlite_platform)
    seen: list[float] = []

    def progress(phase: str, done: int, total: int) -> None:
        seen.append(0.5 * done / total + (0.5 if phase == "writing" else 0.0))

    data = takeout()
    ImportRunner(view).run(io.BytesIO(data), "takeout.zip", progress=progress)
    assert len(seen) >= 8  # both passes of every member
    assert seen == sorted(seen)  # never goes back
    assert seen[-1] > 0.95 and seen[0] < 0.25


def test_a_refused_member_does_not_stop_the_others(sqlite_platform: Platform) -> None:
    view = make_space(sqlite_platform)
    data = make_zip(
        {
            "agenda.ics": (SAMPLES / "calendar" / "agenda.ics").read_bytes(),
            "protege.pdf": encrypted_pdf(),
        }
    )
    report = run(view, data, "export.zip")
    assert isinstance(report, ArchiveReport) and report.refused
    by_name = {m.filename: m for m in report.members}
    assert by_name["export.zip!/protege.pdf"].refused
    assert "password" in by_name["export.zip!/protege.pdf"].rejected[0].message
    assert not by_name["export.zip!/agenda.ics"].refused
    assert report.counts["calendar.event"].created == 5 and papers(view) == []


def _symlink_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        link = zipfile.ZipInfo("Takeout/lien")
        link.external_attr = (0o120777 << 16) | 0x20
        archive.writestr(link, "/etc/passwd")
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (make_zip({"../../etc/cron.d/evil.ics": b"BEGIN:VCALENDAR\n"}), "climbing out"),
        (make_zip({"/etc/passwd.vcf": b"BEGIN:VCARD\n"}), "absolute path"),
        (make_zip({"C:\\Windows\\x.vcf": b"BEGIN:VCARD\n"}), "absolute path"),
        (_symlink_zip(), "symbolic link"),
        (make_zip({"bomb.csv": b"\x00" * (20 * 1024 * 1024)}), "zip bomb"),
        (make_zip({"a.ics": b"x"})[:-30], "not a readable zip"),
    ],
    ids=["zip-slip", "absolute", "drive", "symlink", "ratio-bomb", "truncated"],
)
def test_hostile_archives_are_refused_before_anything_is_read(
    sqlite_platform: Platform, data: bytes, expected: str
) -> None:
    view = make_space(sqlite_platform)
    with pytest.raises(ImportFailed, match=expected):
        run(view, data, "hostile.zip", format_name="zip")
    assert view.summary() == [] or all(s.count == 0 for s in view.summary())
    assert view.files() == []


def test_too_many_members_or_bytes(
    sqlite_platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    view = make_space(sqlite_platform)
    data = make_zip({f"c{i}.vcf": b"BEGIN:VCARD\nFN:X\nEND:VCARD\n" for i in range(5)})
    monkeypatch.setattr(archive_module, "MAX_MEMBERS", 4)
    with pytest.raises(ImportFailed, match="5 members; at most 4"):
        run(view, data, "many.zip")
    monkeypatch.setattr(archive_module, "MAX_MEMBERS", 10)
    monkeypatch.setattr(archive_module, "MAX_TOTAL_BYTES", 100)
    with pytest.raises(ImportFailed, match="at most 100"):
        run(view, data, "many.zip")
    assert list(view.iter_records("contact.card")) == []


def _lying_zip() -> bytes:
    """A stored member whose declared size (10) is less than its real content."""
    content = b"BEGIN:VCARD\nVERSION:3.0\nFN:Menteur\nEND:VCARD\n"
    data = bytearray(make_zip({"c.vcf": content}, compression=zipfile.ZIP_STORED))
    local = data.index(b"PK\x03\x04")
    central = data.index(b"PK\x01\x02")
    struct.pack_into("<I", data, local + 22, 10)  # uncompressed size, local header
    struct.pack_into("<I", data, central + 24, 10)  # uncompressed size, central directory
    return bytes(data)


def test_a_member_lying_about_its_size_is_refused(sqlite_platform: Platform) -> None:
    view = make_space(sqlite_platform)
    report = run(view, _lying_zip(), "lying.zip")
    assert isinstance(report, ArchiveReport) and report.refused
    (member,) = report.members
    assert member.refused and "CRC" in member.rejected[0].message
    assert list(view.iter_records("contact.card")) == []


def test_the_cli_imports_a_zip(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from selfdata.cli import app

    cli = CliRunner()
    home = tmp_path / "instance"

    def call(*args: str, stdin: str | None = None) -> tuple[int, str]:
        result = cli.invoke(app, ["--home", str(home), *args], input=stdin)
        return result.exit_code, result.output + (result.stderr if result.stderr_bytes else "")

    assert call("init")[0] == 0
    password = "a long enough password"
    assert call("space", "create", "alice", "--password-stdin", stdin=password + "\n")[0] == 0
    archive = tmp_path / "takeout.zip"
    archive.write_bytes(takeout())
    args = ("import", str(archive), "--space", "alice", "--password-stdin")
    code, out = call(*args, stdin=password + "\n")
    assert code == 0, out
    assert "takeout.zip!/Takeout/Drive/facture.pdf" in out and "files: 1 stored" in out
    assert "skipped Takeout/archive_browser.html" in out
    assert "4 file(s) imported, 0 refused, 2 skipped" in out
    hostile = tmp_path / "evil.zip"
    hostile.write_bytes(make_zip({"../evil.vcf": b"BEGIN:VCARD\n"}))
    code, out = call(
        "import", str(hostile), "--space", "alice", "--password-stdin", stdin=password + "\n"
    )
    assert code == 1 and "climbing out" in out and "Traceback" not in out


def test_an_import_job_takes_a_zip_from_its_encrypted_spool(sqlite_platform: Platform) -> None:
    from selfdata.crypto.spool import EncryptedSpool
    from selfdata.importers.jobs import ImportJobs

    view = make_space(sqlite_platform)
    spool = EncryptedSpool()
    spool.write(takeout())
    spool.finish()
    jobs = ImportJobs()
    try:
        job = jobs.submit(view, spool, "takeout.zip")
        deadline = time.monotonic() + 30
        while not job.finished:
            assert time.monotonic() < deadline
            jobs.wait(job, job.version, 0.5)
        assert job.state == "done", job.error
        assert isinstance(job.report, ArchiveReport) and len(job.report.members) == 4
        assert job.progress == 1.0 and spool.closed
    finally:
        jobs.shutdown()


class _KeepsItsFile(Importer):
    """A plugin keeping the file it reads, to check the framework's contract."""

    name = "test.keep"
    version = "1"
    description: ClassVar[dict[str, str]] = {"fr": "test", "en": "test"}
    doctypes = ("paper.document",)

    def __init__(self, ref: str = "f") -> None:
        self.ref = ref

    def sniff(self, head: bytes, filename: str) -> float:
        return 0.0

    def parse(self, stream: BinaryIO, context: ImportContext) -> Iterator[Item]:
        first = stream.readline()  # the parser is in the middle of the file…
        yield FileItem("f", "notes.txt", "text/plain")
        rest = stream.read()  # …and finds its place again after the runner stored it
        assert first + rest == b"ligne 1\nligne 2\n"
        paper = {
            "title": "Notes",
            "kind": "other",
            "filename": "notes.txt",
            "media_type": "text/plain",
            "size_bytes": 16,
        }
        yield RecordBatch("paper.document", [RecordRow(1, paper, files={"file_id": self.ref})])
        yield Notice(None, "text", "kept as it is")


def test_a_plugin_keeps_its_file_through_file_items(sqlite_platform: Platform) -> None:
    view = make_space(sqlite_platform)
    registry = ImporterRegistry([_KeepsItsFile()])
    data = b"ligne 1\nligne 2\n"
    runner = ImportRunner(view, registry)
    report = runner.run(io.BytesIO(data), "notes.txt", format_name="test.keep")
    assert report.files_stored == 1 and report.notices[0].message == "kept as it is"
    (paper,) = papers(view)
    _info, content = view.open_file(str(paper["file_id"]))
    assert b"".join(content) == data
    # A record naming a file the import does not keep is a rejected row.
    registry = ImporterRegistry([_KeepsItsFile(ref="other")])
    report = ImportRunner(view, registry).run(io.BytesIO(data), "n.txt", format_name="test.keep")
    assert report.refused and "'other'" in report.rejected[0].message
