"""``zkgrad.Client``: predictions from a zkgrad server, each returned only after its proof
verifies against the model digest the client pinned.

Example::

    client = zkgrad.Client("http://127.0.0.1:8000", commitment=published_digest)
    y = client.predict(x)          # one input -> its output; a batch [k, ...] -> [k, ...]

The key is fetched once (``GET /v1/model``) and must carry the pinned digest. Each answer's
proof is verified (``zkgrad.verify`` with ``commitment=``), the answer's rows are taken from the
*verified* output, and the server's stated output must equal them. For a model compiled with
a public input the proof also states the inputs, and the client checks that its rows are its
own input: without that (a private-input model) a proof shows that the committed model made
this output from *some* input, not necessarily the one sent (``client.input_bound`` is False).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import threading
import time
from collections import OrderedDict
from typing import Any

import httpx
import numpy as np

from zkgrad.errors import InvalidProof, ModelError
from zkgrad.inputs import to_float_array
from zkgrad.model import Proof, VerifyingKey, normalize_digest, verify
from zkgrad.serve.validation import InputError, check_input, trailing_shape

#: Verified batch proofs a client remembers (see ``Client._verify``).
VERIFIED_CACHE = 8


class ServiceError(RuntimeError):
    """The server refused or failed a request: ``status`` (HTTP), its one-sentence message,
    the request ``field`` it names (or None), and ``retry_after`` seconds for a 429."""

    def __init__(
        self, status: int, message: str, field: str | None = None, retry_after: float | None = None
    ) -> None:
        self.status = status
        self.field = field
        self.retry_after = retry_after
        super().__init__(f"server answered {status}: {message}")


class Client:
    """A verifying client of ``zkgrad serve``; safe to share between threads."""

    def __init__(
        self,
        url: str,
        commitment: str,
        api_key: str | None = None,
        timeout: float = 120.0,
        retries: int = 3,
        transport: httpx.BaseTransport | None = None,
        inline_certificates: bool = False,
    ) -> None:
        self.url = url.rstrip("/")
        #: Ask for each answer's epoch certificate inside it (verifiable even if the server is
        #: gone by then) instead of fetching it once per epoch.
        self.inline_certificates = inline_certificates
        self.commitment = normalize_digest(commitment)
        #: Times a request refused with 429 is sent again, after the server's Retry-After.
        self.retries = retries
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        # transport: e.g. an httpx.HTTPTransport with client certificates or a proxy
        self._http = httpx.Client(
            base_url=self.url, headers=headers, timeout=timeout, transport=transport
        )
        info = self._json("GET", "/v1/model")
        try:
            self.key = VerifyingKey.from_bytes(base64.b64decode(info["verifying_key"]))
        except (KeyError, TypeError, binascii.Error, ModelError) as exc:
            raise InvalidProof(f"{self.url} sent no usable verifying key ({exc})") from None
        if self.key.digest != self.commitment:
            raise InvalidProof(
                f"{self.url} serves the model {self.key.digest}, not the pinned commitment "
                f"{self.commitment}"
            )
        #: Whether each proof is checked to be about the input sent (a public-input model).
        self.input_bound = self.key.input_visibility == "public"
        self.max_batch = int(info.get("max_batch", 1))
        #: The proof of the last answer of this thread's calls (for keeping or re-checking).
        self._last = threading.local()
        self._verified: OrderedDict[bytes, np.ndarray] = OrderedDict()
        #: Epoch certificates by leaf commitment (one per epoch of the server's proofs).
        self._certificates: dict[str, bytes] = {}
        self._cache_lock = threading.Lock()

    @property
    def last_proof(self) -> Proof | None:
        """The verified proof behind the last ``predict`` call made by this thread."""
        return getattr(self._last, "proof", None)

    def predict(self, x: Any) -> np.ndarray:
        """The verified output for one input (shaped like the model's output) or a batch
        ``[k, ...]`` (``[k, ...output]``). Raises :class:`InvalidProof` if the proof fails,
        :class:`ModelError` for an input the model cannot take, :class:`ServiceError` if the
        server refuses."""
        array = to_float_array(x, "input")  # ModelError for text, NaN, ... named "input"
        try:
            samples, single = check_input(array.tolist(), self.key)
        except InputError as exc:
            raise ModelError(str(exc)) from None
        request = {"input": samples.tolist(), "inline_certificate": self.inline_certificates}
        answer = self._json("POST", "/v1/predict", json=request)
        rows = self._verified_rows(answer, samples)
        return rows[0].reshape(self.key.output_shape) if single else rows

    def _verified_rows(self, answer: dict[str, Any], samples: np.ndarray) -> np.ndarray:
        try:
            data = base64.b64decode(answer["proof"], validate=True)
            start, stop = (int(v) for v in answer["rows"])
            batch = int(answer["proof_batch"])
            stated = np.asarray(answer["output"], dtype=np.float64)
        except (KeyError, TypeError, ValueError, binascii.Error) as exc:
            raise InvalidProof(f"the server's answer is malformed ({exc})") from None
        if stop - start != samples.shape[0] or not 0 <= start < stop <= batch:
            raise InvalidProof(
                f"the server's rows [{start}, {stop}) do not fit {samples.shape[0]} samples in a "
                f"proof of {batch}"
            )
        proof = Proof(data, self.key)
        inline = answer.get("epoch_certificate_inline")
        if inline and proof.epoch is not None:
            try:
                certificate = base64.b64decode(inline, validate=True)
            except (TypeError, ValueError, binascii.Error) as exc:
                raise InvalidProof(f"the answer's epoch certificate is malformed ({exc})") from None
            proof = Proof(data, self.key, certificate)
        elif proof.epoch is not None:
            proof = Proof(data, self.key, self._certificate(proof.epoch[1][:32]))
        trailing = trailing_shape(self.key.output_shape)
        verified = self._verify(proof)
        if verified.size != batch * int(np.prod(trailing)):
            raise InvalidProof(f"the proof covers {proof.batch} samples, not {batch}")
        mine = verified.reshape(batch, *trailing)[start:stop]
        if self.input_bound:
            self._check_inputs(proof, samples, start, stop)
        if stated.size != mine.size or not np.array_equal(stated.reshape(mine.shape), mine):
            raise InvalidProof("the server's stated output is not the output its proof proves")
        self._last.proof = proof
        return mine

    def _verify(self, proof: Proof) -> np.ndarray:
        """The verified output of ``proof``. Requests proved in one batch carry the same proof:
        threads sharing this client verify those bytes once (a cache of the last few, keyed
        by their SHA-256), each request still checks its own rows and input against it."""
        digest = hashlib.sha256(proof.data).digest()
        with self._cache_lock:
            cached = self._verified.get(digest)
        if cached is not None:
            return cached
        verified = np.asarray(verify(self.key, proof, commitment=self.commitment))
        verified.setflags(write=False)
        with self._cache_lock:
            self._verified[digest] = verified
            while len(self._verified) > VERIFIED_CACHE:
                self._verified.popitem(last=False)
        return verified

    def _certificate(self, leaf: str) -> bytes:
        """The certificate of the epoch with leaf commitment ``leaf`` (fetched once: every
        proof of the epoch needs the same one, and the key checks its links once)."""
        with self._cache_lock:
            known = self._certificates.get(leaf)
        if known is not None:
            return known
        answer = self._json("GET", f"/v1/epochs/{leaf}")
        try:
            certificate = base64.b64decode(answer["certificate"], validate=True)
        except (KeyError, TypeError, ValueError, binascii.Error) as exc:
            raise InvalidProof(f"the server's epoch certificate is malformed ({exc})") from None
        with self._cache_lock:
            self._certificates[leaf] = certificate
        return certificate

    def _check_inputs(self, proof: Proof, samples: np.ndarray, start: int, stop: int) -> None:
        stated = proof.input_q
        size = int(np.prod(self.key.input_shape))
        if stated is None or stated.size < stop * size:
            raise InvalidProof("the proof states no input for this request's rows")
        expected = np.concatenate([self.key.quantize(s) for s in samples])
        if not np.array_equal(stated.reshape(-1)[start * size : stop * size], expected):
            raise InvalidProof("the proof is for another input than the one sent")

    def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        for attempt in range(self.retries + 1):
            try:
                response = self._http.request(method, path, **kwargs)
            except httpx.HTTPError as exc:
                raise ServiceError(0, f"no answer from {self.url}{path} ({exc})") from None
            if response.status_code == 429 and attempt < self.retries:
                time.sleep(_retry_after(response))
                continue
            break
        if response.status_code != 200:
            raise _service_error(response)
        try:
            body = response.json()
        except ValueError:
            raise ServiceError(200, f"{path} answered with something other than JSON") from None
        if not isinstance(body, dict):
            raise ServiceError(200, f"{path} answered with JSON that is not an object")
        return body

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client({self.url!r}, commitment={self.commitment[:16]}…)"


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(0.05, float(response.headers.get("retry-after", "1")))
    except ValueError:
        return 1.0


def _service_error(response: httpx.Response) -> ServiceError:
    try:
        body = response.json()
        message, field = str(body.get("detail")), body.get("field")
    except (ValueError, AttributeError):
        message, field = response.text[:200] or response.reason_phrase, None
    retry = _retry_after(response) if response.status_code == 429 else None
    return ServiceError(response.status_code, message, field, retry)
