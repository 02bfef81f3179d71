"""Float reference: run the imported ONNX model in onnxruntime.

Intermediate tensors are read by adding them as graph outputs to a copy of
the model, so calibration sees exactly what the float model computes. A model onnxruntime
refuses to load (it has no kernel for some node's types, e.g. an int8 ``MatMul`` of a
converted decision tree) runs in ONNX's own reference evaluator instead.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper
from onnx.reference import ReferenceEvaluator

from zkgrad.errors import ModelError


def _session(model: onnx.ModelProto, names: Sequence[str]) -> ort.InferenceSession:
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    present = {out.name for out in copy.graph.output}
    # A tensor's own type where shape inference found it (a comparison's is BOOL), else float.
    types = {vi.name: vi.type.tensor_type.elem_type for vi in copy.graph.value_info}
    for name in names:
        if name not in present:
            elem = types.get(name) or onnx.TensorProto.FLOAT
            copy.graph.output.append(helper.make_tensor_value_info(name, elem, None))
            present.add(name)
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(
        copy.SerializeToString(), sess_options=options, providers=["CPUExecutionProvider"]
    )


def run_float(
    model: onnx.ModelProto, samples: np.ndarray, names: Sequence[str]
) -> dict[str, np.ndarray]:
    """Run each sample (shape [N, *input_shape]) and return each named tensor stacked over N."""
    wanted = list(dict.fromkeys(names))
    try:
        session = _session(model, names)
    except (
        ort.capi.onnxruntime_pybind11_state.InvalidGraph,
        ort.capi.onnxruntime_pybind11_state.NotImplemented,
    ):
        return _run_reference(model, samples, wanted)
    except ort.capi.onnxruntime_pybind11_state.Fail as exc:
        try:  # a kernel onnxruntime lacks (an LSTM of layout 1): ONNX's evaluator runs it
            return _run_reference(model, samples, wanted)
        except Exception:
            raise ModelError(f"onnxruntime cannot load the model: {_reason(exc)}") from None
    input_name = session.get_inputs()[0].name
    rows: dict[str, list[np.ndarray]] = {name: [] for name in wanted}
    for sample in samples:
        feed = {input_name: np.ascontiguousarray(sample, dtype=np.float32)}
        fetched = [n for n in wanted if n != input_name]
        try:
            got = session.run(fetched, feed) if fetched else []
        except ort.capi.onnxruntime_pybind11_state.Fail as exc:
            raise ModelError(
                f"onnxruntime cannot run the model on sample {len(rows[wanted[0]])}: {_reason(exc)}"
            ) from None
        values = dict(zip(fetched, got, strict=True))
        values[input_name] = feed[input_name]
        for name in wanted:
            rows[name].append(np.asarray(values[name], dtype=np.float64))
    return {name: np.stack(rows[name]) for name in wanted}


def _reason(exc: Exception) -> str:
    """onnxruntime's own sentence, without its source path and template arguments."""
    text = str(exc).split("Status Message:")[-1].strip()
    return text.rsplit("] ", 1)[-1].strip()[:300]


def _run_reference(
    model: onnx.ModelProto, samples: np.ndarray, wanted: list[str]
) -> dict[str, np.ndarray]:
    """``run_float`` by ONNX's reference evaluator (every intermediate tensor is kept)."""
    evaluator = ReferenceEvaluator(model)
    input_name = evaluator.input_names[0]
    rows: dict[str, list[np.ndarray]] = {name: [] for name in wanted}
    for sample in samples:
        feed = {input_name: np.ascontiguousarray(sample, dtype=np.float32)}
        fetched = [n for n in wanted if n != input_name]
        values = dict(zip(fetched, evaluator.run(fetched, feed), strict=True)) if fetched else {}
        values[input_name] = feed[input_name]
        for name in wanted:
            rows[name].append(np.asarray(values[name], dtype=np.float64))
    return {name: np.stack(rows[name]) for name in wanted}
