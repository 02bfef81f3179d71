"""``zkgrad serve`` under faults, over real HTTP: a full queue is a 429 with Retry-After, a
worker killed mid-proof costs at most a 503 and the server goes on, a shutdown lets requests in
flight finish, and proofs past one epoch's zero-knowledge budget go on in the next epoch."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")

import zkgrad  # noqa: E402
from serve_helpers import Server, compile_bundled, records  # noqa: E402
from zkgrad.serve.client import Client, ServiceError  # noqa: E402


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, zkgrad.Model]:
    path = tmp_path_factory.mktemp("faults") / "bc.zkg"
    return path, compile_bundled(path)


def _in_threads(count: int, work) -> list[object]:  # type: ignore[no-untyped-def]
    """Run ``work(i)`` in ``count`` threads started together; each result or exception."""
    results: list[object] = [None] * count
    barrier = threading.Barrier(count)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as exc:  # collected and checked by the test
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 300  # longer than any client's timeout: a hang shows as one
    for t in threads:
        t.join(timeout=max(0.0, deadline - time.monotonic()))
    return results


def test_full_queue_is_a_429_with_retry_after(model: tuple[Path, zkgrad.Model]) -> None:
    path, _ = model
    batch = records()[:8].tolist()
    with Server(path, "--max-batch", "8", "--max-queue", "8") as server:
        answers = _in_threads(
            16, lambda i: httpx.post(f"{server.url}/v1/predict", json={"input": batch}, timeout=60)
        )
        codes = sorted(a.status_code for a in answers)  # type: ignore[union-attr]
        assert set(codes) <= {200, 429}, codes
        refused = [a for a in answers if a.status_code == 429]  # type: ignore[union-attr]
        assert refused, "no request was refused with a queue of one batch"
        for answer in refused:
            assert int(answer.headers["retry-after"]) >= 1  # type: ignore[union-attr]
            assert "queue is full" in answer.json()["detail"]  # type: ignore[union-attr]
        # the server goes on: a later request is proved
        later = httpx.post(f"{server.url}/v1/predict", json={"input": batch[0]}, timeout=60)
        assert later.status_code == 200


def test_client_retries_a_429_after_retry_after(model: tuple[Path, zkgrad.Model]) -> None:
    path, loaded = model
    with Server(path, "--max-batch", "4", "--max-queue", "4") as server:
        with Client(server.url, commitment=loaded.digest, retries=50) as client:
            outputs = _in_threads(8, lambda i: client.predict(records()[i : i + 4]))
    for i, y in enumerate(outputs):
        np.testing.assert_array_equal(y, loaded.run(records()[i : i + 4]))


def test_worker_killed_mid_proof_is_retried_or_503_and_the_server_goes_on(
    model: tuple[Path, zkgrad.Model],
) -> None:
    path, loaded = model
    with Server(path, "--workers", "2", "--max-batch", "16", "--prove-timeout", "30") as server:
        pids = server.worker_pids()
        assert len(pids) == 2, server.output()
        client = Client(server.url, commitment=loaded.digest, retries=20, timeout=90)
        stop = time.monotonic() + 3.0

        def load(i: int) -> list[str]:
            seen = []
            while time.monotonic() < stop:
                x = records()[(i * 7) % 100 : (i * 7) % 100 + 4]
                try:
                    np.testing.assert_array_equal(client.predict(x), loaded.run(x))
                    seen.append("ok")
                except ServiceError as exc:
                    assert exc.status == 503, exc
                    assert "died" in str(exc)
                    seen.append("503")
            return seen

        killer = threading.Timer(0.8, lambda: os.kill(pids[0], signal.SIGKILL))
        killer.start()
        results = _in_threads(6, load)
        killer.join()
        for r in results:
            assert isinstance(r, list), r  # no wrong answer, no other error
        assert sum(r.count("ok") for r in results) > 0  # type: ignore[union-attr]
        health = httpx.get(f"{server.url}/healthz").json()
        assert health["worker_restarts"] >= 1
        assert len(server.worker_pids()) == 2  # a fresh pool
        np.testing.assert_array_equal(client.predict(records()[0]), loaded.run(records()[0]))
        client.close()


def test_a_hung_worker_is_killed_and_its_request_proved_again(
    model: tuple[Path, zkgrad.Model],
) -> None:
    path, loaded = model
    with Server(path, "--workers", "1", "--max-batch", "4", "--prove-timeout", "3") as server:
        (pid,) = server.worker_pids()
        os.kill(pid, signal.SIGSTOP)  # alive but never answering: no BrokenProcessPool comes
        try:
            with Client(server.url, commitment=loaded.digest, timeout=60) as client:
                start = time.monotonic()
                y = client.predict(records()[3])
                waited = time.monotonic() - start
        finally:
            with contextlib.suppress(ProcessLookupError):  # killed by the server, as it should
                os.kill(pid, signal.SIGCONT)
        np.testing.assert_array_equal(y, loaded.run(records()[3]))
        assert 3 <= waited < 50, waited
        assert httpx.get(f"{server.url}/healthz").json()["worker_restarts"] == 1
        assert server.worker_pids() != [pid]


def test_shutdown_lets_requests_in_flight_finish(model: tuple[Path, zkgrad.Model]) -> None:
    path, loaded = model
    server = Server(path, "--max-batch", "1")
    # Answers carry their epoch certificates: verifiable after the server is gone.
    client = Client(server.url, commitment=loaded.digest, inline_certificates=True)
    sent = threading.Event()

    def ask(i: int) -> np.ndarray:
        sent.set()
        return client.predict(records()[i])

    def terminate_when_busy() -> None:
        sent.wait()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if httpx.get(f"{server.url}/healthz").json()["queued_samples"] >= 2:
                break
        server.terminate()

    stopper = threading.Thread(target=terminate_when_busy)
    stopper.start()
    results = _in_threads(8, ask)
    stopper.join()
    # uvicorn exits by re-raising the SIGTERM it handled, once shut down cleanly
    assert server.stop() in (0, -signal.SIGTERM), server.output()
    for i, y in enumerate(results):
        np.testing.assert_array_equal(y, loaded.run(records()[i]))  # every one answered
    assert "Shutting down" in server.output()


def test_proofs_past_an_epoch_go_on_in_the_next_one(tmp_path: Path) -> None:
    # The weight commitment's budget is per epoch: once an epoch's proofs are spent, the
    # server proves in the next one (a fresh commitment linked to the published digest) with
    # the budget enforced, and the client fetches the new epoch's certificate once.
    path = tmp_path / "fresh.zkg"
    model = compile_bundled(path)
    x = records()[0]
    for _ in range(model.zk_budget - 1):  # all but one proof of epoch 0, through the public API
        model.prove(x)
    with Server(path, "--max-batch", "1") as server:  # the budget is enforced
        with Client(server.url, commitment=model.digest) as client:
            for _ in range(3):
                np.testing.assert_array_equal(client.predict(x), model.run(x))
            assert client.last_proof is not None and client.last_proof.epoch[0] == (1, 0)
        answer = httpx.post(f"{server.url}/v1/predict", json={"input": x.tolist()}, timeout=60)
        assert answer.status_code == 200
        where = answer.json()["epoch_certificate"]
        epoch = httpx.get(f"{server.url}{where}").json()
        assert epoch["path"] == [1, 0]
        assert httpx.get(f"{server.url}/v1/epochs/{'0' * 32}").status_code == 404
    assert zkgrad.Model.load(path).proofs_made == model.zk_budget + 3


def test_shutdown_answers_what_it_cannot_prove_in_time_with_a_503(
    model: tuple[Path, zkgrad.Model],
) -> None:
    path, loaded = model
    server = Server(path, "--max-batch", "1", "--shutdown-grace", "1")
    client = Client(server.url, commitment=loaded.digest, inline_certificates=True)
    count = 60
    queued_at_stop = [0]

    def terminate_when_queued() -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            queued_at_stop[0] = httpx.get(f"{server.url}/healthz").json()["queued_samples"]
            if queued_at_stop[0] >= count // 2:
                break
            time.sleep(0.01)
        server.terminate()

    stopper = threading.Thread(target=terminate_when_queued)
    stopper.start()
    results = _in_threads(count, lambda i: client.predict(records()[i]))
    stopper.join()
    server.stop()
    proved = refused = unreached = 0
    for i, result in enumerate(results):
        if isinstance(result, ServiceError) and result.status == 0:
            # A request still in the socket backlog, or sent on a keep-alive connection the
            # server closed as it stopped listening, never reached the server: it has no answer
            # to give. Only requests the server had not taken yet can end this way (below).
            unreached += 1
        elif isinstance(result, ServiceError):  # a clear answer, not a dropped connection
            assert result.status == 503, result
            assert "shut down before this request was proved" in str(result)
            refused += 1
        else:
            np.testing.assert_array_equal(result, loaded.run(records()[i]))
            proved += 1
    assert refused > 0, f"all {proved} were proved within the grace period"
    # Every request queued when the shutdown began got an answer (a proof or a 503).
    assert unreached <= count - queued_at_stop[0], (unreached, queued_at_stop[0])
    assert proved + refused + unreached == count
