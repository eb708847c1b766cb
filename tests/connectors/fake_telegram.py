"""A small local Bot API server (getMe, getUpdates, setWebhook, deleteWebhook, sendMessage, getFile, files).

python-telegram-bot talks to it through its `base_url`, exactly as it talks to Telegram.
"""

from __future__ import annotations

import json
import threading
import time
from urllib.parse import unquote

from tests.connectors.fake_http import JsonHandler, LocalServer

TOKEN = "123456:TEST-token-for-the-fake-bot-api"


class FakeBotApi(LocalServer):
    def __init__(self, token: str = TOKEN, max_wait: float = 0.5) -> None:
        self.token = token
        self.max_wait = max_wait
        """Longest a getUpdates long poll is held here, in seconds (short, so tests stay quick)."""
        self.updates: list[dict] = []
        self.sent: list[dict] = []
        self.calls: list[tuple[str, dict]] = []
        self.blocked_chats: set[str] = set()
        self.webhook: dict | None = None
        self.files: dict[str, tuple[str, bytes, bool]] = {}
        """file_id -> (file_path, bytes, whether getFile states the size)."""
        self._news = threading.Condition()
        super().__init__(self._handler())

    @property
    def base_url(self) -> str:
        """What python-telegram-bot takes as `base_url` (it appends the token)."""
        return f"http://127.0.0.1:{self.port}/bot"

    def push(self, update: dict) -> None:
        with self._news:
            self.updates.append(update)
            self._news.notify_all()

    def add_file(self, file_id: str, data: bytes, file_path: str = "photos/file_1.jpg", *,
                 state_size: bool = True) -> None:
        self.files[file_id] = (file_path, data, state_size)

    def offsets(self) -> list[int | None]:
        return [params.get("offset") for method, params in self.calls if method == "getUpdates"]

    def wait_for(self, predicate, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError("the fake Bot API did not see what the test waited for")
            time.sleep(0.02)

    # --- methods -------------------------------------------------------------------------

    def get_me(self, params: dict) -> object:
        return {"id": 123456, "is_bot": True, "first_name": "Council", "username": "council_test_bot"}

    def get_updates(self, params: dict) -> object:
        offset = params.get("offset") or 0
        wait = min(float(params.get("timeout") or 0), self.max_wait)
        with self._news:
            pending = [u for u in self.updates if u["update_id"] >= offset]
            if not pending and wait:
                self._news.wait(wait)
                pending = [u for u in self.updates if u["update_id"] >= offset]
        return pending

    def set_webhook(self, params: dict) -> object:
        self.webhook = params
        return True

    def delete_webhook(self, params: dict) -> object:
        self.webhook = None
        return True

    def send_message(self, params: dict) -> object:
        chat_id = str(params["chat_id"])
        if chat_id in self.blocked_chats:
            raise BotApiError(403, "Forbidden: bot was blocked by the user")
        self.sent.append({"chat_id": chat_id, "text": params["text"]})
        return {"message_id": 1000 + len(self.sent), "date": int(time.time()),
                "chat": {"id": int(chat_id), "type": "private"}, "text": params["text"]}

    def get_file(self, params: dict) -> object:
        file_id = str(params["file_id"])
        if file_id not in self.files:
            raise BotApiError(400, "Bad Request: invalid file_id")
        path, data, state_size = self.files[file_id]
        found = {"file_id": file_id, "file_unique_id": f"u-{file_id}", "file_path": path}
        return {**found, "file_size": len(data)} if state_size else found

    METHODS = {"getMe": get_me, "getUpdates": get_updates, "setWebhook": set_webhook,
               "deleteWebhook": delete_webhook, "sendMessage": send_message, "getFile": get_file}

    def _handler(self) -> type[JsonHandler]:
        fake = self

        class Handler(JsonHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                prefix, path = f"/file/bot{fake.token}/", unquote(self.path)  # the client quotes the token's ':'
                served = {path: data for path, data, _ in fake.files.values()}
                if not path.startswith(prefix) or path[len(prefix):] not in served:
                    return self.send_json(404, {"ok": False, "error_code": 404, "description": "Not Found"})
                data = served[path[len(prefix):]]
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                prefix = f"/bot{fake.token}/"
                if not self.path.startswith(prefix):
                    return self.send_json(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
                name = self.path[len(prefix):]
                params = {k: _json_or_text(v) for k, v in self.read_form()}
                fake.calls.append((name, params))
                method = fake.METHODS.get(name)
                if method is None:
                    return self.send_json(404, {"ok": False, "error_code": 404, "description": "Not Found"})
                try:
                    result = method(fake, params)
                except BotApiError as exc:
                    return self.send_json(exc.status, {"ok": False, "error_code": exc.status,
                                                       "description": exc.description})
                self.send_json(200, {"ok": True, "result": result})

        return Handler


class BotApiError(Exception):
    def __init__(self, status: int, description: str) -> None:
        self.status = status
        self.description = description


def _json_or_text(value: str) -> object:
    """python-telegram-bot sends each parameter JSON-encoded unless it is already a string."""
    try:
        return json.loads(value)
    except ValueError:
        return value
