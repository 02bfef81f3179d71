"""The HTTP service: ``POST /v1/predict`` answers with the output and its proof.

Endpoints: ``POST /v1/predict``, ``GET /v1/model`` (verifying key and digest),
``GET /v1/proofs/{proof_id}``, ``GET /healthz``, ``GET /metrics`` (Prometheus), ``/docs``.
Inputs are checked (numbers, finite, shape, range) before anything is queued; proving runs in
worker processes or on Ray (never in the event loop), batched (:mod:`zkgrad.serve.batcher`).

Zero knowledge over many proofs: one weight commitment hides ``Model.zk_budget`` proofs, so
the workers prove through ``Model.prove``, whose ledger beside the model file numbers every
proof into its epoch (a fresh commitment linked to the published digest; ``docs/SECURITY.md``,
"Epochs"). Each answer names its epoch's certificate, ``GET /v1/epochs/{leaf}``, which a client
fetches once per epoch. One batch proof is one opening, whatever its size.

What clients of one batch share: a batch proof states every output it covers (and every
input, for a model compiled with a public input), so requests proved together see each
other's outputs (and inputs). Run with ``max_batch=1`` where clients must not.

Example::

    app = create_app(ServeConfig(model_path="model.zkg", workers=2, max_batch=16))
    uvicorn.run(app, port=8000)
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from zkgrad import _native
from zkgrad.errors import ModelError
from zkgrad.model import Model, Proof
from zkgrad.serve.batcher import Batcher, QueueFull, ShuttingDown
from zkgrad.serve.guard import PROTECTED_PREFIXES, Guard
from zkgrad.serve.metrics import Metrics
from zkgrad.serve.pool import (
    BudgetExhausted,
    ProcessProverPool,
    ProveFailed,
    ProveOutcome,
    WorkerLost,
)
from zkgrad.serve.schemas import (
    EpochRecord,
    ErrorBody,
    ModelInfo,
    PredictRequest,
    PredictResponse,
    ProofRecord,
)
from zkgrad.serve.store import ProofStore
from zkgrad.serve.validation import InputError, check_input

# uvicorn configures this logger: the service's lines go where uvicorn's go, same format.
log = logging.getLogger("uvicorn.error")

#: Share of the shutdown grace period that queued requests keep waiting to be proved.
DRAIN_SHARE = 0.8

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 404, 413, 422, 429, 500, 503)
}


@dataclass
class ServeConfig:
    """How one server runs (the ``zkgrad serve`` options)."""

    model_path: str
    workers: int = 1
    max_batch: int = 16
    #: Samples that may wait for a worker before requests are refused with 429.
    max_queue: int = 256
    #: Prover threads per worker (None: the prover's default).
    threads: int | None = None
    api_keys: list[bytes] | None = None
    max_body_bytes: int = 1 << 20
    keep_proofs: int = 256
    #: Every proof is also written here (``<id>.zkp`` and ``epochs/``), and served from it.
    proof_dir: Path | None = None
    #: Seconds that queued and in-flight requests get to finish at shutdown.
    shutdown_grace: float = 30.0
    #: Seconds one batch proof may take before its workers count as hung (killed, retried).
    prove_timeout: float = 600.0
    #: A Ray cluster to prove on ("local" starts one here), instead of worker processes.
    ray_address: str | None = None


def _error(
    status: int, message: str, field: str | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"detail": message, "field": field}, status_code=status, headers=headers)


def create_app(config: ServeConfig) -> Guard:
    """The ASGI app for ``config`` (a FastAPI app inside the :class:`Guard` layer)."""
    model = Model.load(config.model_path)
    if model.input_visibility == "committed":
        raise ModelError(
            f"{config.model_path}: this model's input is committed, which needs the data "
            "owner's secret seed for every proof; serve a model compiled with a public or "
            "private input"
        )
    key = model.verifying_key()
    key_b64 = base64.b64encode(key.to_bytes()).decode()
    metrics = Metrics()
    if config.proof_dir is not None:
        config.proof_dir.mkdir(parents=True, exist_ok=True)
    store = ProofStore(
        config.keep_proofs, config.proof_dir, lambda data: Proof(data, key).batch or 1
    )
    pool = _make_pool(config)

    # Every epoch certificate a worker sent, by the first 32 hex digits of its leaf commitment:
    # one per 15 proofs, each a few KiB to a few MiB, the same for every proof of its epoch.
    certificates: dict[str, tuple[list[int], bytes]] = {}

    def on_proof(proof_id: str, proof: bytes, outcome: ProveOutcome, batch: int) -> None:
        store.put(proof_id, proof, batch, outcome.certificate)
        if outcome.certificate is not None:
            path, leaf = _native.certificate_epoch(outcome.certificate)
            certificates.setdefault(leaf[:32], (list(path), outcome.certificate))
        metrics.proofs.inc()
        metrics.prove_seconds.observe(outcome.seconds)
        metrics.batch_size.observe(batch)

    batcher = Batcher(pool, key, config.max_batch, config.max_queue, on_proof)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await pool.start()
        dispatcher = asyncio.create_task(batcher.run())
        log.info(
            "serving %s (digest %s) with %d workers, batches of up to %d",
            config.model_path,
            key.digest,
            pool.workers,
            config.max_batch,
        )
        try:
            yield
        finally:
            await batcher.close(config.shutdown_grace)
            dispatcher.cancel()
            await asyncio.to_thread(pool.close)

    app = FastAPI(
        title="zkgrad model service",
        description="Predictions that arrive with zero-knowledge proofs of the committed model.",
        lifespan=lifespan,
    )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        return _validation_error(exc)

    @app.post("/v1/predict", response_model=PredictResponse, responses=ERRORS)
    async def predict(body: PredictRequest) -> Any:
        """Prove the model's output for one input or a batch; answers with output and proof."""
        try:
            samples, single = check_input(body.input, key, config.max_batch)
        except InputError as exc:
            return _error(422, str(exc), exc.field)
        try:
            future = batcher.submit(samples)
        except QueueFull as exc:
            return _error(429, str(exc), None, {"Retry-After": str(exc.retry_after)})
        except ShuttingDown as exc:
            return _error(503, str(exc))
        metrics.queue_depth.set(batcher.queued_samples)
        try:
            result = await future
        except (BudgetExhausted, WorkerLost, ShuttingDown) as exc:
            metrics.failures.labels(type(exc).__name__).inc()
            return _error(503, str(exc))
        except ProveFailed as exc:
            metrics.failures.labels("ProveFailed").inc()
            return _error(500, str(exc))
        finally:
            metrics.queue_depth.set(batcher.queued_samples)
            metrics.worker_restarts.set(getattr(pool, "restarts", 0))
        output = result.output[0].reshape(key.output_shape) if single else result.output
        epoch = _native.proof_epoch(result.proof)
        # A JSONResponse skips re-validating the proof's long string against the schema.
        return JSONResponse(
            {
                "output": output.tolist(),
                "proof": result.proof_b64,
                "proof_id": result.proof_id,
                "model_digest": key.digest,
                "rows": [result.start, result.stop],
                "proof_batch": result.proof_batch,
                "prove_seconds": round(result.prove_seconds, 6),
                "epoch_certificate": None if epoch is None else f"/v1/epochs/{epoch[1][:32]}",
                "epoch_certificate_inline": _inline(certificates, epoch)
                if body.inline_certificate
                else None,
            }
        )

    @app.get("/v1/epochs/{leaf}", response_model=EpochRecord, responses=ERRORS)
    async def epoch_certificate(leaf: str) -> Any:
        """The certificate of an epoch this server proved in, by its leaf commitment."""
        found = certificates.get(leaf)
        if found is None:
            return _error(404, f"no epoch {leaf!r} was proved in by this server", "leaf")
        return {
            "leaf": leaf,
            "path": found[0],
            "certificate": base64.b64encode(found[1]).decode(),
        }

    @app.get("/v1/model", response_model=ModelInfo)
    async def model_info() -> Any:
        """The verifying key and digest a client pins, and the serving limits."""
        return {
            "model_digest": key.digest,
            "circuit_digest": key.circuit_digest,
            "verifying_key": key_b64,
            "input_shape": list(key.input_shape),
            "output_shape": list(key.output_shape),
            "input_visibility": key.input_visibility,
            "max_batch": config.max_batch,
            "zk_budget": model.zk_budget,
        }

    @app.get("/v1/proofs/{proof_id}", response_model=ProofRecord, responses=ERRORS)
    async def proof_again(proof_id: str) -> Any:
        """A proof by its id (the server keeps the last ``keep_proofs`` in memory, and every
        one with ``--proof-dir``)."""
        stored = store.get(proof_id)
        if stored is None:
            return _error(
                404,
                f"no proof with id {proof_id!r}: unknown"
                + (
                    ""
                    if config.proof_dir is not None
                    else f", or older than the last {config.keep_proofs} proofs this server keeps"
                ),
                "proof_id",
            )
        return {
            "proof_id": proof_id,
            "proof": base64.b64encode(stored.proof).decode(),
            "proof_batch": stored.batch,
            "created": stored.created,
            "model_digest": key.digest,
        }

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        """Liveness and load: queue depth, proofs in flight, worker restarts."""
        return {
            "status": "ok",
            "model_digest": key.digest,
            "workers": pool.workers,
            "queued_samples": batcher.queued_samples,
            "proofs_in_flight": batcher.busy,
            "worker_restarts": getattr(pool, "restarts", 0),
        }

    @app.get("/metrics")
    async def prometheus() -> Response:
        """Prometheus text: requests, queue depth, prove latency and batch size histograms."""
        metrics.queue_depth.set(batcher.queued_samples)
        metrics.in_flight.set(batcher.busy)
        metrics.worker_restarts.set(getattr(pool, "restarts", 0))
        body, content_type = metrics.render()
        return Response(body, media_type=content_type)

    if config.api_keys is not None:
        _declare_bearer(app)
    guard = Guard(app, config.max_body_bytes, config.api_keys, metrics)
    # Queued requests get a 503 before uvicorn's grace period ends and it drops connections.
    guard.on_shutdown = lambda: batcher.begin_shutdown(config.shutdown_grace * DRAIN_SHARE)
    return guard


