"""`triage run` on a bare machine: embedded defaults, plain logs about the queue, clean stop."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.helpers import free_port, wait_for_port


def start_service(tmp_path, path: str | None = None) -> tuple[subprocess.Popen, int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    env["TRIAGE_LOG_FORMAT"] = "text"
    if path is not None:
        env["PATH"] = path
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "triage.cli", "run", "--http-port", str(port),
                             "--smtp-port", str(free_port())], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for_port(port, timeout=60)
    except TimeoutError:
        proc.kill()
        pytest.fail(proc.communicate()[0])
    return proc, port


def health(port: int) -> dict:
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
                return json.loads(response.read())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def stop(proc: subprocess.Popen) -> str:
    proc.send_signal(signal.SIGTERM)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, output
    return output


def test_runs_on_embedded_defaults_with_a_private_redis_and_stops_cleanly(tmp_path):
    proc, port = start_service(tmp_path)
    try:
        status = health(port)
    finally:
        output = stop(proc)
    assert status["database"] == "ok" and status["queue"] == "ok"
    assert status["queue_kind"] == "redis"
    assert "queue: embedded redis-server" in output
    assert (tmp_path / "var" / "triage.db").exists()
    assert not (tmp_path / "var" / "redis.sock").exists() or not _socket_alive(tmp_path / "var" / "redis.sock")


def test_falls_back_to_an_in_process_queue_without_redis_and_says_so(tmp_path):
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    proc, port = start_service(tmp_path, path=str(empty_bin))
    try:
        status = health(port)
    finally:
        output = stop(proc)
    assert status["queue_kind"] == "in-process"
    assert "queue: in-process" in output


def _socket_alive(path) -> bool:
    import socket

    with socket.socket(socket.AF_UNIX) as sock:
        try:
            sock.connect(str(path))
            return True
        except OSError:
            return False


def test_the_smtp_server_is_started_unless_switched_off(runtime):
    from dataclasses import replace

    from triage.cli.run import _services

    assert "smtp" in [s.name for s in _services(runtime)]
    imap_only = replace(runtime, settings=runtime.settings.model_copy(update={"smtp_enabled": False}))
    assert "smtp" not in [s.name for s in _services(imap_only)]
