"""Raw mail -> InboundMessage: headers, charsets, HTML, attachments, invites, TNEF, broken MIME.

Pure tests (no servers): `parse_email` is a function of bytes.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from triage.connectors.email.parse import Envelope, parse_email

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "email"
LIMIT = 1024 * 1024
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def parse(raw: bytes | str, **kwargs):
    data = raw.encode() if isinstance(raw, str) else raw
    return parse_email(data, max_attachment_bytes=kwargs.pop("limit", LIMIT), arrived_at=NOW, **kwargs)


def lines(*text: str) -> bytes:
    return ("\r\n".join(text) + "\r\n").encode("utf-8", "surrogateescape")


PLAIN = lines(
    'From: "Jo Bloggs" <Jo.Bloggs@Example.ORG>',
    "To: contact@council.example",
    "Cc: Neighbour <n@example.net>",
    "Reply-To: jo.work@example.com",
    "Subject: Re: Missed bin [Ref: T-000123]",
    "Date: Tue, 10 Mar 2026 09:15:00 +0000",
    "Message-ID:   <abc.123@mail.example.org> (sent from my phone)",
    "In-Reply-To: <triage.7.0f0f@council.example> (your message)",
    "References: <first@mail.example.org>\r\n <triage.7.0f0f@council.example>",
    "Content-Type: text/plain; charset=utf-8",
    "",
    "My bin was not collected again.",
)


def test_plain_message_headers_become_fields():
    msg = parse(PLAIN, envelope=Envelope("bounce-jo@example.org", ("contact@council.example",)))

    assert msg.channel == "email"
    assert msg.external_id == "<abc.123@mail.example.org>"
    assert (msg.sender.kind, msg.sender.value, msg.sender.display_name) == ("email", "jo.bloggs@example.org",
                                                                            "Jo Bloggs")
    assert msg.subject == "Re: Missed bin [Ref: T-000123]"
    assert msg.case_reference == "T-000123"
    assert msg.text == "My bin was not collected again."
    assert msg.html is None
    assert msg.received_at == datetime(2026, 3, 10, 9, 15, tzinfo=UTC)
    assert msg.in_reply_to == "<triage.7.0f0f@council.example>"
    assert msg.references == ("<first@mail.example.org>", "<triage.7.0f0f@council.example>")
    assert msg.kind == "contact" and msg.automatic is None
    assert msg.raw == PLAIN and msg.raw_content_type == "message/rfc822"
    assert msg.meta["to"] == ["contact@council.example"] and msg.meta["cc"] == ["n@example.net"]
    assert msg.meta["envelope"] == {"mail_from": "bounce-jo@example.org", "rcpt_to": ["contact@council.example"]}
    assert [c.value for c in msg.contact_points] == ["jo.work@example.com"]
    assert "suppress_auto_reply" not in msg.meta and "parse_warnings" not in msg.meta


def test_encoded_words_are_joined_before_decoding():
    # "Überfüllte Mülltonne" in UTF-8, base64, split in the middle of the two-byte "ü".
    data = "Überfüllte Mülltonne".encode()
    first, second = base64.b64encode(data[:4]).decode(), base64.b64encode(data[4:]).decode()
    msg = parse(lines("From: a@example.org", f"Subject: =?utf-8?B?{first}?=\r\n =?UTF-8?B?{second}?=", "",
                      "x"))
    assert msg.subject == "Überfüllte Mülltonne"


def test_iso_2022_jp_and_quoted_printable_subjects():
    jp = "=?ISO-2022-JP?B?GyRCJDMkcyRLJEEkTxsoQg==?="
    msg = parse(lines("From: a@example.org", f"Subject: {jp} and =?iso-8859-1?q?caf=E9_cr=E8me?=", "", "x"))
    assert msg.subject == "こんにちは and café crème"


@pytest.mark.parametrize("raw_subject, expected", [
    (b"Caf\xc3\xa9 opening hours", "Café opening hours"),   # raw UTF-8 in a header
    (b"Caf\xe9 opening hours", "Café opening hours"),       # raw Latin-1 in a header
])
def test_eight_bit_headers(raw_subject, expected):
    raw = b"From: J\xc3\xa9r\xc3\xb4me <jerome@example.org>\r\nSubject: " + raw_subject + b"\r\n\r\nx\r\n"
    msg = parse(raw)
    assert msg.subject == expected
    assert msg.sender.display_name == "Jérôme"


@pytest.mark.parametrize("charset, body, expected", [
    ("koi8-r", "Мусор не вывезли".encode("koi8-r"), "Мусор не вывезли"),
    ("iso-8859-1", b"Fine of \x80100", "Fine of €100"),             # really Windows-1252
    ("us-ascii", "Naïve résumé".encode(), "Naïve résumé"),          # mislabelled UTF-8
    ("x-no-such-charset", "Llongyfarchiadau ŵŷ".encode(), "Llongyfarchiadau ŵŷ"),
    ("utf-8", b"Broken \xff byte", "Broken ÿ byte"),                 # not UTF-8 after all
])
def test_body_charsets(charset, body, expected):
    raw = b"From: a@example.org\r\nContent-Type: text/plain; charset=" + charset.encode() + b"\r\n" \
          b"Content-Transfer-Encoding: 8bit\r\n\r\n" + body + b"\r\n"
    assert parse(raw).text == expected


def test_html_only_mail_gets_text_and_sanitised_html():
    html = ("<html><head><style>p {color: red}</style><script>alert('x')</script></head><body>"
            "<p onclick=\"steal()\">Dear council,</p><p>The street light on <b>Mill Lane</b> is out.</p>"
            "<ul><li>since Monday</li><li>near no. 4</li></ul><img src=\"https://tracker.example/p.gif\">"
            "<a href=\"javascript:evil()\">click</a></body></html>")
    mail = EmailMessage()
    mail["From"] = "a@example.org"
    mail.set_content(html, subtype="html")
    msg = parse(mail.as_bytes())

    assert msg.text == "Dear council,\n\nThe street light on Mill Lane is out.\n\n- since Monday\n- near no. 4\nclick"
    assert "<p>Dear council,</p>" in msg.html
    for banned in ("script", "alert", "onclick", "tracker.example", "javascript", "color: red"):
        assert banned not in msg.html


def test_plain_alternative_preferred_over_html():
    mail = EmailMessage()
    mail["From"] = "a@example.org"
    mail.set_content("Plain words")
    mail.add_alternative("<p>HTML words</p>", subtype="html")
    msg = parse(mail.as_bytes())
    assert msg.text == "Plain words"
    assert msg.html.strip() == "<p>HTML words</p>"


def test_attachments_inline_images_and_the_size_limit():
    mail = EmailMessage()
    mail["From"] = "a@example.org"
    mail.set_content("Photos attached")
    mail.add_alternative('<p>See <img src="cid:pothole@x"></p>', subtype="html")
    mail.get_payload()[1].add_related(b"\x89PNG small", maintype="image", subtype="png", cid="<pothole@x>")
    mail.add_attachment(b"%PDF-1.4 letter", maintype="application", subtype="pdf", filename="letter.pdf")
    mail.add_attachment(b"x" * 2000, maintype="image", subtype="jpeg", filename="../../huge.jpg")
    msg = parse(mail.as_bytes(), limit=1000)

    kept = {(a.filename, a.content_type, a.role, a.data) for a in msg.attachments}
    assert kept == {(None, "image/png", "inline", b"\x89PNG small"),
                    ("letter.pdf", "application/pdf", "attachment", b"%PDF-1.4 letter")}
    [oversize] = msg.meta["oversize_attachments"]
    assert oversize["filename"] == "huge.jpg" and oversize["size"] == 2000 and len(oversize["sha256"]) == 64
    assert any("size limit" in w for w in msg.meta["parse_warnings"])


def test_calendar_invite_is_recorded_with_its_summary():
    ics = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:meet-1@example.org\r\n"
           "SUMMARY:Site visit: fly-tipping\r\nLOCATION:Back lane\r\nDTSTART:20260312T100000Z\r\n"
           "DTEND:20260312T110000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    mail = EmailMessage()
    mail["From"] = "a@example.org"
    mail.set_content("Invitation")
    mail.add_alternative(ics, subtype="calendar", params={"method": "REQUEST"})
    msg = parse(mail.as_bytes())

    [invite] = [a for a in msg.attachments if a.role == "calendar"]
    assert invite.content_type == "text/calendar" and b"Site visit" in invite.data
    assert msg.meta["calendar"] == [{"summary": "Site visit: fly-tipping", "start": "2026-03-12T10:00:00+00:00",
                                     "end": "2026-03-12T11:00:00+00:00", "location": "Back lane",
                                     "method": "REQUEST", "uid": "meet-1@example.org"}]


def test_tnef_winmail_dat_is_unpacked():
    tnef = (FIXTURES / "mimekit-winmail.tnef").read_bytes()
    mail = EmailMessage()
    mail["From"] = "outlook.user@example.org"
    mail.set_content("See attached")
    mail.add_attachment(tnef, maintype="application", subtype="ms-tnef", filename="winmail.dat")
    msg = parse(mail.as_bytes())

    unpacked = [a for a in msg.attachments if a.role == "tnef"]
    # MimeKit's winmail.list names two embedded Outlook objects; their bytes start with the OLE class id.
    assert [a.filename for a in unpacked] == ["Untitled Attachment", "Untitled Attachment"]
    assert all(a.data.startswith(bytes.fromhex("0b00000000000000c000000000000046")) for a in unpacked)
    assert [a.size for a in unpacked] == [29034, 68261]
    assert msg.text == "See attached"


def test_exchange_koi8r_message_with_tnef():
    msg = parse((FIXTURES / "mimekit-ukr.eml").read_bytes())
    assert msg.kind == "contact"
    assert any("а" <= ch <= "я" for ch in msg.text)  # Cyrillic decoded from KOI8-R


def test_message_without_message_id_is_identified_by_its_bytes():
    raw = lines("From: a@example.org", "Subject: hi", "", "no id")
    msg = parse(raw)
    from hashlib import sha256

    assert msg.external_id == f"sha256:{sha256(raw).hexdigest()}"


@pytest.mark.parametrize("date, expected", [
    ("Tue, 10 Mar 2026 11:59:00 +0100", datetime(2026, 3, 10, 10, 59, tzinfo=UTC)),
    ("Fri, 01 Jan 2099 00:00:00 +0000", NOW),   # a clock in the future
    ("Mon, 01 Jan 2001 00:00:00 +0000", NOW),   # a clock in the past
    ("Tue, 10 Mar 2026 11:59:00 -0000", NOW),   # no time zone
    ("yesterday-ish", NOW),
])
def test_received_at_uses_the_date_header_only_when_believable(date, expected):
    msg = parse(lines("From: a@example.org", f"Date: {date}", "", "x"))
    assert msg.received_at == expected and msg.received_at.tzinfo is not None


@pytest.mark.parametrize("name", ["flanker-mailformed-headers.eml", "flanker-missing-final-boundary.eml"])
def test_broken_mime_is_kept_with_warnings(name):
    raw = (FIXTURES / name).read_bytes()
    msg = parse(raw)
    assert msg.raw == raw
    assert msg.meta["parse_warnings"]


def test_malformed_headers_still_yield_a_sender_and_subject():
    msg = parse((FIXTURES / "flanker-mailformed-headers.eml").read_bytes())
    assert msg.sender.value == "headers@gmail.com"
    assert msg.subject is not None


@pytest.mark.parametrize("raw", [
    b"",
    b"\x00\x01\x02\xff\xfe binary garbage \x00",
    b"\xef\xbb\xbfFrom: bom@example.org\r\nSubject: starts with a BOM\r\n\r\nhello\x00world\r\n",
    b"Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n" + b"--b\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n" * 200,
])
def test_anything_at_all_becomes_a_storable_message(raw):
    msg = parse(raw, envelope=Envelope("sender@example.org", ("c@council.example",)))
    assert msg.raw == raw
    for text in (msg.text, msg.subject or "", msg.sender.value):
        assert "\x00" not in text
        text.encode("utf-8")  # no lone surrogates: PostgreSQL must accept it


def test_bom_before_headers_is_ignored():
    msg = parse(b"\xef\xbb\xbfFrom: bom@example.org\r\nSubject: starts with a BOM\r\n\r\nhello\r\n")
    assert msg.sender.value == "bom@example.org" and msg.subject == "starts with a BOM"


def test_missing_from_falls_back_to_the_envelope_sender():
    msg = parse(lines("Subject: who am I", "", "x"), envelope=Envelope("Real.Sender@Example.org", ()))
    assert msg.sender.value == "real.sender@example.org"
    assert any("no From" in w for w in msg.meta["parse_warnings"])


def test_long_text_is_cut_but_the_raw_message_is_whole():
    body = "word " * 250_000
    raw = lines("From: a@example.org", "", body)
    msg = parse(raw)
    assert len(msg.text) == 1_000_000 and msg.raw == raw


def test_arrival_time_defaults_to_now():
    msg = parse_email(lines("From: a@example.org", "", "x"), max_attachment_bytes=LIMIT)
    assert abs(msg.received_at - datetime.now(UTC)) < timedelta(seconds=5)


@pytest.mark.parametrize("from_header, value, name", [
    ("=?utf-8?q?Smith=2C_John?= <John.Smith@Example.org>", "john.smith@example.org", "Smith, John"),
    ('"Bloggs, Jo" <jo@example.org>', "jo@example.org", "Bloggs, Jo"),
    ("MAILER-DAEMON <>", "mailer-daemon", None),
    ("jo@example.org (Jo Bloggs)", "jo@example.org", "Jo Bloggs"),
])
def test_sender_addresses(from_header, value, name):
    sender = parse(lines(f"From: {from_header}", "", "x")).sender
    assert (sender.value, sender.display_name) == (value, name)


def test_pathological_recipient_list_does_not_stop_the_parse():
    # MimeKit's stack-overflow.txt in miniature: thousands of encoded-words in To recurse the address parser.
    words = "\r\n\t".join(["=?utf-8?Q?date=3E2017-08-20T10:08:28.617=3C/pr?="] * 6000)
    msg = parse(lines("From: a@example.org", f"To: x@example.org,\r\n\t{words}", "Subject: deep", "", "body"))
    assert msg.subject == "deep" and msg.text == "body" and msg.sender.value == "a@example.org"
