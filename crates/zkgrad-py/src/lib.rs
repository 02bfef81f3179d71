//! zkgrad-py: the native module `zkgrad._native`, the only place that imports pyo3.
//!
//! It converts numpy arrays to and from flat `i64` vectors, releases the GIL around the forward
//! pass, proving and verifying, and maps every Rust error to a Python exception:
//!
//! | Rust                                                       | Python                      |
//! |------------------------------------------------------------|-----------------------------|
//! | `zkgrad_model::ModelError` (bad IR, input, value range)     | `ModelError` (a ValueError) |
//! | core `ProofError` while decoding or verifying a proof       | `InvalidProof`              |
//! | core `ProofError` other than a witness/circuit error in `prove` | `RuntimeError`          |
//! | a non-integer array                                         | `TypeError`                 |
//! | a panic anywhere below (a bug)                              | `RuntimeError`              |
//!
//! Nothing panics across the boundary: every call into the Rust crates runs under
//! `catch_unwind`.

use std::panic::{AssertUnwindSafe, catch_unwind};

mod attest;
mod data;

/// The prover allocates and frees tables of many megabytes per proof; mimalloc keeps that memory
/// instead of handing it back to the kernel and faulting it in again page by page.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use numpy::{
    IntoPyArray, PyArray1, PyArrayDescrMethods, PyArrayDyn, PyArrayMethods, PyUntypedArray,
    PyUntypedArrayMethods,
};
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use zkgrad_core::ProofError;
use zkgrad_core::proof::Proof;
use zkgrad_model::{CompiledModel, Graph, Tensor, VerifyingKey};

create_exception!(
    zkgrad._native,
    InvalidProof,
    PyException,
    "The proof is invalid: it does not decode, or the verifier rejected it."
);
create_exception!(
    zkgrad._native,
    ModelError,
    PyValueError,
    "Bad IR, bad input, or a value outside the provable range; the message names the node or tensor."
);

/// Maps a model error to Python: core errors that are not about the model are internal.
/// Decodes and verifies proof bytes with the GIL released; any failure is `InvalidProof`.
/// Bytes longer than any proof for `spec` can be are refused before decoding.
fn verify_bytes<'py>(
    py: Python<'py>,
    proof: &[u8],
    spec: &zkgrad_core::circuit::CircuitSpec,
    check: impl Fn(&Proof) -> zkgrad_core::Result<Vec<i64>> + Send + Sync,
) -> PyResult<Bound<'py, PyArray1<i64>>> {
    let out = py.detach(|| {
        guarded(|| {
            let limit = zkgrad_core::bounds::max_proof_bytes(spec);
            if proof.len() > limit {
                return Err(InvalidProof::new_err(format!(
                    "the proof is {} bytes, more than a proof for this model can take ({limit} bytes)",
                    proof.len()
                )));
            }
            let p = Proof::from_bytes(proof).map_err(invalid_proof)?;
            check(&p).map_err(invalid_proof)
        })
    })?;
    Ok(flat_array(py, out))
}

fn model_err(e: zkgrad_model::ModelError) -> PyErr {
    match e {
        zkgrad_model::ModelError::Core(pe)
            if !matches!(
                pe,
                ProofError::Witness { .. } | ProofError::Circuit(_) | ProofError::Epoch(_)
            ) =>
        {
            PyRuntimeError::new_err(format!("internal proof-system error: {pe}"))
        }
        e => ModelError::new_err(e.to_string()),
    }
}

fn invalid_proof(e: ProofError) -> PyErr {
    InvalidProof::new_err(e.to_string())
}

/// Runs `f`, turning a panic into a `RuntimeError` instead of letting it reach Python.
fn guarded<T>(f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let msg = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        Err(PyRuntimeError::new_err(format!(
            "zkgrad internal error (please report): {msg}"
        )))
    })
}

