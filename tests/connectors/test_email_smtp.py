"""The inbound SMTP server, spoken to with smtplib over loopback, storing into real PostgreSQL.

Every `250` must mean "stored"; every refusal must be one the sending server
understands (550 never retry, 552 too big, 451 try again later).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import smtplib
import socket
import ssl
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from tests.helpers import drain, free_port, wait_for_port
from triage.connectors.email.smtp_server import Acceptance, SmtpServer
from triage.store.models import AttachmentRow, Case, Message, Reply

ACCEPT = "contact@council.example,@housing.council.example"


def start_server(runtime, **kwargs) -> SmtpServer:
    options = {"host": "127.0.0.1", "port": free_port(), "accept": ACCEPT, "max_bytes": 200_000,
               "max_attachment_bytes": 100_000, **kwargs}
    server = SmtpServer(runtime.intake, **options)
    server.start()
    return server


@pytest.fixture
def smtp_server(runtime):
    server = start_server(runtime)
    yield server
    server.stop()


def resident_mail(subject: str = "Pothole on Mill Lane", message_id: str | None = "<pothole.1@example.org>",
                  **headers: str) -> bytes:
    mail = EmailMessage()
    mail["From"] = "Jo Bloggs <jo@example.org>"
    mail["To"] = "contact@council.example"
    mail["Subject"] = subject
    if message_id:
        mail["Message-ID"] = message_id
    for name, value in headers.items():
        mail[name.replace("_", "-")] = value
    mail.set_content("There is a deep pothole outside number 12.")
    mail.add_attachment(b"\xff\xd8 photo bytes", maintype="image", subtype="jpeg", filename="pothole.jpg")
    return mail.as_bytes(policy=policy.SMTP)


def deliver(port: int, raw: bytes, rcpt: str = "contact@council.example", sender: str = "jo@example.org",
            **kwargs) -> tuple[int, bytes]:
    """One SMTP transaction; returns the server's answer to the DATA (or to the first refused command)."""
    with smtplib.SMTP("127.0.0.1", port, timeout=30, **kwargs) as smtp:
        smtp.ehlo("client.example.org")
        code, text = smtp.mail(sender)
        if code != 250:
            return code, text
        code, text = smtp.rcpt(rcpt)
        if code not in (250, 251):
            return code, text
        return smtp.data(raw)


def stored(rt, *where):
    with rt.sessions() as session:
        return session.scalars(select(Message).where(*where).order_by(Message.id)).all()


def test_250_means_the_message_and_its_files_are_already_stored(runtime, smtp_server):
    raw = resident_mail()
    code, text = deliver(smtp_server.port, raw)

    assert code == 250
    [row] = stored(runtime)  # at the moment the client hears 250
    assert f"message {row.id}".encode() in text
    assert (row.channel, row.external_id, row.sender_value) == ("email", "<pothole.1@example.org>", "jo@example.org")
    assert row.meta["envelope"] == {"mail_from": "jo@example.org", "rcpt_to": ["contact@council.example"]}
    assert runtime.blobs.get(row.raw_sha256) == raw
    with runtime.sessions() as session:
        [photo] = session.scalars(select(AttachmentRow)).all()
    assert photo.filename == "pothole.jpg" and runtime.blobs.get(photo.sha256) == b"\xff\xd8 photo bytes"


def test_the_same_message_sent_twice_is_stored_once(runtime, smtp_server):
    first = deliver(smtp_server.port, resident_mail())
    again = deliver(smtp_server.port, resident_mail())  # the sender never heard our first 250
    assert first == again and first[0] == 250
    assert len(stored(runtime)) == 1


@pytest.mark.parametrize("rcpt, expected", [
    ("contact@council.example", 250),
    ("Contact@Council.Example", 250),
    ("anyone@housing.council.example", 250),
    ("postmaster@council.example", 250),
    ("postmaster", 250),
    ("someone@council.example", 550),
    ("contact@elsewhere.example", 550),
    ("postmaster@elsewhere.example", 550),
])
def test_only_configured_recipients_are_accepted(runtime, smtp_server, rcpt, expected):
    code, text = deliver(smtp_server.port, resident_mail(), rcpt=rcpt)
    assert code == expected
    if expected == 550:
        assert text.startswith(b"5.1.1")
        assert stored(runtime) == []


