"""Load test of ``zkgrad serve`` on the bundled breast-cancer MLP, over real HTTP on loopback.

C concurrent clients (threads, each its own ``zkgrad.Client``) send R requests each, one
record per request; every answer's proof is verified by the client and its output compared
with the quantised model's own (``Model.run``). Run once with batching (``--max-batch B``) and
once with one proof per request (``--max-batch 1``), each on a fresh server, and report: lost
(no verified answer), wrong (a proof that fails or an output that differs), throughput, client
latency p50/p95/p99 (request + verification), proofs made and samples per proof.

    python benches/serve_load.py                      # 20 clients x 50 requests, both modes
    python benches/serve_load.py --demo               # make demo-service: a short, explained run

A load test makes hundreds of proofs with one model digest: they rotate through epochs (one
fresh weight commitment per 15 proofs, linked to the digest), and every client fetches each
epoch's certificate once.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np

import zkgrad
from zkgrad.demo import MODEL_ASSET, asset_path, load_records
from zkgrad.serve.client import Client, ServiceError


@dataclass
class Run:
    mode: str
    clients: int
    requests: int
    ok: int = 0
    wrong: int = 0
    lost: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    proofs: int = 0
    prove_seconds: float = 0.0  # the workers' time spent proving (zkgrad_prove_seconds_sum)
    errors: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        lat = np.asarray(self.latencies) * 1e3 if self.latencies else np.zeros(1)
        return {
            "mode": self.mode,
            "requests": self.clients * self.requests,
            "ok": self.ok,
            "lost": self.lost,
            "wrong": self.wrong,
            "seconds": round(self.seconds, 2),
            "throughput_rps": round(self.ok / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": round(float(np.percentile(lat, 50)), 1),
            "p95_ms": round(float(np.percentile(lat, 95)), 1),
            "p99_ms": round(float(np.percentile(lat, 99)), 1),
            "proofs": self.proofs,
            "samples_per_proof": round(self.ok / self.proofs, 1) if self.proofs else 0.0,
            # what the prover alone could sustain: samples per second of proving
            "prover_capacity_sps": round(self.ok / self.prove_seconds, 1)
            if self.prove_seconds
            else 0.0,
            "prover_busy": f"{self.prove_seconds / self.seconds:.0%}" if self.seconds else "",
        }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """``zkgrad serve`` in a subprocess, ready once /healthz answers."""

    def __init__(self, model: Path, *args: str) -> None:
        self.url = f"http://127.0.0.1:{free_port()}"
        port = self.url.rsplit(":", 1)[1]
        self.log = model.with_name(f"server-{port}.log")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "zkgrad",
                "serve",
                str(model),
                "--port",
                port,
                "--log-level",
                "warning",
                *args,
            ],
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"server exited: {self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise SystemExit("server did not start in 60 s")

    def metric(self, name: str) -> float:
        text = httpx.get(f"{self.url}/metrics").text
        line = next(x for x in text.splitlines() if x.startswith(name + " "))
        return float(line.split()[1])

    def proofs(self) -> int:
        return int(self.metric("zkgrad_proofs_total"))

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)


def load(
    url: str, digest: str, model: zkgrad.Model, inputs: np.ndarray, run: Run, shared: bool = False
) -> None:
    """``run.clients`` threads x ``run.requests`` verified predictions each; each thread has
    its own ``Client`` (``shared``: one for all, which verifies a batch proof once)."""
    expected = model.run(inputs)
    lock = threading.Lock()
    barrier = threading.Barrier(run.clients)
    common = Client(url, commitment=digest, retries=100) if shared else None

    def client(index: int) -> None:
        c = common or Client(url, commitment=digest, retries=100)
        try:
            barrier.wait()
            for step in range(run.requests):
                row = (index * run.requests + step) % len(inputs)
                start = time.perf_counter()
                try:
                    y = c.predict(inputs[row])
                except zkgrad.InvalidProof as exc:
                    with lock:
                        run.wrong += 1
                        run.errors.append(f"invalid proof: {exc}")
                    continue
                except (ServiceError, zkgrad.ModelError) as exc:
                    with lock:
                        run.lost += 1
                        run.errors.append(str(exc))
                    continue
                elapsed = time.perf_counter() - start
                good = np.array_equal(np.asarray(y).reshape(-1), expected[row].reshape(-1))
                with lock:
                    run.latencies.append(elapsed)
                    if good:
                        run.ok += 1
                    else:
                        run.wrong += 1
        finally:
            if common is None:
                c.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(run.clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    run.seconds = time.perf_counter() - start


def compile_model(folder: Path) -> zkgrad.Model:
    records = load_records()
    with asset_path(MODEL_ASSET) as onnx:
        model = zkgrad.compile(onnx, calibration=records.inputs, input_visibility="public")
    model.save(folder / "bc.zkg")
    return model


def table(rows: list[dict[str, object]]) -> str:
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(str(r[k]) for k in keys) + " |" for r in rows]
    return "\n".join(lines)


def demo(folder: Path, workers: int) -> None:
    records = load_records()
    model = compile_model(folder)
    server = Server(folder / "bc.zkg", "--workers", str(workers))
    try:
        print(f"serving the bundled breast-cancer MLP at {server.url}")
        print(f"published model digest (what clients pin): {model.digest}")
        with Client(server.url, commitment=model.digest) as client:
            for row in range(3):
                start = time.perf_counter()
                y = client.predict(records.inputs[row])
                ms = (time.perf_counter() - start) * 1e3
                label = records.label_names[int(np.argmax(y))]
                truth = records.label_names[int(records.labels[row])]
                print(
                    f"record {row}: predicted {label} (true: {truth}), proof of "
                    f"{client.last_proof.size if client.last_proof else 0} bytes verified in "
                    f"the client, {ms:.0f} ms round trip"
                )
        run = Run("batched (demo)", clients=4, requests=10)
        load(server.url, model.digest, model, records.inputs, run)
        run.proofs = server.proofs() - 3
        run.prove_seconds = server.metric("zkgrad_prove_seconds_sum")
        print(table([run.summary()]))
        print("every answer above was verified against the pinned digest before use")
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--max-batch", type=int, default=16)
    parser.add_argument(
        "--shared-client",
        action="store_true",
        help="one Client for all threads (verifies each batch proof once) instead of one each",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--demo", action="store_true", help="the short run of make demo-service")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="zkgrad-serve-load-") as tmp:
        folder = Path(tmp)
        if args.demo:
            demo(folder, args.workers)
            return
        model = compile_model(folder)
        inputs = load_records().inputs
        rows = []
        for mode, batch in (("batched", args.max_batch), ("one proof per request", 1)):
            server = Server(
                folder / "bc.zkg",
                "--workers",
                str(args.workers),
                "--max-batch",
                str(batch),
                "--max-queue",
                str(max(256, args.clients * 2)),
            )
            try:
                clients = "one shared client" if args.shared_client else "a client each"
                run = Run(f"{mode} (max-batch {batch}), {clients}", args.clients, args.requests)
                load(server.url, model.digest, model, inputs, run, args.shared_client)
                run.proofs = server.proofs()
                run.prove_seconds = server.metric("zkgrad_prove_seconds_sum")
            finally:
                server.stop()
            rows.append(run.summary())
            print(json.dumps(rows[-1]), flush=True)
            for error in run.errors[:5]:
                print(f"  error: {error}", file=sys.stderr)
        ratio = rows[0]["throughput_rps"] / max(rows[1]["throughput_rps"], 1e-9)  # type: ignore[operator]
        print(table(rows))
        print(f"batching: {ratio:.1f}x the throughput of one proof per request")
        if args.json:
            args.json.write_text(
                json.dumps(
                    {"runs": rows, "speedup": round(ratio, 2), "cpus": os.cpu_count()}, indent=1
                )
            )


if __name__ == "__main__":
    main()