/// Reads any integer array-like as (shape, row-major i64 values); `TypeError` for other dtypes.
fn int_array(
    py: Python<'_>,
    obj: &Bound<'_, PyAny>,
    what: &str,
) -> PyResult<(Vec<usize>, Vec<i64>)> {
    let arr = if obj.is_instance_of::<PyUntypedArray>() {
        obj.clone()
    } else {
        py.import("numpy")?.call_method1("asarray", (obj,))?
    };
    let untyped = arr.downcast::<PyUntypedArray>()?;
    let shape = untyped.shape().to_vec();
    if let Ok(a) = arr.downcast::<PyArrayDyn<i64>>() {
        let values = a.readonly().as_array().iter().copied().collect();
        return Ok((shape, values));
    }
    let dtype = untyped.dtype();
    match dtype.kind() {
        b'u' if dtype.itemsize() == 8 => {
            let a = arr.downcast::<PyArrayDyn<u64>>()?;
            let ro = a.readonly();
            let values = ro
                .as_array()
                .iter()
                .map(|&v| i64::try_from(v))
                .collect::<Result<Vec<_>, _>>();
            let values = values.map_err(|_| {
                ModelError::new_err(format!("{what}: a uint64 value does not fit in int64"))
            })?;
            Ok((shape, values))
        }
        b'i' | b'u' => {
            let cast = arr.call_method1("astype", ("int64",))?;
            let a = cast.downcast::<PyArrayDyn<i64>>()?;
            let values = a.readonly().as_array().iter().copied().collect();
            Ok((shape, values))
        }
        _ => Err(PyTypeError::new_err(format!(
            "{what} must be an integer array (quantise it first), got dtype {}",
            dtype.str()?
        ))),
    }
}

fn flat_array<'py>(py: Python<'py>, values: Vec<i64>) -> Bound<'py, PyArray1<i64>> {
    values.into_pyarray(py)
}

/// A compiled model: validated IR, integer tensors, lowered circuit and weight commitment.
#[pyclass(module = "zkgrad._native", frozen)]
struct NativeModel {
    inner: CompiledModel,
}

/// Proofs one weight commitment serves with the weights hidden, and one input epoch of a
/// committed single-sample input (0 when the input is not committed).
fn zk_budget_of(spec: &zkgrad_core::circuit::CircuitSpec) -> (usize, usize) {
    (
        zkgrad_core::zk::budget::weight_openings_budget(spec),
        zkgrad_core::zk::budget::input_openings_budget(spec, 1),
    )
}

#[pymethods]
impl NativeModel {
    /// Validates and lowers the IR, then commits to the weights under a fresh random seed
    /// (or `seed`, 32 bytes, for reproducible tests and fixtures).
    #[staticmethod]
    #[pyo3(signature = (ir_json, tensors, seed=None))]
    fn from_ir(
        py: Python<'_>,
        ir_json: &str,
        tensors: &Bound<'_, PyDict>,
        seed: Option<&[u8]>,
    ) -> PyResult<Self> {
        let seed: Option<[u8; 32]> = match seed {
            None => None,
            Some(bytes) => Some(bytes.try_into().map_err(|_| {
                PyValueError::new_err(format!("seed must be 32 bytes, got {}", bytes.len()))
            })?),
        };
        let graph = Graph::from_json(ir_json).map_err(model_err)?;
        let mut map = std::collections::BTreeMap::new();
        for (k, v) in tensors.iter() {
            let name: String = k
                .extract()
                .map_err(|_| PyTypeError::new_err("tensor names must be str"))?;
            let (shape, data) = int_array(py, &v, &format!("tensor '{name}'"))?;
            let t = Tensor::new(&name, shape, data).map_err(model_err)?;
            map.insert(name, t);
        }
        let inner = py.detach(|| {
            guarded(|| {
                match seed {
                    None => CompiledModel::compile(graph, map),
                    Some(s) => CompiledModel::compile_with_seed(graph, map, s),
                }
                .map_err(model_err)
            })
        })?;
        Ok(NativeModel { inner })
    }

    /// The integer forward pass: any shape with the right element count in, flat int64 out.
    fn run<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray1<i64>>> {
        let (_, input) = int_array(py, x, "input")?;
        let out = py.detach(|| guarded(|| self.inner.run(&input).map_err(model_err)))?;
        Ok(flat_array(py, out))
    }

