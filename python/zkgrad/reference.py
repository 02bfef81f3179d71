"""Float reference: run the imported ONNX model in onnxruntime.

Intermediate tensors are read by adding them as graph outputs to a copy of
the model, so calibration sees exactly what the float model computes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper


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
    session = _session(model, names)
    input_name = session.get_inputs()[0].name
    wanted = list(dict.fromkeys(names))
    rows: dict[str, list[np.ndarray]] = {name: [] for name in wanted}
    for sample in samples:
        feed = {input_name: np.ascontiguousarray(sample, dtype=np.float32)}
        fetched = [n for n in wanted if n != input_name]
        values = dict(zip(fetched, session.run(fetched, feed), strict=True)) if fetched else {}
        values[input_name] = feed[input_name]
        for name in wanted:
            rows[name].append(np.asarray(values[name], dtype=np.float64))
    return {name: np.stack(rows[name]) for name in wanted}
