"""``zkgrad.Client`` against a real server through a man in the middle: every tampered
answer (proof, stated output, rows, another input's proof, another model) raises InvalidProof;
``zkgrad query`` prints only verified outputs."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")

import zkgrad  # noqa: E402
from serve_helpers import Server, compile_bundled, records  # noqa: E402
from zkgrad.serve.client import Client  # noqa: E402

Rewrite = Callable[[dict[str, object]], dict[str, object]]


class Tamper(httpx.BaseTransport):
    """Real HTTP to the server; the predict answer (or request) rewritten on the way."""

    def __init__(self, answer: Rewrite | None = None, request: Rewrite | None = None) -> None:
        self.inner = httpx.HTTPTransport()
        self.answer = answer
        self.request = request

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        is_predict = request.url.path == "/v1/predict"
        if is_predict and self.request is not None:
            body = self.request(json.loads(request.read()))
            request = httpx.Request(
                request.method,
                request.url,
                headers={"content-type": "application/json"},
                content=json.dumps(body).encode(),
            )
        response = self.inner.handle_request(request)
        if not is_predict or self.answer is None:
            return response
        body = json.loads(response.read())
        return httpx.Response(response.status_code, json=self.answer(body))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str, Path]]:
    path = tmp_path_factory.mktemp("serve-client") / "bc.zkg"
    model = compile_bundled(path)
    with Server(path, "--max-batch", "8") as server:
        yield server, model.digest, path


def _client(served: tuple[Server, str, Path], **tamper: Rewrite) -> Client:
    server, digest, _ = served
    return Client(server.url, commitment=digest, transport=Tamper(**tamper))


def test_untampered_answer_passes(served: tuple[Server, str, Path]) -> None:
    with _client(served) as client:
        np.testing.assert_array_equal(
            client.predict(records()[3]), zkgrad.Model.load(served[2]).run(records()[3])
        )


def _flip_proof_byte(body: dict[str, object]) -> dict[str, object]:
    proof = bytearray(base64.b64decode(str(body["proof"])))
    proof[len(proof) // 2] ^= 0x01
    return {**body, "proof": base64.b64encode(bytes(proof)).decode()}


def _other_output(body: dict[str, object]) -> dict[str, object]:
    output = np.asarray(body["output"], dtype=np.float64)
    return {**body, "output": (output + 1.0).tolist()}


def _bad_rows(body: dict[str, object]) -> dict[str, object]:
    return {**body, "rows": [0, int(body["proof_batch"]) + 1]}  # type: ignore[call-overload]


def _another_input(body: dict[str, object]) -> dict[str, object]:
    return {"input": records()[7].tolist()}


@pytest.mark.parametrize(
    ("tamper", "words"),
    [
        ({"answer": _flip_proof_byte}, None),
        ({"answer": _other_output}, "stated output"),
        ({"answer": _bad_rows}, "do not fit"),
        ({"request": _another_input}, "another input"),
    ],
    ids=["proof-byte", "stated-output", "rows", "another-input"],
)
def test_tampered_answer_raises_invalid_proof(
    served: tuple[Server, str, Path], tamper: dict[str, Rewrite], words: str | None
) -> None:
    with _client(served, **tamper) as client, pytest.raises(zkgrad.InvalidProof, match=words):
        client.predict(records()[0])


def test_another_models_digest_is_refused_before_any_prediction(
    served: tuple[Server, str, Path],
) -> None:
    server, digest, _ = served
    other = ("0" if digest[0] != "0" else "1") + digest[1:]
    with pytest.raises(zkgrad.InvalidProof, match="not the pinned commitment"):
        Client(server.url, commitment=other)


def test_private_input_model_is_served_but_not_bound_to_the_input(tmp_path: Path) -> None:
    path = tmp_path / "private.zkg"
    model = compile_bundled(path, input_visibility="private")
    with Server(path) as server:
        with Client(server.url, commitment=model.digest) as client:
            np.testing.assert_array_equal(client.predict(records()[4]), model.run(records()[4]))
            assert not client.input_bound


def test_client_is_safe_across_threads(served: tuple[Server, str, Path]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    model = zkgrad.Model.load(served[2])
    with _client(served) as client, ThreadPoolExecutor(6) as pool:
        outputs = list(pool.map(client.predict, records()[:12]))
    for x, y in zip(records()[:12], outputs, strict=True):
        np.testing.assert_array_equal(y, model.run(x))


def _query(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "zkgrad", "query", *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_query_command_prints_the_verified_output(
    served: tuple[Server, str, Path], tmp_path: Path
) -> None:
    server, digest, path = served
    x = tmp_path / "x.json"
    x.write_text(json.dumps(records()[:2].tolist()))
    done = _query(
        server.url, str(x), "--commitment", digest, "-o", str(tmp_path / "p.zkp"), "--json"
    )
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    np.testing.assert_array_equal(
        np.asarray(body["output"]), zkgrad.Model.load(path).run(records()[:2])
    )
    assert body["input_bound"] is True
    assert zkgrad.verify(path, tmp_path / "p.zkp", commitment=digest) is not None


def test_query_with_the_wrong_commitment_exits_1(
    served: tuple[Server, str, Path], tmp_path: Path
) -> None:
    server, _digest, _ = served
    x = tmp_path / "x.json"
    x.write_text(json.dumps(records()[0].tolist()))
    done = _query(server.url, str(x), "--commitment", "ab" * 32)
    assert done.returncode == 1
    assert "not the pinned commitment" in done.stderr


def test_query_of_a_server_that_is_not_there_exits_2(tmp_path: Path) -> None:
    x = tmp_path / "x.json"
    x.write_text(json.dumps(records()[0].tolist()))
    done = _query("http://127.0.0.1:9", str(x), "--commitment", "ab" * 32)
    assert done.returncode == 2
    assert "no answer from" in done.stderr
