"""The IMAP mailbox reader against a real Dovecot that each test starts on loopback.

What matters: a message leaves the inbox only after intake has stored it;
a crash or a server restart at any point neither loses nor duplicates mail.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from imapclient import IMAPClient
from sqlalchemy import select

from tests.helpers import free_port, wait_for_port
from triage.connectors.email.imap_poller import ImapPoller, Mailbox
from triage.intake import IntakeUnavailable
from triage.store.models import Message

pytestmark = pytest.mark.skipif(shutil.which("dovecot") is None, reason="Dovecot (dovecot-imapd) is not installed")

USER, PASSWORD = "council", "s3cret pass"
MAIL_USER = "nobody"
"""Dovecot will not open mailboxes as root; the throwaway maildir belongs to this user."""


class Dovecot:
    """A private Dovecot: its own config, base_dir, maildir and password file, on a free loopback port."""

    def __init__(self, *, capabilities: str | None = None) -> None:
        # Outside pytest's tmp_path: that is private to root, and the mail user must reach the maildir.
        self.root = Path(tempfile.mkdtemp(prefix="triage-dovecot-"))
        self.root.chmod(0o755)
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        mail_user = pwd.getpwnam(MAIL_USER)
        (self.root / "mail").mkdir()
        os.chown(self.root / "mail", mail_user.pw_uid, mail_user.pw_gid)
        (self.root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
        extra = f"imap_capability = {capabilities}\n" if capabilities else ""
        (self.root / "dovecot.conf").write_text(f"""
