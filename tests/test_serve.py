"""``zkgrad serve`` over real HTTP: predictions with proofs that the client verifies, the
model endpoint, proofs by id, health, metrics, and every bad request refused with a 4xx naming
the field, before anything is queued."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

import zkgrad  # noqa: E402
from serve_helpers import Server, compile_bundled, records  # noqa: E402
from zkgrad.serve.client import Client, ServiceError  # noqa: E402

API_KEY = "test-key-7f3a"
MAX_BODY = 64 * 1024


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("serve") / "bc.zkg"
    compile_bundled(path)
    return path


@pytest.fixture(scope="module")
def server(model_path: Path) -> Iterator[Server]:
    keys = model_path.with_name("keys.txt")
    keys.write_text(f"# one key per line\n{API_KEY}\n")
    with Server(
        model_path,
        "--workers",
        "1",
        "--max-batch",
        "16",
        "--api-key-file",
        str(keys),
        "--max-body-bytes",
        str(MAX_BODY),
    ) as running:
        yield running


@pytest.fixture(scope="module")
def digest(model_path: Path) -> str:
    return zkgrad.Model.load(model_path).digest


@pytest.fixture()
def client(server: Server, digest: str) -> Iterator[Client]:
    with Client(server.url, commitment=digest, api_key=API_KEY) as c:
        yield c


def _post(server: Server, body: object = None, content: bytes | None = None, **kw: object):
    headers = {"Authorization": f"Bearer {API_KEY}", **kw.pop("headers", {})}  # type: ignore[dict-item]
    if content is not None:
        return httpx.post(f"{server.url}/v1/predict", content=content, headers=headers, **kw)
    return httpx.post(f"{server.url}/v1/predict", json=body, headers=headers, **kw)


def test_predict_one_input_is_verified_and_equals_the_quantised_model(
    client: Client, model_path: Path
) -> None:
    x = records()[0]
    y = client.predict(x)
    model = zkgrad.Model.load(model_path)
    assert y.shape == model.output_shape
    np.testing.assert_array_equal(y, model.run(x))
    assert client.input_bound  # public input: the proof is checked to be about x


def test_predict_a_batch_returns_rows_in_order(client: Client, model_path: Path) -> None:
    xs = records()[:5]
    y = client.predict(xs)
    np.testing.assert_array_equal(y, zkgrad.Model.load(model_path).run(xs))
    assert client.last_proof is not None and client.last_proof.batch >= 5


def test_answer_fields_and_proof_by_id(server: Server, digest: str, model_path: Path) -> None:
    answer = _post(server, {"input": records()[1].tolist()})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["model_digest"] == digest
    proof = base64.b64decode(body["proof"])
    key = zkgrad.VerifyingKey.from_bytes(
        base64.b64decode(httpx.get(f"{server.url}/v1/model").json()["verifying_key"])
    )
    # The epoch's certificate, fetched once per epoch from where the answer says.
    epoch = httpx.get(f"{server.url}{body['epoch_certificate']}").json()
    certificate = base64.b64decode(epoch["certificate"])
    verified = zkgrad.verify(key, proof, commitment=digest, epoch_certificate=certificate)
    start, stop = body["rows"]
    assert np.asarray(verified).reshape(body["proof_batch"], -1)[start:stop].tolist() == [
        np.asarray(body["output"]).reshape(-1).tolist()
    ]
    again = httpx.get(
        f"{server.url}/v1/proofs/{body['proof_id']}",
        headers={"Authorization": f"Bearer {API_KEY}"},
    )
    assert again.status_code == 200
    assert base64.b64decode(again.json()["proof"]) == proof
    missing = httpx.get(
        f"{server.url}/v1/proofs/nope", headers={"Authorization": f"Bearer {API_KEY}"}
    )
    assert missing.status_code == 404 and "no proof with id 'nope'" in missing.json()["detail"]


def test_model_endpoint_gives_the_key_and_digest_without_an_api_key(
    server: Server, digest: str, model_path: Path
) -> None:
    info = httpx.get(f"{server.url}/v1/model").json()
    assert info["model_digest"] == digest
    key = zkgrad.VerifyingKey.from_bytes(base64.b64decode(info["verifying_key"]))
    assert key.digest == digest
    assert info["input_visibility"] == "public"
    assert info["zk_budget"] == zkgrad.Model.load(model_path).zk_budget


def test_health_metrics_and_openapi(server: Server, client: Client) -> None:
    client.predict(records()[2])
    health = httpx.get(f"{server.url}/healthz").json()
    assert health["status"] == "ok" and health["workers"] == 1
    text = httpx.get(f"{server.url}/metrics").text
    assert 'zkgrad_requests_total{path="/v1/predict",status="200"}' in text
    assert "zkgrad_queue_depth" in text
    count = next(
        line for line in text.splitlines() if line.startswith("zkgrad_prove_seconds_count")
    )
    assert float(count.split()[1]) >= 1
    schema = httpx.get(f"{server.url}/openapi.json").json()
    assert "/v1/predict" in schema["paths"]
    # the server runs with an API key: the schema says which paths need it (Authorize in /docs)
    assert schema["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    assert schema["paths"]["/v1/predict"]["post"]["security"] == [{"apiKey": []}]
    assert "security" not in schema["paths"]["/v1/model"]["get"]
    assert httpx.get(f"{server.url}/docs").status_code == 200


def test_requests_arriving_together_share_one_batch_proof(server: Server, digest: str) -> None:
    xs = records()[:12]
    answers: list[dict[str, object]] = [{}] * len(xs)
    start = threading.Barrier(len(xs))

    def ask(i: int) -> None:
        with Client(server.url, commitment=digest, api_key=API_KEY) as c:
            start.wait()
            y = c.predict(xs[i])  # verified
            assert c.last_proof is not None
            answers[i] = {"y": y, "batch": c.last_proof.batch}

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(xs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(a for a in answers), "a request got no answer"
    assert max(int(a["batch"]) for a in answers) > 1  # type: ignore[call-overload]


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"input": [0.1] * 29 + ["x"]}, "input[29]", "expected a number, got a string"),
        ({"input": [0.1] * 29 + [None]}, "input[29]", "got null"),
        ({"input": [0.1] * 29 + [True]}, "input[29]", "got a boolean"),
        ({"input": [0.1] * 20}, "input", "the model expects [1, 30]"),
        ({"input": [[0.1] * 30, [0.1] * 29]}, "input[1]", "rows must have the same length"),
        ({"input": [1e9] * 30}, "input", "out of range"),
        ({"input": 3}, "input", "expected a list of numbers"),
        ({"input": []}, "input", "empty list"),
        ({"inputs": [0.1] * 30}, "input", "missing"),
        ({"input": [[0.1] * 30] * 17}, "input", "at most 16 per request"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(
    server: Server, body: object, field: str, words: str
) -> None:
    answer = _post(server, body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == field
    assert words in answer.json()["detail"]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused(server: Server, literal: str) -> None:
    content = ('{"input": [' + ", ".join(["0.5"] * 29 + [literal]) + "]}").encode()
    answer = _post(server, content=content, headers={"content-type": "application/json"})
    assert answer.status_code == 422
    assert answer.json()["field"] == "input[29]"
    assert "finite" in answer.json()["detail"]


def test_malformed_json_is_a_400(server: Server) -> None:
    answer = _post(server, content=b'{"input": [1, 2', headers={"content-type": "application/json"})
    assert answer.status_code == 400
    assert "not valid JSON" in answer.json()["detail"]


def test_oversized_body_is_a_413_with_or_without_content_length(server: Server) -> None:
    big = b'{"input": [' + b"0.1," * MAX_BODY + b"0.1]}"
    answer = _post(server, content=big, headers={"content-type": "application/json"})
    assert answer.status_code == 413
    assert f"limit of {MAX_BODY} bytes" in answer.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit counts streamed bytes
        for start in range(0, len(big), 8192):
            yield big[start : start + 8192]

    streamed = _post(server, content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413


def test_api_key_missing_or_wrong_is_a_401(server: Server, digest: str) -> None:
    body = {"input": records()[0].tolist()}
    missing = httpx.post(f"{server.url}/v1/predict", json=body)
    assert missing.status_code == 401
    assert missing.json()["field"] == "Authorization"
    assert missing.headers["www-authenticate"] == "Bearer"
    wrong = httpx.post(
        f"{server.url}/v1/predict", json=body, headers={"Authorization": "Bearer nope"}
    )
    assert wrong.status_code == 401 and "wrong API key" in wrong.json()["detail"]
    with Client(server.url, commitment=digest) as keyless, pytest.raises(ServiceError) as caught:
        keyless.predict(records()[0])
    assert caught.value.status == 401


def test_bad_requests_queue_nothing(server: Server) -> None:
    def proofs() -> float:
        text = httpx.get(f"{server.url}/metrics").text
        line = next(x for x in text.splitlines() if x.startswith("zkgrad_proofs_total"))
        return float(line.split()[1])

    before = proofs()
    for body in ({"input": ["a"] * 30}, {"input": [0.1] * 3}, {"input": [1e9] * 30}):
        assert _post(server, body).status_code == 422
    assert (
        _post(server, {"input": [0.1] * 30}, headers={"Authorization": "Bearer x"}).status_code
        == 401
    )
    assert proofs() == before


def test_client_checks_input_locally_before_sending(client: Client) -> None:
    with pytest.raises(zkgrad.ModelError, match="finite"):
        client.predict([float("nan")] * 30)