    /// The forward pass returning every IR tensor by name (graph order, input first), flat int64.
    fn run_trace<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let (_, input) = int_array(py, x, "input")?;
        let trace = py.detach(|| guarded(|| self.inner.run_trace(&input).map_err(model_err)))?;
        let dict = PyDict::new(py);
        for (name, values) in trace {
            dict.set_item(name, flat_array(py, values))?;
        }
        Ok(dict)
    }

    /// Proves one inference (or, with `batch=N`, N inferences whose inputs are concatenated in
    /// `x`) with the GIL released; `threads` sets a local thread-pool size; `input_seed` (32
    /// bytes) fixes the input commitment of a model whose input is committed; `progress`, a
    /// callable, is called with (stage, stages done, stage count) as each stage starts (its
    /// exceptions are ignored: progress never stops a proof).
    /// `epoch`: open the leaf commitment of that epoch (`zkgrad_core::epoch`) instead of the
    /// published one; its certificate comes from `epoch_certificate`.
    /// A committed input also needs `input_number`, which proof over that input this is (it
    /// picks the input epoch), and takes `input_known`, an input epoch certificate made before
    /// (its nodes are reused). Returns the proof and, for a committed input, the certificate of
    /// its input epoch (None otherwise).
    #[pyo3(signature = (x, threads=None, batch=None, input_seed=None, progress=None, epoch=None, input_number=None, input_known=None))]
    #[allow(clippy::too_many_arguments)]
    fn prove<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        threads: Option<usize>,
        batch: Option<usize>,
        input_seed: Option<&[u8]>,
        progress: Option<Py<PyAny>>,
        epoch: Option<u64>,
        input_number: Option<u64>,
        input_known: Option<&[u8]>,
    ) -> PyResult<(Bound<'py, PyBytes>, Option<Bound<'py, PyBytes>>)> {
        let (_, input) = int_array(py, x, "input")?;
        let input_seed = input_seed.map(seed32).transpose()?;
        // A stored certificate that does not decode is not used: the nodes are made afresh.
        let known =
            input_known.and_then(|b| zkgrad_core::epoch::EpochCertificate::from_bytes(b).ok());
        let input_epoch = match (input_seed, input_number) {
            (Some(seed), Some(number)) => Some(zkgrad_core::prover::InputEpoch {
                seed,
                number,
                known: known.as_ref(),
            }),
            (Some(_), None) => {
                return Err(ModelError::new_err(
                    "a committed input's proof needs its number among the proofs over that input (input_number)",
                ));
            }
            (None, _) => None,
        };
        if threads == Some(0) {
            return Err(PyValueError::new_err("threads must be at least 1"));
        }
        let n = batch.unwrap_or(1);
        if n == 0 || input.is_empty() || input.len() % n != 0 {
            return Err(ModelError::new_err(format!(
                "input: {} values cannot be split into a batch of {n}",
                input.len()
            )));
        }
        let items: Vec<Vec<i64>> = input.chunks(input.len() / n).map(<[i64]>::to_vec).collect();
        let bytes = py.detach(|| {
            guarded(|| {
                let prove = || {
                    let run = || {
                        match epoch {
                            None => self.inner.prove_batch_with(&items, input_epoch),
                            Some(e) => self
                                .inner
                                .prove_in_epoch(&items, input_epoch, e)
                                .map(|(p, _, c)| (p, c)),
                        }
                        .map(|(p, c)| (p.to_bytes(), c.map(|c| c.to_bytes())))
                        .map_err(model_err)
                    };
                    match &progress {
                        None => run(),
                        Some(callback) => {
                            let callback = Python::attach(|py| callback.clone_ref(py));
                            let sink = move |stage: &str, done: usize, total: usize| {
                                Python::attach(|py| {
                                    let _ = callback.call1(py, (stage, done, total));
                                });
                            };
                            zkgrad_core::progress::with_sink(sink, run)
                        }
                    }
                };
                match threads {
                    None => prove(),
                    Some(n) => rayon::ThreadPoolBuilder::new()
                        .num_threads(n)
                        .build()
                        .map_err(|e| {
                            PyRuntimeError::new_err(format!("cannot start {n} threads: {e}"))
                        })?
                        .install(prove),
                }
            })
        })?;
        let (proof, cert) = bytes;
        Ok((PyBytes::new(py, &proof), cert.map(|c| PyBytes::new(py, &c))))
    }

    /// Verifies a proof against this model's circuit and commitment, with the certificate of
    /// the epoch it was made in (bytes) and, for a committed input, of its input epoch;
    /// returns the verified output.
    #[pyo3(signature = (proof, epoch=None, input_epoch=None))]
    fn verify<'py>(
        &self,
        py: Python<'py>,
        proof: &[u8],
        epoch: Option<&[u8]>,
        input_epoch: Option<&[u8]>,
    ) -> PyResult<Bound<'py, PyArray1<i64>>> {
        verify_bytes(py, proof, self.inner.spec(), |p| {
            let cert = certificate_if_needed(p, self.inner.commitment(), epoch)?;
            let input_cert = input_certificate(input_epoch)?;
            self.inner
                .verify_with_input(p, cert.as_ref(), input_cert.as_ref())
        })
    }

    /// The certificate of epoch `epoch` as bytes (its nodes made if missing; `ModelError` past
    /// the tree's last epoch).
    fn epoch_certificate<'py>(&self, py: Python<'py>, epoch: u64) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = py.detach(|| {
            guarded(|| {
                self.inner
                    .epoch_certificate(epoch)
                    .map(|c| c.to_bytes())
                    .map_err(model_err)
            })
        })?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// Takes the nodes of an epoch certificate this model made earlier (its stored copy), once
    /// it checks against the published commitment; `ModelError` if it does not.
    fn adopt_epoch_certificate(&self, py: Python<'_>, certificate: &[u8]) -> PyResult<()> {
        py.detach(|| {
            guarded(|| {
                self.inner
                    .adopt_epoch_certificate(certificate)
                    .map_err(model_err)
            })
        })
    }

    /// Epoch-tree nodes held (made or adopted) by this model object.
    fn epoch_nodes(&self) -> usize {
        self.inner.epoch_nodes()
    }

    /// The most bytes an honest proof for this circuit can take (a file over it is refused
    /// unread).
    fn max_proof_bytes(&self) -> usize {
        zkgrad_core::bounds::max_proof_bytes(self.inner.spec())
    }

    /// The 32-byte digest of the input commitment that proofs of `x` (a batch of `batch` items)
    /// with `input_seed` carry.
    #[pyo3(signature = (x, input_seed, batch=None))]
    fn commit_input<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        input_seed: &[u8],
        batch: Option<usize>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let (_, input) = int_array(py, x, "input")?;
        let seed = seed32(input_seed)?;
        let n = batch.unwrap_or(1);
        if n == 0 || input.is_empty() || input.len() % n != 0 {
            return Err(ModelError::new_err(format!(
                "input: {} values cannot be split into a batch of {n}",
                input.len()
            )));
        }
        let items: Vec<Vec<i64>> = input.chunks(input.len() / n).map(<[i64]>::to_vec).collect();
        let digest =
            py.detach(|| guarded(|| self.inner.commit_input(&items, seed).map_err(model_err)))?;
        Ok(PyBytes::new(py, &digest))
    }

    /// The compiled model as versioned bytes (contains the weights and the secret seed).
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = guarded(|| Ok(self.inner.to_bytes()))?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// Reads bytes written by `to_bytes`; `ModelError` on anything else.
    #[staticmethod]
    fn from_bytes(py: Python<'_>, data: &[u8]) -> PyResult<Self> {
        let inner = py.detach(|| guarded(|| CompiledModel::from_bytes(data).map_err(model_err)))?;
        Ok(NativeModel { inner })
    }

    /// The IR as JSON, including `meta`.
    fn ir_json(&self) -> String {
        self.inner.graph().to_json()
    }

    /// Hex of the 32-byte weight-commitment digest: the model's public identity.
    fn digest(&self) -> PyResult<String> {
        let d = guarded(|| Ok(self.inner.commitment().digest()))?;
        Ok(hex(&d))
    }

    /// Hex of the circuit digest (architecture, shapes, requantisation, table size).
    fn circuit_digest(&self) -> PyResult<String> {
        Ok(hex(&guarded(|| Ok(self.inner.spec().digest()))?))
    }

    /// The public verifying key as versioned bytes (`ZKGV`): no weights, no seed. `meta_json`
    /// replaces the IR's `meta` in the key (default: kept as is).
    #[pyo3(signature = (meta_json=None))]
    fn verifying_key<'py>(
        &self,
        py: Python<'py>,
        meta_json: Option<&str>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = guarded(|| {
            let vk = self.inner.verifying_key();
            let vk = match meta_json {
                Some(text) => vk.with_meta_json(text).map_err(model_err)?,
                None => vk,
            };
            Ok(vk.to_bytes())
        })?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// Soundness of a proof of `batch` inputs for this model, in bits (provable: Johnson bound).
    #[pyo3(signature = (batch=1))]
    fn soundness_bits(&self, batch: usize) -> PyResult<f64> {
        guarded(|| {
            Ok(
                zkgrad_core::verifier::soundness_report(self.inner.spec(), batch.max(1))
                    .map_err(|e| ModelError::new_err(e.to_string()))?
                    .bits()
                    .floor(),
            )
        })
    }

    /// `soundness: N bits, provable (Johnson bound); weakest: <component>` for `batch` inputs.
    #[pyo3(signature = (batch=1))]
    fn soundness_line(&self, batch: usize) -> PyResult<String> {
        guarded(|| {
            Ok(
                zkgrad_core::verifier::soundness_report(self.inner.spec(), batch.max(1))
                    .map_err(|e| ModelError::new_err(e.to_string()))?
                    .line(),
            )
        })
    }

    /// Number of weight and bias values in the IR.
    fn num_params(&self) -> usize {
        self.inner.num_params()
    }

    /// Proofs one weight commitment may serve with the weights hidden, and one committed input
    /// of a single sample (0 when the input is not committed): `zk/budget.rs`.
    fn zk_budget(&self) -> PyResult<(usize, usize)> {
        guarded(|| Ok(zk_budget_of(self.inner.spec())))
    }

    /// The circuit's blocks: (name, in_dim, out_dim, relu, kind) each, in execution order.
    fn layers(&self) -> Vec<LayerRow> {
        layer_dims(self.inner.spec())
    }

    /// The circuit's size for one proof: `params`, `multiply_adds`, `witness_elements`,
    /// `weight_elements`, `lookups` and `table_bits` (see `circuit_cost`).
    fn cost<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        circuit_cost(py, self.inner.spec(), self.inner.graph())
    }

    fn __repr__(&self) -> String {
        let g = self.inner.graph();
        format!(
            "NativeModel(input={:?}, output={:?}, layers={}, params={})",
            g.input.shape,
            g.output.shape,
            self.inner.spec().layers.len(),
            self.inner.num_params()
        )
    }
}

