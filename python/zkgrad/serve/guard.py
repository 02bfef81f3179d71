"""The outermost layer of the app (plain ASGI): request-size limit, bearer API key and the
request counter, all decided before the body is read or parsed.

Example::

    app = Guard(fastapi_app, max_body_bytes=1 << 20, api_keys=[b"secret"], metrics=metrics)
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from zkgrad.serve.metrics import Metrics

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Paths that need the API key when the server has one (the model and health stay public).
PROTECTED_PREFIXES = ("/v1/predict", "/v1/proofs/")
KNOWN_PATHS = ("/v1/predict", "/v1/model", "/healthz", "/metrics", "/docs", "/openapi.json")


class _BodyTooLarge(Exception):
    pass


class Guard:
    """Wraps an ASGI app; see the module docstring."""

    def __init__(
        self,
        app: ASGIApp,
        max_body_bytes: int,
        api_keys: list[bytes] | None,
        metrics: Metrics,
    ) -> None:
        self.app = app
        #: Called by the server as its shutdown begins (set by ``create_app``).
        self.on_shutdown: Callable[[], None] = lambda: None
        self.max_body_bytes = max_body_bytes
        self.api_keys = api_keys
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        label = _path_label(path)
        state = {"code": 500, "started": False, "too_large": False, "replaced": False}

        async def counted_send(message: Message) -> None:
            # The app may catch the over-limit error while parsing the body (FastAPI answers
            # 400 then): whatever it answers, the client gets the 413.
            if state["replaced"]:
                return
            if message["type"] == "http.response.start":
                if state["too_large"]:
                    state["replaced"] = True
                    await _send_error(counted_send_raw, 413, self._too_large(), None, {})
                    return
                state["code"] = message["status"]
                state["started"] = True
            await send(message)

        async def counted_send_raw(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["code"] = message["status"]
                state["started"] = True
            await send(message)

        def over_limit() -> None:
            state["too_large"] = True

        try:
            refusal = self._refusal(scope, path)
            if refusal is not None:
                await _send_error(counted_send_raw, *refusal)
                return
            await self.app(scope, self._limited(receive, over_limit), counted_send)
        except _BodyTooLarge:
            if not state["started"] and not state["replaced"]:
                await _send_error(counted_send_raw, 413, self._too_large(), None, {})
        finally:
            self.metrics.requests.labels(label, str(state["code"])).inc()

    def _refusal(
        self, scope: Scope, path: str
    ) -> tuple[int, str, str | None, dict[str, str]] | None:
        """(status, message, field, headers) for a request refused before its body is read."""
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
            return 413, self._too_large(), None, {}
        if self.api_keys is not None and path.startswith(PROTECTED_PREFIXES):
            challenge = {"www-authenticate": "Bearer"}
            given = headers.get("authorization")
            if given is None:
                return (
                    401,
                    "missing API key: send the header 'Authorization: Bearer <key>'",
                    "Authorization",
                    challenge,
                )
            scheme, _, token = given.partition(" ")
            if scheme.lower() != "bearer" or not self._known(token.strip().encode()):
                return (
                    401,
                    "wrong API key (Authorization: Bearer <key>)",
                    "Authorization",
                    (challenge),
                )
        return None

    def _known(self, token: bytes) -> bool:
        # compare against every key, in constant time per key: no early exit on a match
        return any([hmac.compare_digest(token, key) for key in self.api_keys or []])

    def _too_large(self) -> str:
        return (
            f"request body larger than this server's limit of {self.max_body_bytes} bytes "
            "(--max-body-bytes); send fewer samples per request"
        )

    def _limited(self, receive: Receive, over_limit: Callable[[], None]) -> Receive:
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    over_limit()
                    raise _BodyTooLarge
            return message

        return limited


def _path_label(path: str) -> str:
    """A bounded set of metric labels: proof ids are not labels."""
    if path.startswith("/v1/proofs/"):
        return "/v1/proofs/{proof_id}"
    return path if path in KNOWN_PATHS else "other"


async def _send_error(
    send: Send, status: int, message: str, field: str | None, headers: dict[str, str]
) -> None:
    body = json.dumps({"detail": message, "field": field}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
