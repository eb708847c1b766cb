"""A small local server that speaks Twilio's Messages API, for the real twilio client to call."""

from __future__ import annotations

import base64
import uuid
from collections import deque

from tests.connectors.fake_http import JsonHandler, LocalServer


class FakeTwilio(LocalServer):
    """`POST /2010-04-01/Accounts/{sid}/Messages.json` with Basic auth, answering like Twilio does."""

    def __init__(self, account_sid: str, auth_token: str) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.requests: list[dict[str, str]] = []
        self.failures: deque[tuple[int, dict]] = deque()
        super().__init__(self._handler())

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def fail_next(self, status: int, code: int, message: str) -> None:
        """The next request gets Twilio's error document instead of a message."""
        self.failures.append((status, {"code": code, "message": message,
                                       "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status}))

    def message_resource(self, form: dict[str, str]) -> dict:
        sid = "SM" + uuid.uuid4().hex
        path = f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}"
        return {
            "account_sid": self.account_sid, "api_version": "2010-04-01", "body": form.get("Body"),
            "date_created": "Tue, 24 Nov 2026 10:00:00 +0000", "date_sent": None,
            "date_updated": "Tue, 24 Nov 2026 10:00:00 +0000", "direction": "outbound-api", "error_code": None,
            "error_message": None, "from": form.get("From"), "messaging_service_sid": form.get("MessagingServiceSid"),
            "num_media": "0", "num_segments": "1", "price": None, "price_unit": "GBP", "sid": sid,
            "status": "accepted" if form.get("MessagingServiceSid") else "queued", "to": form.get("To"),
            "subresource_uris": {"media": f"{path}/Media.json"}, "uri": f"{path}.json",
        }

    def _handler(self) -> type[JsonHandler]:
        fake = self

        class Handler(JsonHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                expected_auth = "Basic " + base64.b64encode(
                    f"{fake.account_sid}:{fake.auth_token}".encode()).decode()
                form = dict(self.read_form())
                if self.path != f"/2010-04-01/Accounts/{fake.account_sid}/Messages.json":
                    return self.send_json(404, {"code": 20404, "message": "The requested resource was not found",
                                                "status": 404})
                if self.headers.get("Authorization") != expected_auth:
                    return self.send_json(401, {"code": 20003, "message": "Authenticate", "status": 401})
                fake.requests.append(form)
                if fake.failures:
                    return self.send_json(*fake.failures.popleft())
                self.send_json(201, fake.message_resource(form))

        return Handler