base_dir = {self.root}/run
state_dir = {self.root}/state
log_path = {self.root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{self.root}/mail/%u
first_valid_uid = 1
mail_uid = {mail_user.pw_uid}
mail_gid = {mail_user.pw_gid}
default_internal_user = dovecot
default_internal_group = dovecot
default_login_user = dovenull
{extra}
passdb {{
  driver = passwd-file
  args = {self.root}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_user.pw_uid} gid={mail_user.pw_gid} home={self.root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
""")

    @property
    def url(self) -> str:
        return f"imap://{USER}:s3cret%20pass@127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen(["dovecot", "-F", "-c", str(self.root / "dovecot.conf")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        wait_for_port(self.port)

    def stop(self) -> None:
        """Kill this Dovecot and every process of its session at once: a crash, open connections drop."""
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=20)
            self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def client(self) -> IMAPClient:
        client = IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=10)
        client.login(USER, PASSWORD)
        return client

    def append(self, *messages: bytes, flags: tuple[bytes, ...] = ()) -> None:
        with self.client() as client:
            for raw in messages:
                client.append("INBOX", raw, flags=flags)

    def folder(self, name: str) -> list[tuple[bytes, tuple]]:
        """(body, flags) of every message in a folder."""
        with self.client() as client:
            if not client.folder_exists(name):
                return []
            client.select_folder(name, readonly=True)
            uids = client.search()
            fetched = client.fetch(uids, ["BODY.PEEK[]", "FLAGS"]) if uids else {}
            return [(data[b"BODY[]"], data[b"FLAGS"]) for _, data in sorted(fetched.items())]

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def dovecot():
    server = Dovecot()
    server.start()
    yield server
    server.cleanup()


def mail(n: int, *, message_id: bool = True) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Resident {n} <resident{n}@example.org>"
    msg["To"] = "contact@council.example"
    msg["Subject"] = f"Report {n}"
    if message_id:
        msg["Message-ID"] = f"<report.{n}@example.org>"
    msg.set_content(f"Report number {n}: the bins were not collected.")
    return msg.as_bytes(policy=policy.SMTP)


def poller(intake, server: Dovecot, **kwargs) -> ImapPoller:
    options = {"poll_seconds": 0.5, "idle_seconds": 30, "timeout": 10, "backoff": (0.2, 1.0), **kwargs}
    return ImapPoller(intake, Mailbox.from_url(server.url), **options)


def stored_ids(rt) -> list[str]:
    with rt.sessions() as session:
        return session.scalars(select(Message.external_id).order_by(Message.id)).all()


def wait_until(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_unseen_mail_is_stored_then_flagged_seen_and_moved(runtime, dovecot):
    dovecot.append(mail(1), mail(2), mail(3, message_id=False))
    dovecot.append(mail(4), flags=(b"\\Seen",))  # someone already read it: not ours to take

    assert poller(runtime.intake, dovecot).run_once() == 3

    ids = stored_ids(runtime)
    assert ids[:2] == ["<report.1@example.org>", "<report.2@example.org>"]
    assert ids[2].startswith("sha256:")
    processed = dovecot.folder("Processed")
    assert sorted(body for body, _ in processed) == sorted([mail(1), mail(2), mail(3, message_id=False)])
    assert all(b"\\Seen" in flags for _, flags in processed)
    assert [body for body, _ in dovecot.folder("INBOX")] == [mail(4)]


class CrashAfterStoring:
    """Intake that stores the message and then dies, as a process killed between store and move would."""

    class Crash(BaseException):
        pass

    def __init__(self, intake) -> None:
        self.inner = intake

    def accept(self, msg):
        self.inner.accept(msg)
        raise self.Crash()


def test_crash_between_store_and_move_neither_loses_nor_duplicates(runtime, dovecot):
    dovecot.append(mail(1), mail(2, message_id=False))

    with pytest.raises(CrashAfterStoring.Crash):
        poller(CrashAfterStoring(runtime.intake), dovecot).run_once()
    assert stored_ids(runtime) == ["<report.1@example.org>"]
    assert len(dovecot.folder("INBOX")) == 2 and dovecot.folder("Processed") == []  # still there, still unseen

    assert poller(runtime.intake, dovecot).run_once() == 2  # the restarted reader takes both
    assert len(stored_ids(runtime)) == 2
    assert dovecot.folder("INBOX") == [] and len(dovecot.folder("Processed")) == 2


class RestartServerDuring:
    """Intake that restarts the IMAP server right after storing the Nth message, mid-pass."""

    def __init__(self, intake, server: Dovecot, after: int) -> None:
        self.inner, self.server, self.after, self.calls = intake, server, after, 0

    def accept(self, msg):
        accepted = self.inner.accept(msg)
        self.calls += 1
        if self.calls == self.after:
            self.server.restart()
        return accepted


def test_imap_server_restarted_mid_fetch_loses_nothing(runtime, dovecot, caplog):
    caplog.set_level(logging.INFO, logger="triage")
    dovecot.append(*(mail(n) for n in range(20)))
    reader = poller(RestartServerDuring(runtime.intake, dovecot, after=7), dovecot)
    reader.start()
    try:
        wait_until(lambda: len(stored_ids(runtime)) == 20 and len(dovecot.folder("Processed")) == 20)
    finally:
        reader.stop()

    assert sorted(stored_ids(runtime)) == sorted(f"<report.{n}@example.org>" for n in range(20))
    assert dovecot.folder("INBOX") == []
    assert "mailbox connection lost; reconnecting" in caplog.text


def test_idle_takes_new_mail_as_it_arrives(runtime, dovecot):
    reader = poller(runtime.intake, dovecot, poll_seconds=120)  # only IDLE can explain a quick pick-up
    reader.start()
    try:
        time.sleep(1)
        dovecot.append(mail(1))
        wait_until(lambda: stored_ids(runtime) == ["<report.1@example.org>"], timeout=10)
        wait_until(lambda: len(dovecot.folder("Processed")) == 1, timeout=10)
    finally:
        reader.stop()


def test_polling_and_copy_expunge_on_a_server_without_idle_or_move(runtime):
    server = Dovecot(capabilities="IMAP4rev1 LITERAL+ SASL-IR ID ENABLE UIDPLUS NAMESPACE")
    server.start()
    try:
        with server.client() as client:
            assert not client.has_capability("MOVE") and not client.has_capability("IDLE")
        reader = poller(runtime.intake, server)
        reader.start()
        try:
            server.append(mail(1), mail(2))
            wait_until(lambda: len(server.folder("Processed")) == 2)
        finally:
            reader.stop()
        assert server.folder("INBOX") == []
        assert len(stored_ids(runtime)) == 2
    finally:
        server.cleanup()


def test_database_down_leaves_mail_in_the_mailbox(settings, redis_conn, dovecot):
    from triage.queue import RQJobQueue
    from triage.runtime import Runtime

    unreachable = settings.model_copy(update={
        "database_url": f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nowhere"})
    rt = Runtime.build(unreachable, RQJobQueue(redis_conn))
    try:
        dovecot.append(mail(1))
        with pytest.raises(IntakeUnavailable):
            poller(rt.intake, dovecot).run_once()
    finally:
        rt.engine.dispose()
    [(body, flags)] = dovecot.folder("INBOX")
    assert body == mail(1) and b"\\Seen" not in flags


def test_reader_keeps_trying_while_the_server_is_down(runtime, dovecot):
    dovecot.stop()
    reader = poller(runtime.intake, dovecot)
    reader.start()
    try:
        time.sleep(1.5)  # several failed connection attempts
        dovecot.start()
        dovecot.append(mail(1))
        wait_until(lambda: stored_ids(runtime) == ["<report.1@example.org>"])
    finally:
        reader.stop()


def test_triage_imap_once_command(settings, dovecot, runtime):
    dovecot.append(mail(1), mail(2))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    env.update(TRIAGE_DATABASE_URL=settings.database_url, TRIAGE_REDIS_URL=settings.redis_url,
               TRIAGE_DATA_DIR=str(settings.data_dir), TRIAGE_IMAP_URL=dovecot.url, TRIAGE_LOG_FORMAT="text")
    done = subprocess.run([sys.executable, "-m", "triage.cli", "imap", "--once"], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "2"
    assert len(stored_ids(runtime)) == 2
    assert "resident1@example.org" not in done.stderr  # logs carry ids, not addresses


def test_stop_returns_promptly_while_idling(runtime, dovecot):
    reader = poller(runtime.intake, dovecot, poll_seconds=120, idle_seconds=120)
    reader.start()
    time.sleep(1)
    started = time.monotonic()
    stopper = threading.Thread(target=reader.stop)
    stopper.start()
    stopper.join(timeout=10)
    assert not stopper.is_alive() and time.monotonic() - started < 5


def test_mailbox_url_forms():
    assert Mailbox.from_url("imaps://u%40x:p%2Fw@mail.example:1993") == Mailbox(
        "mail.example", 1993, "u@x", "p/w", implicit_tls=True)
    assert Mailbox.from_url("imap://u:p@mail.example?starttls=yes") == Mailbox(
        "mail.example", 143, "u", "p", starttls=True)
    from triage.config import ConfigError

    with pytest.raises(ConfigError):
        Mailbox.from_url("pop3://u:p@mail.example")