/// The public part of a compiled model: circuit, IR without weights, weight commitment.
#[pyclass(module = "zkgrad._native", frozen)]
struct NativeVerifyingKey {
    inner: VerifyingKey,
}

#[pymethods]
impl NativeVerifyingKey {
    /// Reads bytes written by `NativeModel.verifying_key`; `ModelError` on anything else.
    #[staticmethod]
    fn from_bytes(py: Python<'_>, data: &[u8]) -> PyResult<Self> {
        let inner = py.detach(|| guarded(|| VerifyingKey::from_bytes(data).map_err(model_err)))?;
        Ok(NativeVerifyingKey { inner })
    }

    /// The key as versioned bytes.
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = guarded(|| Ok(self.inner.to_bytes()))?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// Verifies a proof against the key's circuit and weight commitment, with the certificate
    /// of the epoch it was made in (bytes; each link checked once per key) and, for a committed
    /// input, of its input epoch; returns the output.
    #[pyo3(signature = (proof, epoch=None, input_epoch=None))]
    fn verify<'py>(
        &self,
        py: Python<'py>,
        proof: &[u8],
        epoch: Option<&[u8]>,
        input_epoch: Option<&[u8]>,
    ) -> PyResult<Bound<'py, PyArray1<i64>>> {
        verify_bytes(py, proof, self.inner.spec(), |p| {
            let cert = certificate_if_needed(p, self.inner.commitment(), epoch)?;
            let input_cert = input_certificate(input_epoch)?;
            self.inner
                .verify_with_input(p, cert.as_ref(), input_cert.as_ref())
        })
    }

    /// The most bytes an honest proof for this circuit can take (a file over it is refused
    /// unread).
    fn max_proof_bytes(&self) -> usize {
        zkgrad_core::bounds::max_proof_bytes(self.inner.spec())
    }

    /// Hex of the 32-byte weight-commitment digest: the model's public identity.
    fn digest(&self) -> PyResult<String> {
        Ok(hex(&guarded(|| Ok(self.inner.commitment().digest()))?))
    }

    /// Hex of the circuit digest (architecture, shapes, requantisation, table size).
    fn circuit_digest(&self) -> PyResult<String> {
        Ok(hex(&guarded(|| Ok(self.inner.spec().digest()))?))
    }

    /// The IR as JSON (tensor names, no values), including `meta`.
    fn ir_json(&self) -> String {
        self.inner.graph().to_json()
    }

    /// Soundness of a proof of `batch` inputs for this circuit, in bits (provable: Johnson bound).
    #[pyo3(signature = (batch=1))]
    fn soundness_bits(&self, batch: usize) -> PyResult<f64> {
        guarded(|| {
            Ok(
                zkgrad_core::verifier::soundness_report(self.inner.spec(), batch.max(1))
                    .map_err(|e| ModelError::new_err(e.to_string()))?
                    .bits()
                    .floor(),
            )
        })
    }

    /// `soundness: N bits, provable (Johnson bound); weakest: <component>` for `batch` inputs.
    #[pyo3(signature = (batch=1))]
    fn soundness_line(&self, batch: usize) -> PyResult<String> {
        guarded(|| {
            Ok(
                zkgrad_core::verifier::soundness_report(self.inner.spec(), batch.max(1))
                    .map_err(|e| ModelError::new_err(e.to_string()))?
                    .line(),
            )
        })
    }

    /// Proofs one weight commitment may serve with the weights hidden, and one committed
    /// single-sample input (0 when the input is not committed): `zk/budget.rs`.
    fn zk_budget(&self) -> PyResult<(usize, usize)> {
        guarded(|| Ok(zk_budget_of(self.inner.spec())))
    }

    /// The circuit's blocks: (name, in_dim, out_dim, relu, kind) each, in execution order.
    fn layers(&self) -> Vec<LayerRow> {
        layer_dims(self.inner.spec())
    }

    /// The circuit's size for one proof: `params`, `multiply_adds`, `witness_elements`,
    /// `weight_elements`, `lookups` and `table_bits` (see `circuit_cost`).
    fn cost<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        circuit_cost(py, self.inner.spec(), self.inner.graph())
    }

    fn __repr__(&self) -> String {
        let g = self.inner.graph();
        format!(
            "NativeVerifyingKey(input={:?}, output={:?}, layers={})",
            g.input.shape,
            g.output.shape,
            self.inner.spec().layers.len()
        )
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One block as Python sees it: (name, in_dim, out_dim, relu, kind).
type LayerRow = (String, usize, usize, bool, &'static str);

fn layer_dims(spec: &zkgrad_core::circuit::CircuitSpec) -> Vec<LayerRow> {
    use zkgrad_core::circuit::LayerKind;
    spec.layers
        .iter()
        .map(|l| {
            let kind = match l.kind {
                LayerKind::Dense => "dense",
                LayerKind::Conv(_) => "conv",
                LayerKind::MaxPool(_) => "maxpool",
                LayerKind::Elementwise(_) => "add",
                LayerKind::Unary(_) => "unary",
                LayerKind::MatMul(_) => "matmul",
            };
            (l.name.clone(), l.in_dim, l.out_dim, l.relu, kind)
        })
        .collect()
}

/// The exact size of the circuit for a single proof, as a dict:
/// `params` (Σ rows·cols over the blocks' weight matrices, plus rows for each block whose IR
/// node has a bias: a block without one commits zeros, which are not parameters),
/// `multiply_adds` (dense rows·cols, conv C_out·patch_len·positions, max-pool 0, an elementwise
/// sum c0·a + c1·o 2 per value, a product of two activations rows·inner·cols),
/// `witness_elements` (entries of the packed per-proof witness polynomial),
/// `weight_elements` (entries of the packed weight polynomial committed at compile time),
/// `lookups` (Σ 2^log_len over the lookups) and `table_bits`.
fn circuit_cost<'py>(
    py: Python<'py>,
    spec: &zkgrad_core::circuit::CircuitSpec,
    graph: &Graph,
) -> PyResult<Bound<'py, PyDict>> {
    use zkgrad_core::circuit::LayerKind;
    use zkgrad_model::Op;
    // Blocks are named after their IR node; one the IR does not name counts its bias.
    let has_bias = |name: &str| {
        graph
            .nodes
            .iter()
            .find(|n| n.name == name)
            .is_none_or(|n| match &n.op {
                Op::Dense { bias, .. } | Op::Conv { bias, .. } => bias.is_some(),
                _ => true,
            })
    };
    let (params, multiply_adds, witness, weights, lookups) = guarded(|| {
        let mut params = 0usize;
        let mut multiply_adds = 0usize;
        for l in &spec.layers {
            let (rows, cols) = l.weight_dims();
            params += rows * cols + if has_bias(&l.name) { rows } else { 0 };
            multiply_adds += match &l.kind {
                LayerKind::Dense => rows * cols,
                LayerKind::Conv(g) => {
                    let [oh, ow] = g.out_hw();
                    g.out_channels * g.patch_len() * oh * ow
                }
                LayerKind::MaxPool(_) => 0,
                LayerKind::Elementwise(_) => 2 * l.out_dim,
                LayerKind::Unary(_) => 0,
                LayerKind::MatMul(g) => g.rows * g.inner * g.cols,
            };
        }
        let plan = zkgrad_core::witness::WitnessPlan::new(spec, 1);
        let lookups: usize = plan.lookups.iter().map(|lk| 1usize << lk.log_len).sum();
        let weights = zkgrad_core::commit::weight_layout(spec).len();
        Ok((params, multiply_adds, plan.layout.len(), weights, lookups))
    })?;
    let dict = PyDict::new(py);
    dict.set_item("params", params)?;
    dict.set_item("multiply_adds", multiply_adds)?;
    dict.set_item("witness_elements", witness)?;
    dict.set_item("weight_elements", weights)?;
    dict.set_item("lookups", lookups)?;
    dict.set_item("table_bits", spec.table_bits)?;
    Ok(dict)
}