def _declare_bearer(app: FastAPI) -> None:
    """Say in the OpenAPI schema that the protected paths need a bearer key (the Guard checks
    it before FastAPI sees the request), so /docs offers an Authorize button."""
    make_schema = app.openapi

    def schema() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = make_schema()
            spec.setdefault("components", {})["securitySchemes"] = {
                "apiKey": {"type": "http", "scheme": "bearer", "description": "--api-key-file"}
            }
            for path, operations in spec.get("paths", {}).items():
                if path.startswith(PROTECTED_PREFIXES):
                    for operation in operations.values():
                        operation["security"] = [{"apiKey": []}]
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = schema  # type: ignore[method-assign]


def serve_forever(app: Guard, host: str, port: int, log_level: str, grace: float) -> None:
    """Run ``app`` with uvicorn until SIGINT/SIGTERM, then shut down gracefully: requests in
    flight finish, queued ones are proved for most of ``grace`` seconds, then answered 503."""
    import uvicorn

    class Server(uvicorn.Server):
        async def shutdown(self, sockets: Any = None) -> None:
            app.on_shutdown()
            await super().shutdown(sockets)

    config = uvicorn.Config(
        app, host=host, port=port, log_level=log_level, timeout_graceful_shutdown=max(grace, 0.1)
    )
    Server(config).run()