def test_every_recipient_is_accepted_when_none_are_configured_and_the_log_says_so(runtime, caplog):
    caplog.set_level(logging.WARNING)
    server = start_server(runtime, accept=None)
    try:
        assert deliver(server.port, resident_mail(), rcpt="whoever@anywhere.example")[0] == 250
    finally:
        server.stop()
    assert "accepting mail for every recipient" in caplog.text
    assert Acceptance.parse(" , ") is None


def test_oversize_message_is_refused_with_552(runtime, smtp_server):
    big = resident_mail() + b"x" * 250_000
    with smtplib.SMTP("127.0.0.1", smtp_server.port, timeout=30) as smtp:
        smtp.ehlo()
        assert int(smtp.esmtp_features["size"]) == 200_000
        assert smtp.mail("jo@example.org", ["SIZE=250000"])[0] == 552  # declared up front
        smtp.rset()
    assert deliver(smtp_server.port, big)[0] == 552                      # or found out in DATA
    assert stored(runtime) == []


def test_broken_mime_is_stored_raw_with_a_warning(runtime, smtp_server):
    raw = (b"From: someone@example.org\r\nSubject: \xff\xfe broken\r\nMessage-ID: <broken.1@example.org>\r\n"
           b"Content-Type: multipart/mixed; boundary=\"never-used\"\r\n\r\nno parts here\x00 at all\r\n")
    assert deliver(smtp_server.port, raw)[0] == 250
    [row] = stored(runtime)
    assert row.meta["parse_warnings"]
    assert runtime.blobs.get(row.raw_sha256) == raw


def test_long_lines_are_accepted_rather_than_bounced(runtime, smtp_server):
    raw = b"From: a@example.org\r\nMessage-ID: <long@example.org>\r\n\r\n" + b"y" * 5000 + b"\r\n"
    assert deliver(smtp_server.port, raw)[0] == 250
    assert len(stored(runtime)[0].text) == 5000


