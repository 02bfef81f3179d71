"""Request and response bodies of the HTTP API (they make the OpenAPI schema at ``/docs``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class PredictRequest(BaseModel):
    """``POST /v1/predict``: one input, or a batch ``[k, ...]`` of inputs, as JSON numbers."""

    model_config = ConfigDict(extra="forbid")

    input: Any = Field(
        description="One input (the model's input shape, with or without a leading 1, or "
        "flat) or a batch [k, ...] of them; finite JSON numbers only.",
        examples=[[[0.1, -1.2, 0.5]]],
    )
    inline_certificate: bool = Field(
        default=False,
        description="Also send the epoch certificate in the answer (base64), so the answer can "
        "be verified without another request; it is the same for the 15 proofs of an epoch and "
        "hundreds of KiB, so by default an answer only says where to fetch it.",
    )


class PredictResponse(BaseModel):
    """The output for the request's input(s), and the proof that covers them.

    The proof may cover other requests proved in the same batch: this request's samples are
    its output rows ``rows[0]`` to ``rows[1] - 1``. A client verifies the proof against the
    verifying key of ``GET /v1/model`` and the digest it pinned before using ``output``.
    """

    output: list[Any] = Field(description="The claimed output (verify the proof first).")
    proof: str = Field(description="The proof bytes, base64 (standard alphabet, padded).")
    proof_id: str = Field(description="Fetch the proof again at GET /v1/proofs/{proof_id}.")
    model_digest: str = Field(description="The model's identity (hex); pin it.")
    rows: list[int] = Field(description="[start, stop): this request's rows of the proof.")
    proof_batch: int = Field(description="Samples the proof covers (1: a one-input proof).")
    prove_seconds: float = Field(description="Time the worker took to prove the batch.")
    epoch_certificate_inline: str | None = Field(
        default=None, description="The epoch certificate, base64, when the request asked for it."
    )
    epoch_certificate: str | None = Field(
        default=None,
        description="Where to fetch the certificate of the epoch the proof was made in "
        "(GET /v1/epochs/{leaf}); the same for every proof of the epoch, so fetch it once.",
    )


class ModelInfo(BaseModel):
    """``GET /v1/model``: what a client needs to verify answers, and the serving limits."""

    model_digest: str
    circuit_digest: str
    verifying_key: str = Field(description="The verifying key file's bytes (.vk), base64.")
    input_shape: list[int]
    output_shape: list[int]
    input_visibility: str = Field(
        description="'public': every proof states its inputs, so a client can check that the "
        "answer is for its own input; 'private': it cannot."
    )
    max_batch: int
    zk_budget: int = Field(
        description="Proofs one epoch's weight commitment serves with zero knowledge; the "
        "digest serves any number of epochs."
    )


class EpochRecord(BaseModel):
    """``GET /v1/epochs/{leaf}``: an epoch's certificate."""

    leaf: str = Field(description="The first 32 hex digits of the epoch's leaf commitment.")
    path: list[int] = Field(description="The epoch's path in the model's epoch tree.")
    certificate: str = Field(description="The epoch certificate's bytes (.zke), base64.")


class ProofRecord(BaseModel):
    """``GET /v1/proofs/{proof_id}``: a recent proof again."""

    proof_id: str
    proof: str = Field(description="The proof bytes, base64.")
    proof_batch: int
    created: float = Field(description="Unix time the proof was made.")
    model_digest: str


class ErrorBody(BaseModel):
    """Every error: one sentence, and the request field it is about when there is one."""

    detail: str
    field: str | None = None