def _inline(
    certificates: dict[str, tuple[list[int], bytes]], epoch: tuple[bytes, str] | None
) -> str | None:
    """An answer's epoch certificate, base64 (None for a proof without an epoch)."""
    if epoch is None or epoch[1][:32] not in certificates:
        return None
    return base64.b64encode(certificates[epoch[1][:32]][1]).decode()


def _make_pool(config: ServeConfig) -> Any:
    if config.ray_address is not None:
        from zkgrad.serve.ray_pool import RayProverPool

        return RayProverPool(
            config.model_path,
            config.ray_address,
            config.workers,
            config.threads,
        )
    return ProcessProverPool(
        config.model_path, config.workers, config.threads, config.prove_timeout
    )


def _validation_error(exc: RequestValidationError) -> JSONResponse:
    """FastAPI's list of pydantic errors -> one sentence naming the field."""
    first = exc.errors()[0] if exc.errors() else {}
    kind = first.get("type", "")
    loc = [str(part) for part in first.get("loc", ()) if part != "body"]
    field = ".".join(loc) or None
    if kind == "json_invalid":
        reason = (first.get("ctx") or {}).get("error", "malformed")
        return _error(400, f"the request body is not valid JSON ({reason})")
    if kind == "missing" and field:
        return _error(422, f'{field}: missing; the body is {{"input": [...]}}', field)
    if kind == "extra_forbidden" and field:
        return _error(422, f'{field}: unknown field; the body is {{"input": [...]}}', field)
    if kind in ("model_attributes_type", "dict_type") or not field:
        return _error(
            422,
            'the request body must be a JSON object {"input": [...]} sent with '
            "Content-Type: application/json",
        )
    return _error(422, f"{field}: {first.get('msg', 'invalid')}", field)
