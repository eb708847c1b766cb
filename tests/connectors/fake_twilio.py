"""A small local server that speaks Twilio's Messages API and serves MMS media, for real clients to call."""

from __future__ import annotations

import base64
import uuid
from collections import deque

from tests.connectors.fake_http import JsonHandler, LocalServer


class FakeTwilio(LocalServer):
    """`POST /2010-04-01/Accounts/{sid}/Messages.json` with Basic auth, answering like Twilio does; and
    `GET …/Messages/{MM}/Media/{ME}` with Basic auth, redirecting (as Twilio does) to `/cdn/{ME}` with the bytes."""

    def __init__(self, account_sid: str, auth_token: str) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.requests: list[dict[str, str]] = []
        self.failures: deque[tuple[int, dict]] = deque()
        self.media: dict[str, tuple[bytes, str]] = {}
        self.media_failures: deque[int] = deque()
        self.media_requests: list[str] = []
        super().__init__(self._handler())

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def fail_next(self, status: int, code: int, message: str) -> None:
        """The next request gets Twilio's error document instead of a message."""
        self.failures.append((status, {"code": code, "message": message,
                                       "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status}))

    def media_url(self, media_sid: str, message_sid: str = "MM4c1a2b3c4d5e6f708192a3b4c5d6e7f8") -> str:
        return f"{self.base_url}/2010-04-01/Accounts/{self.account_sid}/Messages/{message_sid}/Media/{media_sid}"

    def add_media(self, media_sid: str, data: bytes, content_type: str = "image/jpeg") -> str:
        """Serve `data` as one MMS media item; its MediaUrl."""
        self.media[media_sid] = (data, content_type)
        return self.media_url(media_sid)

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

        expected_auth = "Basic " + base64.b64encode(f"{fake.account_sid}:{fake.auth_token}".encode()).decode()
        media_prefix = f"/2010-04-01/Accounts/{fake.account_sid}/Messages/"

        class Handler(JsonHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                fake.media_requests.append(self.path)
                media_sid = self.path.rsplit("/", 1)[-1]
                if self.path.startswith("/cdn/") and media_sid in fake.media:
                    data, content_type = fake.media[media_sid]
                    self.send_response(200)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    return self.wfile.write(data)
                if not self.path.startswith(media_prefix) or "/Media/" not in self.path:
                    return self.send_json(404, {"code": 20404, "message": "Not found", "status": 404})
                if self.headers.get("Authorization") != expected_auth:
                    return self.send_json(401, {"code": 20003, "message": "Authenticate", "status": 401})
                if fake.media_failures:
                    status = fake.media_failures.popleft()
                    return self.send_json(status, {"code": 20500, "message": "Internal error", "status": status})
                if media_sid not in fake.media:
                    return self.send_json(404, {"code": 20404, "message": "Not found", "status": 404})
                self.send_response(307)
                self.send_header("Location", f"/cdn/{media_sid}")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
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
