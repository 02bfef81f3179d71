"""Prometheus metrics of one server (``GET /metrics``), in a registry of its own so that two
apps in one process (tests) do not share counters.

Example::

    metrics = Metrics()
    metrics.requests.labels("/v1/predict", "200").inc()
    body, content_type = metrics.render()
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

#: Prove latency buckets (seconds): the bundled MLP proves in ~20-60 ms, big models in seconds.
PROVE_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class Metrics:
    """The server's counters, gauges and histograms (names start with ``zkgrad_``)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "zkgrad_requests", "HTTP requests answered", ["path", "status"], registry=r
        )
        self.queue_depth = Gauge(
            "zkgrad_queue_depth", "Samples waiting for a prover worker", registry=r
        )
        self.in_flight = Gauge("zkgrad_proofs_in_flight", "Proofs being made now", registry=r)
        self.prove_seconds = Histogram(
            "zkgrad_prove_seconds", "Time to prove one batch", buckets=PROVE_BUCKETS, registry=r
        )
        self.batch_size = Histogram(
            "zkgrad_batch_size", "Samples per proof", buckets=BATCH_BUCKETS, registry=r
        )
        self.proofs = Counter("zkgrad_proofs", "Proofs made", registry=r)
        self.failures = Counter(
            "zkgrad_prove_failures", "Batches that could not be proved", ["reason"], registry=r
        )
        self.worker_restarts = Gauge(
            "zkgrad_worker_restarts",
            "Times the worker pool was replaced after a worker died",
            registry=r,
        )

    def render(self) -> tuple[bytes, str]:
        """The Prometheus text exposition and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