def test_starttls_when_a_certificate_is_configured(runtime, tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=localhost", "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    server = start_server(runtime, tls_cert=cert, tls_key=key)
    try:
        with smtplib.SMTP("127.0.0.1", server.port, timeout=30) as smtp:
            smtp.ehlo()
            assert smtp.has_extn("starttls")
            context = ssl.create_default_context(cafile=str(cert))
            context.check_hostname = False
            smtp.starttls(context=context)
            smtp.ehlo()
            smtp.sendmail("jo@example.org", ["contact@council.example"], resident_mail())
    finally:
        server.stop()
    assert len(stored(runtime)) == 1


def test_a_stored_resident_mail_is_triaged_into_a_case(runtime, smtp_server):
    deliver(smtp_server.port, resident_mail())
    drain(runtime)
    [row] = stored(runtime)
    assert row.status == "triaged" and row.kind == "contact" and row.case_id is not None


def test_a_bounce_of_our_reply_marks_that_reply_failed(runtime, smtp_server):
    ours = "<triage.1.5f3c0a9e8d7b6a5c4d3e@council.example>"
    with runtime.sessions.begin() as session:
        case = Case(status="open", channel="email", received_at=datetime.now(UTC), reference="T-000001")
        session.add(case)
        session.flush()
        session.add(Reply(idempotency_key="1:ack", case_id=case.id, channel="email", recipient="gone@example.net",
                          template="ack", status="sent", provider_id=ours))
    bounce = (
        "From: MAILER-DAEMON@mx.example.net (Mail Delivery System)\r\nTo: contact@council.example\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <b1@mx.example.net>\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you...\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\n"
        "Final-Recipient: rfc822; gone@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        f"--B\r\nContent-Type: message/rfc822\r\n\r\nMessage-ID: {ours}\r\nSubject: x\r\n\r\nhello\r\n--B--\r\n"
    ).encode()
    assert deliver(smtp_server.port, bounce, sender="")[0] == 250
    drain(runtime)

    [row] = stored(runtime)
    assert (row.kind, row.status, row.case_id) == ("bounce", "recorded", case.id)
    with runtime.sessions() as session:
        reply = session.scalars(select(Reply)).one()
    assert reply.status == "failed" and "5.1.1" in reply.error


def test_many_clients_at_once_all_stored(runtime, smtp_server):
    def client(n: int) -> None:
        for i in range(10):
            assert deliver(smtp_server.port, resident_mail(message_id=f"<c{n}.{i}@example.org>"))[0] == 250

    threads = [threading.Thread(target=client, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 60


# --- PostgreSQL unavailable ---------------------------------------------------------------------


class TcpProxy:
    """A loopback TCP forwarder we can cut: to this server's database connections it is an outage."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self.listener: socket.socket | None = None
        self.conns: list[socket.socket] = []
        self.lock = threading.Lock()

    def start(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def stop(self) -> None:
        """Refuse new connections and cut the open ones, like a database host going away."""
        if self.listener:
            with contextlib.suppress(OSError):
                self.listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() so the port really closes
            self.listener.close()
            self.listener = None
        with self.lock:
            for conn in self.conns:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
                conn.close()
            self.conns.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)


@pytest.fixture
def proxied_runtime(settings, redis_conn):
    """A runtime whose database connections all go through a TcpProxy the test can cut."""
    from triage.queue import RQJobQueue
    from triage.runtime import Runtime

    url = make_url(settings.database_url)
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    proxy.start()
    proxied = replace_url(settings, url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False))
    rt = Runtime.build(proxied, RQJobQueue(redis_conn))
    yield rt, proxy
    proxy.stop()
    rt.engine.dispose()


def replace_url(settings, url: str):
    return settings.model_copy(update={"database_url": url})


def test_database_outage_answers_451_and_the_retry_after_it_is_stored(runtime, proxied_runtime):
    rt, proxy = proxied_runtime
    server = start_server(rt)
    try:
        assert deliver(server.port, resident_mail(message_id="<before@example.org>"))[0] == 250
        proxy.stop()
        code, text = deliver(server.port, resident_mail(message_id="<during@example.org>"))
        assert (code, text[:5]) == (451, b"4.3.0")

        proxy.start()
        deadline = time.monotonic() + 30
        while (code := deliver(server.port, resident_mail(message_id="<during@example.org>"))[0]) != 250:
            assert code == 451 and time.monotonic() < deadline  # the sender's queue keeps trying
            time.sleep(0.2)
    finally:
        server.stop()
    assert [m.external_id for m in stored(runtime)] == ["<before@example.org>", "<during@example.org>"]


def test_received_at_comes_from_a_sane_date_header(runtime, smtp_server):
    sent = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=3)
    deliver(smtp_server.port, resident_mail(Date=sent.strftime("%a, %d %b %Y %H:%M:%S +0000")))
    assert stored(runtime)[0].received_at == sent


def test_sender_is_not_logged(runtime, smtp_server, caplog):
    from triage.logs import JsonFormatter

    caplog.set_level(logging.DEBUG)
    deliver(smtp_server.port, resident_mail(), rcpt="nobody@council.example")
    deliver(smtp_server.port, resident_mail())
    output = "\n".join(JsonFormatter().format(r) for r in caplog.records if r.name.startswith("triage"))
    assert "recipient refused" in output
    assert "jo@example.org" not in output and "nobody@council.example" not in output
    assert "Pothole" not in output


def test_envelope_null_sender_is_recorded(runtime, smtp_server):
    deliver(smtp_server.port, resident_mail(), sender="")
    [row] = stored(runtime)
    assert row.meta["envelope"]["mail_from"] == ""
    assert row.meta["suppress_auto_reply"] == "empty Return-Path (<>)"



def test_triage_smtp_command_with_two_processes_on_one_port_stops_cleanly(runtime, settings):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    env.update(TRIAGE_DATABASE_URL=settings.database_url, TRIAGE_REDIS_URL=settings.redis_url,
               TRIAGE_DATA_DIR=str(settings.data_dir), TRIAGE_SMTP_ACCEPT=ACCEPT, TRIAGE_LOG_FORMAT="text")
    proc = subprocess.Popen([sys.executable, "-m", "triage.cli", "smtp", "--port", str(port), "--processes", "2"],
                            env=env, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_port(port, timeout=60)
        time.sleep(2)  # the sibling process binds the same port a moment later
        for n in range(12):  # connections land on either process
            assert deliver(port, resident_mail(message_id=f"<cli.{n}@example.org>"))[0] == 250
        assert deliver(port, resident_mail(), rcpt="stranger@example.net")[0] == 550
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    assert len(stored(runtime)) == 12
    assert stderr.count("SMTP server listening") == 2
    assert "jo@example.org" not in stderr
