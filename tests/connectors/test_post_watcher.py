"""The post drop folder on real PostgreSQL and Redis: files in, messages stored, files moved out.

Most files here are born-digital PDFs (a text layer: no OCR, so the tests are
quick); one is a scanned image, and one test kills a real watcher process while
Tesseract is busy.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.connectors.channels import without_database
from tests.connectors.post_letters import (
    ENGLISH_BIN,
    ENGLISH_NO_CONTACT,
    NOISY,
    WELSH_LIBRARY,
    add_noise,
    draw_letter,
    encode,
    encrypted_pdf,
    text_pdf,
)
from tests.helpers import kill_tree
from triage.connectors.post.desk import PostDesk
from triage.connectors.post.watcher import MAX_ATTEMPTS, PostWatcher
from triage.intake import IntakeUnavailable
from triage.message import sha256_hex
from triage.store.models import AttachmentRow, Message, ProcessedFile


@pytest.fixture
def desk(runtime):
    return PostDesk.build(runtime.settings, runtime.intake, runtime.sessions, runtime.council)


@pytest.fixture
def inbox(tmp_path):
    return tmp_path / "inbox"


def watcher_for(inbox: Path, desk: PostDesk, **kwargs) -> PostWatcher:
    return PostWatcher(inbox, desk, desk.sessions, max_bytes=kwargs.pop("max_bytes", 5 * 1024 * 1024),
                       settle_seconds=0, **kwargs)


def drop(inbox: Path, name: str, data: bytes) -> Path:
    inbox.mkdir(parents=True, exist_ok=True)
    path = inbox / name
    path.write_bytes(data)
    return path


def messages(rt) -> list[Message]:
    with rt.sessions() as session:
        return list(session.scalars(select(Message).order_by(Message.id)))


def processed_row(rt, data: bytes) -> ProcessedFile | None:
    with rt.sessions() as session:
        return session.get(ProcessedFile, sha256_hex(data))


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_file())


def test_a_dropped_scan_becomes_a_message_and_moves_to_processed(runtime, desk, inbox):
    scan = encode([add_noise(draw_letter(ENGLISH_BIN), NOISY)], "PNG")
    drop(inbox, "scan_0001.png", scan)

    (outcome,) = watcher_for(inbox, desk).run_once()

    assert outcome.status == "stored"
    (message,) = messages(runtime)
    assert (message.channel, message.external_id) == ("post", "sha256:" + sha256_hex(scan))
    assert message.sender_kind == "postal" and message.sender_value.endswith("Exampleton, EX4 7QT")
    assert message.sender_name == "Mrs Margaret Ellison"
    assert message.contact_points == [{"kind": "email", "value": "m.ellison@example.org"},
                                      {"kind": "phone", "value": "+447400900123"}]
    assert message.meta["ocr"]["pages"][0]["confidence"] > 80 and message.meta["needs_reading"] is False
    assert message.raw_sha256 == sha256_hex(scan) and runtime.blobs.get(message.raw_sha256) == scan
    with runtime.sessions() as session:
        (attachment,) = session.scalars(select(AttachmentRow))
        assert (attachment.role, attachment.content_type, attachment.filename) == ("scan", "image/png",
                                                                                   "scan_0001.png")
    assert listing(inbox) == [] and listing(inbox / "processed") == ["scan_0001.png"]
    row = processed_row(runtime, scan)
    assert (row.outcome, row.message_id) == ("processed", message.id)


def test_the_same_scan_dropped_twice_is_one_message(runtime, desk, inbox):
    letter = text_pdf(ENGLISH_NO_CONTACT)
    watcher = watcher_for(inbox, desk)
    drop(inbox, "post.pdf", letter)
    first = watcher.run_once()
    drop(inbox, "post.pdf", letter)  # the post room scans the same letter again, same file name
    drop(inbox, "again.pdf", letter)
    later = watcher.run_once()

    assert [o.status for o in first + later] == ["stored", "duplicate", "duplicate"]
    assert len(messages(runtime)) == 1
    assert {o.message_id for o in first + later} == {messages(runtime)[0].id}
    short = sha256_hex(letter)[:12]
    assert listing(inbox / "processed") == sorted(["post.pdf", f"post.{short}.pdf", "again.pdf"])


def test_each_bad_file_ends_in_failed_with_its_reason(runtime, desk, inbox):
    page = draw_letter(ENGLISH_BIN, dpi=150)
    bad = {
        "corrupt.pdf": b"%PDF-1.7\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\ntrailer <</Root 1 0 R>>\n",
        "truncated.tif": encode([page], "TIFF")[:5000],
        "locked.pdf": encrypted_pdf(),
        "empty.png": b"",
        "huge.tif": encode([page, page, page], "TIFF"),
        "letter.docx": b"PK\x03\x04" + b"\x00" * 200,
    }
    for name, data in bad.items():
        drop(inbox, name, data)

    outcomes = watcher_for(inbox, desk, max_bytes=len(bad["huge.tif"]) - 1).run_once()

    assert {o.status for o in outcomes} == {"failed"}
    assert messages(runtime) == [] and listing(inbox) == []
    failed = inbox / "failed"
    assert listing(failed) == sorted([*bad, *(name + ".reason.txt" for name in bad)])
    expected = {"corrupt.pdf": "corrupt", "truncated.tif": "corrupt", "locked.pdf": "encrypted",
                "empty.png": "empty", "huge.tif": "too_large", "letter.docx": "unsupported_type"}
    for name, code in expected.items():
        reason = (failed / f"{name}.reason.txt").read_text()
        assert f"refused: {code}\n" in reason and f"file: {name}\n" in reason
        assert processed_row(runtime, bad[name]).outcome == "failed"


def test_a_bad_file_dropped_again_is_refused_again_without_reading_it(runtime, desk, inbox, monkeypatch):
    locked = encrypted_pdf()
    watcher = watcher_for(inbox, desk)
    drop(inbox, "locked.pdf", locked)
    watcher.run_once()
    monkeypatch.setattr(desk.reader, "read", lambda data: pytest.fail("a refused file was read again"))
    drop(inbox, "locked.pdf", locked)

    (outcome,) = watcher.run_once()

    assert outcome.status == "failed" and outcome.reason.startswith("encrypted: ")
    short = sha256_hex(locked)[:12]
    assert listing(inbox / "failed") == sorted(["locked.pdf", "locked.pdf.reason.txt", f"locked.{short}.pdf",
                                                f"locked.{short}.pdf.reason.txt"])


def test_a_crash_after_intake_before_the_move_neither_loses_nor_duplicates(runtime, desk, inbox, monkeypatch):
    from triage.connectors.post import watcher as watcher_module

    letter = text_pdf(WELSH_LIBRARY)
    drop(inbox, "cymraeg.pdf", letter)

    def power_cut(source, target):
        raise KeyboardInterrupt("the power went off")

    with monkeypatch.context() as patch:
        patch.setattr(watcher_module, "_replace", power_cut)
        with pytest.raises(KeyboardInterrupt):
            watcher_for(inbox, desk).run_once()
    assert listing(inbox) == ["cymraeg.pdf"] and len(messages(runtime)) == 1

    reads = []
    monkeypatch.setattr(desk.reader, "read", lambda data: reads.append(data))
    (outcome,) = watcher_for(inbox, desk).run_once()  # the restarted watcher

    assert outcome.status == "duplicate" and reads == []  # recognised by its hash, not read again
    assert len(messages(runtime)) == 1 and listing(inbox / "processed") == ["cymraeg.pdf"]
    assert processed_row(runtime, letter).outcome == "processed"


def test_a_file_that_keeps_failing_goes_to_failed_instead_of_round_and_round(runtime, desk, inbox, monkeypatch):
    def explode(data):
        raise RuntimeError("a bug that this file triggers")

    monkeypatch.setattr(desk.reader, "read", explode)
    letter = text_pdf(ENGLISH_BIN)
    drop(inbox, "cursed.pdf", letter)
    watcher = watcher_for(inbox, desk)

    statuses = [watcher.run_once()[0].status for _ in range(MAX_ATTEMPTS + 1)]

    assert statuses == ["retry"] * MAX_ATTEMPTS + ["failed"]
    assert listing(inbox / "failed") == ["cursed.pdf", "cursed.pdf.reason.txt"]
    assert "interrupted or failed 3 times" in (inbox / "failed" / "cursed.pdf.reason.txt").read_text()
    assert watcher.run_once() == [] and messages(runtime) == []


def test_storage_down_leaves_the_scan_in_the_inbox_and_counts_nothing(runtime, desk, inbox):
    letter = text_pdf(ENGLISH_BIN)
    drop(inbox, "scan.pdf", letter)
    dead = without_database(runtime)
    cut_off = PostDesk(desk.reader, dead.intake, dead.sessions, desk.own, desk.ocr_langs)

    with pytest.raises(IntakeUnavailable):
        PostWatcher(inbox, cut_off, dead.sessions, max_bytes=10**7, settle_seconds=0).run_once()

    assert listing(inbox) == ["scan.pdf"] and listing(inbox / "failed") == []
    (outcome,) = watcher_for(inbox, desk).run_once()  # the database is back
    assert outcome.status == "stored" and len(messages(runtime)) == 1


def test_files_still_being_written_are_left_alone(runtime, desk, inbox):
    drop(inbox, "arriving.pdf.part", text_pdf(ENGLISH_BIN))
    drop(inbox, ".hidden.pdf", text_pdf(ENGLISH_BIN))
    fresh = drop(inbox, "just-now.pdf", text_pdf(ENGLISH_NO_CONTACT))
    watcher = PostWatcher(inbox, desk, desk.sessions, max_bytes=10**7, settle_seconds=30)

    assert watcher.ready_files() == []
    old = time.time() - 60
    os.utime(fresh, (old, old))
    assert watcher.ready_files() == [fresh]


def test_the_watcher_service_takes_files_until_stopped(runtime, desk, inbox):
    watcher = watcher_for(inbox, desk, poll_seconds=0.1)
    watcher.start()
    try:
        drop(inbox, "one.pdf", text_pdf(ENGLISH_BIN))
        deadline = time.monotonic() + 20
        while not (inbox / "processed" / "one.pdf").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        watcher.stop()
    assert listing(inbox / "processed") == ["one.pdf"] and len(messages(runtime)) == 1


def test_a_watcher_killed_mid_ocr_leaves_the_scan_to_be_read_again(runtime, desk, inbox, settings, tmp_path):
    scan = encode([draw_letter(ENGLISH_NO_CONTACT, dpi=150)], "PNG", dpi=150)
    path = drop(inbox, "scan.png", scan)
    old = time.time() - 60
    os.utime(path, (old, old))
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "tesseract").write_text("#!/bin/sh\n"
                                    'if [ "$1" = "--list-langs" ]; then printf "List\\neng\\ncym\\nosd\\n"; exit 0; fi\n'
                                    "exec sleep 600\n")
    (fake / "tesseract").chmod(0o755)
    env = {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}", "TRIAGE_DATABASE_URL": settings.database_url,
           "TRIAGE_REDIS_URL": settings.redis_url, "TRIAGE_DATA_DIR": str(settings.data_dir),
           "TRIAGE_POST_INBOX": str(inbox), "TRIAGE_LOG_FORMAT": "text"}
    child = subprocess.Popen([sys.executable, "-m", "triage.cli", "post", "watch"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while processed_row(runtime, scan) is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert processed_row(runtime, scan).reason == "attempt 1"  # counted before Tesseract started
    finally:
        kill_tree(child.pid)
        child.wait()
    assert child.returncode == -signal.SIGKILL
    assert listing(inbox) == ["scan.png"] and messages(runtime) == []

    (outcome,) = watcher_for(inbox, desk).run_once()  # restarted, with a Tesseract that works

    assert outcome.status == "stored" and len(messages(runtime)) == 1
    assert processed_row(runtime, scan).outcome == "processed"


def test_triage_post_ingest_takes_files_now_and_says_what_became_of_each(runtime, settings, tmp_path):
    good, locked = tmp_path / "good.pdf", tmp_path / "locked.pdf"
    good.write_bytes(text_pdf(ENGLISH_BIN))
    locked.write_bytes(encrypted_pdf())
    env = {**os.environ, "TRIAGE_DATABASE_URL": settings.database_url, "TRIAGE_REDIS_URL": settings.redis_url,
           "TRIAGE_DATA_DIR": str(settings.data_dir)}

    done = subprocess.run([sys.executable, "-m", "triage.cli", "post", "ingest", str(good), str(locked)], env=env,
                          capture_output=True, text=True, timeout=120)

    assert done.returncode == 1, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(line["outcome"], line.get("reason")) for line in lines] == [("stored", None), ("failed", "encrypted")]
    assert lines[0]["message_id"] == messages(runtime)[0].id and lines[0]["needs_reading"] is False
    assert good.exists() and locked.exists()  # files named on the command line stay where they are


def test_triage_run_watches_the_inbox_when_one_is_configured(runtime, inbox):
    from dataclasses import replace

    from triage.cli.run import _services

    assert "post" not in [s.name for s in _services(runtime)]
    configured = replace(runtime, settings=runtime.settings.model_copy(update={"post_inbox": inbox}))
    assert "post" in [s.name for s in _services(configured)]
    assert (inbox / "processed").is_dir() and (inbox / "failed").is_dir()