/// Decodes a proof and returns its claimed (unverified) output.
#[pyfunction]
fn proof_output<'py>(py: Python<'py>, proof: &[u8]) -> PyResult<Bound<'py, PyArray1<i64>>> {
    let p = guarded(|| Proof::from_bytes(proof).map_err(invalid_proof))?;
    Ok(flat_array(py, p.output))
}

/// The input a proof states (None when the circuit keeps its input private).
#[pyfunction]
fn proof_input<'py>(py: Python<'py>, proof: &[u8]) -> PyResult<Option<Bound<'py, PyArray1<i64>>>> {
    let p = guarded(|| Proof::from_bytes(proof).map_err(invalid_proof))?;
    Ok(p.input.map(|x| flat_array(py, x)))
}

/// A 32-byte seed from Python bytes.
fn seed32(b: &[u8]) -> PyResult<[u8; 32]> {
    b.try_into().map_err(|_| {
        PyValueError::new_err(format!("input_seed: expected 32 bytes, got {}", b.len()))
    })
}

/// The digest of the input commitment a proof carries (None unless the input is committed).
#[pyfunction]
fn proof_input_commitment<'py>(
    py: Python<'py>,
    proof: &[u8],
) -> PyResult<Option<Bound<'py, PyBytes>>> {
    let p = guarded(|| Proof::from_bytes(proof).map_err(invalid_proof))?;
    Ok(p.body
        .input_commitment
        .as_ref()
        .map(|c| PyBytes::new(py, &c.digest())))
}

