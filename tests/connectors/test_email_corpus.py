"""The difficult-messages corpora: every message parses, is stored, and is triaged or recorded.

Broken MIME, odd charsets, 8-bit headers, deep nesting, huge headers, TNEF,
and some 800 real bounces and auto-replies from 74 MTAs. Skipped when the
shared corpora (`../shared/corpora`) are not checked out; the key cases are
also in tests/fixtures/email and run everywhere.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import SHARED
from tests.helpers import drain
from triage.connectors.email.parse import parse_email
from triage.store.models import Message

CORPORA = SHARED / "corpora"
SISIMAI = CORPORA / "sisimai-set-of-emails" / "maildir"

pytestmark = pytest.mark.skipif(not CORPORA.is_dir(), reason="shared corpora not present")


def corpus(name: str) -> list[Path]:
    groups = {
        "flanker": sorted((CORPORA / "flanker-messages").glob("**/*.eml")),
        "mimekit": sorted((CORPORA / "mimekit-testdata" / "messages").iterdir())
        + sorted((CORPORA / "mimekit-testdata" / "tnef").glob("*.eml")),
        "sisimai-bsd": sorted((SISIMAI / "bsd").glob("*.eml")),
        "sisimai-other": sorted(p for d in ("dos", "mac", "err", "not", "tmp") for p in (SISIMAI / d).iterdir()),
    }
    return [p for p in groups[name] if p.is_file()] if CORPORA.is_dir() else []


def parse(path: Path):
    return parse_email(path.read_bytes(), max_attachment_bytes=25 * 1024 * 1024)


@pytest.mark.parametrize("name", ["flanker", "mimekit", "sisimai-bsd", "sisimai-other"])
def test_every_message_is_stored_and_then_triaged_or_recorded(runtime, name):
    paths = corpus(name)
    assert paths
    parsed = {}
    for path in paths:
        msg = parse(path)
        runtime.intake.accept(msg)
        parsed.setdefault(msg.external_id, msg)  # dos/ and mac/ hold bsd/'s messages again
    drain(runtime)

    with runtime.sessions() as session:
        rows = session.scalars(select(Message)).all()
    assert sorted(r.external_id for r in rows) == sorted(parsed)
    for row in rows:
        expected = "triaged" if row.kind == "contact" else "recorded"
        assert (row.kind, row.status) == (parsed[row.external_id].kind, expected), row.external_id
        assert runtime.blobs.exists(row.raw_sha256)


def kinds(prefixes: tuple[str, ...]) -> dict[str, str]:
    return {p.name: parse(p).kind for p in corpus("sisimai-bsd") if p.name.startswith(prefixes)}


FORWARDED_BY_A_PERSON = {"lhost-sendmail-14.eml"}
"""'Fwd: Returned mail': someone forwarding a bounce with a note of their own is writing to us."""
DELIVERY_SUCCESS = {"lhost-amazonses-12.eml", "lhost-amazonses-13.eml"}
"""Amazon SES 'Delivery' notifications: automatic mail, but reports of success, not bounces."""


def test_sisimai_bounces_are_bounces():
    found = kinds(("lhost-", "rhost-", "rfc3464-"))
    assert len(found) > 500
    wrong = {name: kind for name, kind in found.items()
             if kind != "bounce" and name not in FORWARDED_BY_A_PERSON | DELIVERY_SUCCESS}
    assert wrong == {}
    assert {found[n] for n in FORWARDED_BY_A_PERSON} == {"contact"}
    assert {found[n] for n in DELIVERY_SUCCESS} == {"auto_reply"}


def test_sisimai_auto_replies_are_auto_replies():
    found = kinds(("rfc3834-",))
    assert len(found) == 6 and set(found.values()) == {"auto_reply"}


def test_sisimai_feedback_reports_are_recorded_as_automatic_mail():
    found = kinds(("arf-",))
    assert found and "contact" not in found.values()


def test_sisimai_not_bounces():
    found = {p.name: parse(p) for p in (SISIMAI / "not").iterdir()}
    assert found["is-not-bounce-01.eml"].kind == "contact"
    assert found["is-not-bounce-02.eml"].kind == "contact"
    # Sisimai files this one under not/ because its own parser cannot read it, but its text says
    # "an email you sent was rejected ... Mailbox full" and it quotes our Message-ID: for a council
    # that is a bounce of the reply, and recording it against that reply is what staff need.
    issue = found["rb-issue-368-bug.eml"]
    assert issue.kind == "bounce" and issue.automatic.original_message_id


@pytest.mark.parametrize("line_endings", ["dos", "mac"])
def test_crlf_and_cr_only_copies_are_read_like_the_originals(line_endings):
    for path in sorted((SISIMAI / line_endings).glob("*.eml")):
        original = SISIMAI / "bsd" / path.name
        if original.exists():
            assert parse(path).kind == parse(original).kind, path.name


def test_flanker_bounces_and_complaints_are_automatic():
    for path in sorted((CORPORA / "flanker-messages").glob("bounce/*.eml")):
        assert parse(path).kind == "bounce", path.name
    for path in sorted((CORPORA / "flanker-messages").glob("complaints/*.eml")):
        assert parse(path).kind == "bounce", path.name
