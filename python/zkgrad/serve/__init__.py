"""Model-as-a-service: predictions that arrive with proofs, served over HTTP and verified by
the client.

- ``zkgrad serve MODEL.zkg``: a FastAPI app (:mod:`zkgrad.serve.app`) whose proving runs in
  worker processes (:mod:`zkgrad.serve.pool`) or on a Ray cluster (:mod:`zkgrad.serve.ray_pool`);
  requests that arrive together are proved as one batch proof (:mod:`zkgrad.serve.batcher`).
- :class:`zkgrad.Client` (:mod:`zkgrad.serve.client`): pins the model digest, verifies every
  answer's proof before returning the output.
- ``zkgrad prove-many MODEL.zkg inputs.npz --ray``: a large batch split into proofs on a cluster.

Needs the ``serve`` extra (``pip install 'zkgrad[serve]'``: fastapi, uvicorn, httpx,
prometheus-client) and, for Ray, the ``ray`` extra. Nothing here is imported by ``import zkgrad``
or by the other commands, so they start as fast as before.
"""