/// The epoch certificate `proof` needs, decoded from `bytes` — None when the proof opens the
/// published commitment or its leaf was checked before (decoding a certificate of a few MiB
/// per proof would cost more than the proof's own check).
fn certificate_if_needed(
    proof: &Proof,
    mc: &zkgrad_core::commit::ModelCommitment,
    bytes: Option<&[u8]>,
) -> zkgrad_core::Result<Option<zkgrad_core::epoch::EpochCertificate>> {
    match (&proof.body.epoch, bytes) {
        (Some(leaf), Some(b)) if !mc.leaf_checked(leaf) => {
            zkgrad_core::epoch::EpochCertificate::from_bytes(b).map(Some)
        }
        _ => Ok(None),
    }
}

/// The epoch a proof was made in: (leaf path, hex digest of the leaf commitment), or None for
/// a proof that opens the published commitment.
#[pyfunction]
fn proof_epoch(proof: &[u8]) -> PyResult<Option<(Vec<u8>, String)>> {
    let p = guarded(|| Proof::from_bytes(proof).map_err(invalid_proof))?;
    Ok(p.body.epoch.map(|e| (e.path, hex(&e.commitment.digest()))))
}

/// The input epoch certificate given to a verifier, decoded (a malformed one is a typed error).
fn input_certificate(
    bytes: Option<&[u8]>,
) -> zkgrad_core::Result<Option<zkgrad_core::epoch::EpochCertificate>> {
    bytes
        .map(zkgrad_core::epoch::EpochCertificate::from_bytes)
        .transpose()
}

/// The input epoch a proof over a committed input opens: (leaf path, hex digest of the leaf
/// commitment), or None when the input is not committed.
#[pyfunction]
fn proof_input_epoch(proof: &[u8]) -> PyResult<Option<(Vec<u8>, String)>> {
    let p = guarded(|| Proof::from_bytes(proof).map_err(invalid_proof))?;
    Ok(p.body
        .input_epoch
        .map(|e| (e.path, hex(&e.commitment.digest()))))
}

/// The leaf path of a certificate's epoch and the hex digest of its leaf commitment.
#[pyfunction]
fn certificate_epoch(certificate: &[u8]) -> PyResult<(Vec<u8>, String)> {
    let c = guarded(|| {
        zkgrad_core::epoch::EpochCertificate::from_bytes(certificate).map_err(invalid_proof)
    })?;
    let leaf = c
        .leaf()
        .ok_or_else(|| InvalidProof::new_err("the epoch certificate has no nodes"))?;
    Ok((leaf.path.clone(), hex(&leaf.commitment.digest())))
}

/// Checks that the bytes decode as a proof and returns their length.
#[pyfunction]
fn proof_size(proof: &[u8]) -> PyResult<usize> {
    guarded(|| Proof::from_bytes(proof).map_err(invalid_proof))?;
    Ok(proof.len())
}

/// Offsets of every length field in a proof's bytes (robustness tests set them to their maximum).
#[pyfunction]
fn proof_length_fields(proof: &[u8]) -> PyResult<Vec<usize>> {
    guarded(|| zkgrad_core::bounds::length_fields(proof).map_err(invalid_proof))
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("InvalidProof", py.get_type::<InvalidProof>())?;
    m.add("ModelError", py.get_type::<ModelError>())?;
    m.add_class::<NativeModel>()?;
    m.add_class::<NativeVerifyingKey>()?;
    m.add_function(wrap_pyfunction!(proof_output, m)?)?;
    m.add_function(wrap_pyfunction!(proof_input, m)?)?;
    m.add_function(wrap_pyfunction!(proof_input_commitment, m)?)?;
    m.add_function(wrap_pyfunction!(proof_size, m)?)?;
    m.add_function(wrap_pyfunction!(proof_epoch, m)?)?;
    m.add_function(wrap_pyfunction!(proof_input_epoch, m)?)?;
    m.add_function(wrap_pyfunction!(certificate_epoch, m)?)?;
    m.add_function(wrap_pyfunction!(proof_length_fields, m)?)?;
    for f in [
        wrap_pyfunction!(data::dataset_commit, m)?,
        wrap_pyfunction!(data::dataset_info, m)?,
        wrap_pyfunction!(data::dataset_prove, m)?,
        wrap_pyfunction!(data::dataset_verify, m)?,
        wrap_pyfunction!(data::dataset_epochs, m)?,
        wrap_pyfunction!(data::property_proof_epoch, m)?,
        wrap_pyfunction!(data::property_proof_dataset, m)?,
        wrap_pyfunction!(attest::attest_prove, m)?,
        wrap_pyfunction!(attest::attest_verify, m)?,
        wrap_pyfunction!(attest::attest_claimed, m)?,
    ] {
        m.add_function(f)?;
    }
    Ok(())
}
