//! A compiled model (what `zkgrad compile` writes) and its public verifying key.
//!
//! [`CompiledModel`] bundles the IR graph, its constant tensors, the lowered circuit, the secret
//! 32-byte commitment seed and the weight commitment computed once at compile time. It is the
//! prover's file: it holds the weights and the seed. [`VerifyingKey`] is the public part (graph
//! without weights, circuit spec, commitment): all a verifier needs.
//!
//! Both encode as versioned bytes: 4 magic bytes (`ZKGM` / `ZKGV`), a little-endian u16 format
//! version, then a bincode (serde, standard config) body in which the IR is stored as its JSON
//! text. Decoding never panics: garbage is a typed [`ModelError`].

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};
use zkgrad_core::circuit::CircuitSpec;
use zkgrad_core::commit::{CommittedWeights, ModelCommitment};
use zkgrad_core::epoch::EpochCertificate;
use zkgrad_core::proof::Proof;
use zkgrad_core::prover::InputEpoch;

use crate::error::{ModelError, Result};
use crate::exec;
use crate::ir::{Graph, Op, Tensor, TensorInfo};
use crate::lower::{Lowered, lower};

/// Magic bytes of a compiled-model file.
pub const MODEL_MAGIC: [u8; 4] = *b"ZKGM";
/// Magic bytes of a verifying-key file.
pub const KEY_MAGIC: [u8; 4] = *b"ZKGV";
/// Format version of both files; raised whenever the weight commitment scheme or the circuit's
/// encoding changes (version 2: the zero-knowledge masks moved into the committed table; version
/// 3: the circuit lost its `zk` flag, so its digest, which the commitment names, changed, and the
/// commitment carries the weight range bits and certificate; version 4: the weight table holds
/// the epoch link masks, `zkgrad_core::epoch`; version 5: the circuit records where each block
/// reads its input, `CircuitSpec::sources`, so a graph may branch; version 6: the circuit lists
/// its extra outputs, `CircuitSpec::extra_outputs`), since a model's stored commitment and a
/// key's are only valid for the scheme that made them.
pub const FORMAT_VERSION: u16 = 6;

const MODEL_WHAT: &str = "compiled model";
const KEY_WHAT: &str = "verifying key";

/// A validated, lowered and committed model: everything the prover needs.
#[derive(Clone, Debug)]
pub struct CompiledModel {
    graph: Graph,
    tensors: BTreeMap<String, Tensor>,
    lowered: Lowered,
    seed: [u8; 32],
    commitment: ModelCommitment,
    weight_data: WeightCache,
    /// The epoch tree's nodes made so far (`zkgrad_core::epoch`; remade from the seed after a
    /// load, deterministically).
    epochs: Arc<zkgrad_core::epoch::Epochs>,
}

/// The weight commitment's prover data: made at compile time (or by the first proof after
/// loading) and shared by every proof, so proving never re-encodes the weights.
#[derive(Clone, Default)]
struct WeightCache(Arc<OnceLock<CommittedWeights>>);

impl std::fmt::Debug for WeightCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.get().is_some() {
            "WeightCache(ready)"
        } else {
            "WeightCache(empty)"
        })
    }
}

#[derive(Serialize)]
struct ModelBodyRef<'a> {
    ir_json: String,
    tensors: &'a BTreeMap<String, Tensor>,
    seed: [u8; 32],
    commitment: &'a ModelCommitment,
}

#[derive(Deserialize)]
struct ModelBody {
    ir_json: String,
    tensors: BTreeMap<String, Tensor>,
    seed: [u8; 32],
    commitment: ModelCommitment,
}

impl CompiledModel {
    /// Validates and lowers the graph, then commits to its weights under a fresh random seed.
    pub fn compile(graph: Graph, tensors: BTreeMap<String, Tensor>) -> Result<Self> {
        Self::compile_with_seed(graph, tensors, rand::random())
    }

    /// As [`CompiledModel::compile`] with a given seed (deterministic; for tests and fixtures).
    pub fn compile_with_seed(
        graph: Graph,
        tensors: BTreeMap<String, Tensor>,
        seed: [u8; 32],
    ) -> Result<Self> {
        let lowered = lower(&graph, &tensors)?;
        let committed = CommittedWeights::new(&lowered.spec, &lowered.weights, seed)
            .map_err(ModelError::Core)?;
        let commitment = committed.commitment.clone();
        let weight_data = WeightCache::default();
        let _ = weight_data.0.set(committed);
        Ok(CompiledModel {
            graph,
            tensors,
            lowered,
            seed,
            commitment,
            weight_data,
            epochs: Arc::default(),
        })
    }

    /// The IR graph, including its `meta`.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// The constant tensors by name.
    pub fn tensors(&self) -> &BTreeMap<String, Tensor> {
        &self.tensors
    }

    /// The lowered circuit and weights.
    pub fn lowered(&self) -> &Lowered {
        &self.lowered
    }

    /// The public circuit description.
    pub fn spec(&self) -> &CircuitSpec {
        &self.lowered.spec
    }

    /// The weight commitment: the model's public identity.
    pub fn commitment(&self) -> &ModelCommitment {
        &self.commitment
    }

    /// Number of weight and bias values the IR supplies (an absent bias counts nothing).
    pub fn num_params(&self) -> usize {
        let len = |name: &str| self.tensors.get(name).map_or(0, |t| t.data().len());
        self.graph
            .nodes
            .iter()
            .map(|n| match &n.op {
                Op::Dense { weight, bias } | Op::Conv { weight, bias, .. } => {
                    len(weight) + bias.as_deref().map_or(0, len)
                }
                _ => 0,
            })
            .sum()
    }

    /// The integer forward pass on a flattened input.
    pub fn run(&self, input: &[i64]) -> Result<Vec<i64>> {
        exec::run(&self.lowered, input)
    }

    /// The forward pass, returning every IR tensor by name (input first).
    pub fn run_trace(&self, input: &[i64]) -> Result<Vec<(String, Vec<i64>)>> {
        exec::run_trace(&self.lowered, input)
    }

    /// Proves one inference. The input is checked by the forward pass first, so a bad input is an
    /// error naming the IR node and tensor rather than a prover failure.
    pub fn prove(&self, input: &[i64]) -> Result<Proof> {
        self.prove_batch(&[input.to_vec()])
    }

    /// Proves a batch of inferences in one proof; the proof's output is the items' outputs, in
    /// order, concatenated.
    pub fn prove_batch(&self, inputs: &[Vec<i64>]) -> Result<Proof> {
        self.prove_batch_with(inputs, None).map(|(p, _)| p)
    }

    /// Like [`CompiledModel::prove_batch`]; `input` (required for a model whose input is
    /// committed, refused otherwise) fixes the input commitment and which proof over that input
    /// this is; returns the proof and, for a committed input, its input epoch's certificate.
    pub fn prove_batch_with(
        &self,
        inputs: &[Vec<i64>],
        input: Option<InputEpoch<'_>>,
    ) -> Result<(Proof, Option<EpochCertificate>)> {
        for input in inputs {
            exec::run_blocks(&self.lowered, input)?;
        }
        let (spec, weights) = (&self.lowered.spec, &self.lowered.weights);
        let committed = self.committed()?;
        let proof = match input {
            Some(i) => zkgrad_core::prover::prove_with_committed_input(
                spec,
                weights,
                self.seed,
                Some(committed),
                inputs,
                i,
            )
            .map(|(p, c)| (p, Some(c))),
            None => {
                zkgrad_core::prover::prove_committed(spec, weights, self.seed, committed, inputs)
                    .map(|p| (p, None))
            }
        };
        proof.map_err(|e| exec::name_error(&self.lowered, e))
    }

    /// The published weight commitment with the data that opens it (made once).
    fn committed(&self) -> Result<&CommittedWeights> {
        let (spec, weights) = (&self.lowered.spec, &self.lowered.weights);
        Ok(match self.weight_data.0.get() {
            Some(c) => c,
            None => {
                // The stored commitment's certificate is kept: only the table is committed again.
                let c = CommittedWeights::reopen(spec, weights, self.seed, &self.commitment)
                    .map_err(ModelError::Core)?
                    .ok_or(ModelError::StaleCommitment)?;
                self.weight_data.0.get_or_init(|| c)
            }
        })
    }

    /// Like [`CompiledModel::prove_batch_with`], opening the leaf commitment of epoch `epoch`
    /// (`zkgrad_core::epoch`) instead of the published one; returns the proof and the epoch's
    /// certificate, which its verifier needs, and the input epoch's certificate when the input
    /// is committed (`input` as in [`Self::prove_batch_with`]).
    pub fn prove_in_epoch(
        &self,
        inputs: &[Vec<i64>],
        input: Option<InputEpoch<'_>>,
        epoch: u64,
    ) -> Result<(Proof, EpochCertificate, Option<EpochCertificate>)> {
        for input in inputs {
            exec::run_blocks(&self.lowered, input)?;
        }
        let (spec, weights) = (&self.lowered.spec, &self.lowered.weights);
        zkgrad_core::prover::prove_in_epochs(
            spec,
            weights,
            self.seed,
            &self.commitment, // the published commitment is not opened: no codeword kept for it
            &self.epochs,
            epoch,
            inputs,
            input,
        )
        .map_err(|e| exec::name_error(&self.lowered, e))
    }

    /// An accuracy attestation on the committed dataset `ds`, opening epoch `epoch`'s leaf as
    /// [`Self::prove_in_epoch`] does (`zkgrad_core::data::attest`); with `threshold`, only
    /// "at least that many rows correct" is stated, the count hidden.
    pub fn attest_in_epoch(
        &self,
        ds: &zkgrad_core::data::DatasetLeaf<'_>,
        epoch: u64,
        threshold: Option<u64>,
        confusion: bool,
    ) -> Result<(
        zkgrad_core::data::Attestation,
        Option<zkgrad_core::epoch::EpochCertificate>,
    )> {
        let (spec, weights) = (&self.lowered.spec, &self.lowered.weights);
        let source = zkgrad_core::data::AttestWeights::Epoch {
            identity: &self.commitment,
            epochs: &self.epochs,
            epoch,
        };
        match (threshold, confusion) {
            (None, false) => zkgrad_core::data::attest(spec, weights, self.seed, source, ds),
            (None, true) => {
                zkgrad_core::data::attest_confusion(spec, weights, self.seed, source, ds)
            }
            (Some(_), true) => Err(zkgrad_core::ProofError::Circuit(
                "a threshold attestation hides the count; it cannot state the confusion matrix"
                    .into(),
            )),
            (Some(t), false) => {
                zkgrad_core::data::attest_at_least(spec, weights, self.seed, source, ds, t)
            }
        }
        .map_err(|e| exec::name_error(&self.lowered, e))
    }

    /// The certificate of epoch `epoch` (its nodes made if missing).
    pub fn epoch_certificate(&self, epoch: u64) -> Result<zkgrad_core::epoch::EpochCertificate> {
        let spec = &self.lowered.spec;
        let path = zkgrad_core::epoch::leaf_path(zkgrad_core::epoch::fanout(spec), epoch)
            .map_err(ModelError::Core)?;
        self.epochs
            .certificate(
                spec,
                &self.lowered.weights,
                self.seed,
                &self.commitment,
                &path,
            )
            .map_err(ModelError::Core)
    }

    /// Takes the nodes of an epoch certificate this model made before (stored by its owner),
    /// once it checks against the published commitment; `ModelError` if it does not.
    pub fn adopt_epoch_certificate(&self, bytes: &[u8]) -> Result<()> {
        let cert =
            zkgrad_core::epoch::EpochCertificate::from_bytes(bytes).map_err(ModelError::Core)?;
        self.epochs
            .adopt(&self.lowered.spec, &self.commitment, &cert)
            .map_err(ModelError::Core)
    }

    /// Epoch-tree nodes this model holds (made or adopted), for tests and diagnostics.
    pub fn epoch_nodes(&self) -> usize {
        self.epochs.len()
    }

    /// Verifies a proof made in an epoch with that epoch's certificate (or one that opens the
    /// published commitment, without); returns the verified output.
    pub fn verify_in_epoch(
        &self,
        proof: &Proof,
        epoch: Option<&zkgrad_core::epoch::EpochCertificate>,
    ) -> zkgrad_core::Result<Vec<i64>> {
        zkgrad_core::verifier::verify_in_epoch(&self.lowered.spec, &self.commitment, proof, epoch)
    }

    /// [`Self::verify_in_epoch`], with the certificate of the input epoch a proof over a
    /// committed input opens.
    pub fn verify_with_input(
        &self,
        proof: &Proof,
        epoch: Option<&EpochCertificate>,
        input_epoch: Option<&EpochCertificate>,
    ) -> zkgrad_core::Result<Vec<i64>> {
        zkgrad_core::verifier::verify_with_input(
            &self.lowered.spec,
            &self.commitment,
            proof,
            epoch,
            input_epoch,
        )
    }

    /// The digest of the input commitment a proof of `inputs` with `input_seed` carries.
    pub fn commit_input(&self, inputs: &[Vec<i64>], input_seed: [u8; 32]) -> Result<[u8; 32]> {
        zkgrad_core::zk::input::commit_input(&self.lowered.spec, inputs, input_seed)
            .map(|c| c.digest())
            .map_err(ModelError::Core)
    }

    /// Verifies a proof for this model; returns the verified output.
    pub fn verify(&self, proof: &Proof) -> zkgrad_core::Result<Vec<i64>> {
        zkgrad_core::verifier::verify(&self.lowered.spec, &self.commitment, proof)
    }

    /// The public part of the model.
    pub fn verifying_key(&self) -> VerifyingKey {
        VerifyingKey {
            graph: self.graph.clone(),
            spec: self.lowered.spec.clone(),
            commitment: self.commitment.clone(),
        }
    }

    /// Encodes the model (weights and secret seed included) as versioned bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let body = ModelBodyRef {
            ir_json: self.graph.to_json(),
            tensors: &self.tensors,
            seed: self.seed,
            commitment: &self.commitment,
        };
        encode(MODEL_MAGIC, &body)
    }

    /// Decodes bytes written by [`CompiledModel::to_bytes`]; validates and lowers the IR again.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let body: ModelBody = decode(MODEL_MAGIC, MODEL_WHAT, bytes)?;
        let graph = Graph::from_json(&body.ir_json)?;
        let lowered = lower(&graph, &body.tensors)?;
        Ok(CompiledModel {
            graph,
            tensors: body.tensors,
            lowered,
            seed: body.seed,
            commitment: body.commitment,
            weight_data: WeightCache::default(),
            epochs: Arc::default(),
        })
    }
}

/// The public part of a compiled model: graph (no weights), circuit spec and weight commitment.
#[derive(Clone, Debug, PartialEq)]
pub struct VerifyingKey {
    graph: Graph,
    spec: CircuitSpec,
    commitment: ModelCommitment,
}

#[derive(Serialize)]
struct KeyBodyRef<'a> {
    ir_json: String,
    spec: &'a CircuitSpec,
    commitment: &'a ModelCommitment,
}

#[derive(Deserialize)]
struct KeyBody {
    ir_json: String,
    spec: CircuitSpec,
    commitment: ModelCommitment,
}

impl VerifyingKey {
    /// The IR graph (tensor names only, no values), including `meta`.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// The public circuit description.
    pub fn spec(&self) -> &CircuitSpec {
        &self.spec
    }

    /// The weight commitment.
    pub fn commitment(&self) -> &ModelCommitment {
        &self.commitment
    }

    /// Verifies a proof; returns the verified output.
    pub fn verify(&self, proof: &Proof) -> zkgrad_core::Result<Vec<i64>> {
        zkgrad_core::verifier::verify(&self.spec, &self.commitment, proof)
    }

    /// Verifies a proof made in an epoch with that epoch's certificate (each link checked once
    /// per key); returns the verified output.
    pub fn verify_in_epoch(
        &self,
        proof: &Proof,
        epoch: Option<&zkgrad_core::epoch::EpochCertificate>,
    ) -> zkgrad_core::Result<Vec<i64>> {
        zkgrad_core::verifier::verify_in_epoch(&self.spec, &self.commitment, proof, epoch)
    }

    /// [`Self::verify_in_epoch`], with the certificate of the input epoch a proof over a
    /// committed input opens.
    pub fn verify_with_input(
        &self,
        proof: &Proof,
        epoch: Option<&EpochCertificate>,
        input_epoch: Option<&EpochCertificate>,
    ) -> zkgrad_core::Result<Vec<i64>> {
        zkgrad_core::verifier::verify_with_input(
            &self.spec,
            &self.commitment,
            proof,
            epoch,
            input_epoch,
        )
    }

    /// The same key with the graph's opaque `meta` replaced by the JSON `meta_json` (so that a
    /// published key carries only the metadata its owner chooses). The circuit and the
    /// commitment, hence what the key accepts, are unchanged.
    pub fn with_meta_json(mut self, meta_json: &str) -> Result<Self> {
        self.graph.meta = serde_json::from_str(meta_json).map_err(|e| ModelError::Json {
            detail: format!("meta: {e}"),
        })?;
        Ok(self)
    }

    /// Encodes the key as versioned bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let body = KeyBodyRef {
            ir_json: self.graph.to_json(),
            spec: &self.spec,
            commitment: &self.commitment,
        };
        encode(KEY_MAGIC, &body)
    }

    /// Decodes bytes written by [`VerifyingKey::to_bytes`], checking that graph and spec agree.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let body: KeyBody = decode(KEY_MAGIC, KEY_WHAT, bytes)?;
        let graph = Graph::from_json(&body.ir_json)?;
        body.spec.validate().map_err(ModelError::Core)?;
        let outputs = graph.outputs().map(TensorInfo::numel).sum::<usize>();
        for (which, info, declared, len) in [
            (
                "input",
                &graph.input,
                graph.input.numel(),
                body.spec.input_len,
            ),
            ("output", &graph.output, outputs, body.spec.output_len()),
        ] {
            if declared != len {
                return Err(ModelError::DeclaredShape {
                    which,
                    tensor: info.name.clone(),
                    declared,
                    actual: len,
                });
            }
        }
        Ok(VerifyingKey {
            graph,
            spec: body.spec,
            commitment: body.commitment,
        })
    }
}

fn encode<T: Serialize>(magic: [u8; 4], body: &T) -> Vec<u8> {
    let mut out = magic.to_vec();
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    let body = bincode::serde::encode_to_vec(body, bincode::config::standard())
        .expect("a model body always encodes");
    out.extend_from_slice(&body);
    out
}

fn decode<T: for<'de> Deserialize<'de>>(
    magic: [u8; 4],
    what: &'static str,
    bytes: &[u8],
) -> Result<T> {
    if bytes.len() < 6 || bytes[..4] != magic {
        return Err(ModelError::BadMagic { what });
    }
    let version = u16::from_le_bytes([bytes[4], bytes[5]]);
    if version != FORMAT_VERSION {
        return Err(ModelError::FormatVersion {
            what,
            expected: FORMAT_VERSION,
            got: version,
        });
    }
    let body = &bytes[6..];
    let (value, read) =
        bincode::serde::decode_from_slice::<T, _>(body, bincode::config::standard()).map_err(
            |e| ModelError::Malformed {
                what,
                detail: zkgrad_core::proof::decode_error_sentence(&e, what),
            },
        )?;
    if read != body.len() {
        return Err(ModelError::Malformed {
            what,
            detail: format!("{} trailing bytes", body.len() - read),
        });
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_rejected_without_panicking() {
        let e = CompiledModel::from_bytes(b"").unwrap_err();
        assert_eq!(
            e,
            ModelError::BadMagic {
                what: "compiled model"
            }
        );
        let e = CompiledModel::from_bytes(b"PK\x03\x04 a zip file").unwrap_err();
        assert_eq!(
            e,
            ModelError::BadMagic {
                what: "compiled model"
            }
        );
        let e = CompiledModel::from_bytes(b"ZKGM\x01\x00rest").unwrap_err();
        assert_eq!(
            e,
            ModelError::FormatVersion {
                what: "compiled model",
                expected: FORMAT_VERSION,
                got: 1
            }
        );
        assert!(e.to_string().contains("compile the model again"), "{e}");
        let e = VerifyingKey::from_bytes(b"ZKGM\x01\x00").unwrap_err();
        assert_eq!(
            e,
            ModelError::BadMagic {
                what: "verifying key"
            }
        );
        for body in [
            &b""[..],
            b"\x05abc",
            b"\xff\xff\xff\xff\xff\xff\xff\xff\xff",
            &[0x80; 64],
        ] {
            let bytes = [&MODEL_MAGIC[..], &FORMAT_VERSION.to_le_bytes(), body].concat();
            let e = CompiledModel::from_bytes(&bytes).unwrap_err();
            assert!(
                matches!(
                    e,
                    ModelError::Malformed {
                        what: "compiled model",
                        ..
                    }
                ),
                "{e}"
            );
            // A sentence, never bincode's Debug text (`UnexpectedEnd { additional: 1 }`).
            let text = e.to_string();
            assert!(
                !text.contains('{') && !text.contains("Unexpected"),
                "{text}"
            );
        }
        let e =
            CompiledModel::from_bytes(&[&MODEL_MAGIC[..], &FORMAT_VERSION.to_le_bytes()].concat())
                .unwrap_err();
        assert!(
            e.to_string().contains("ends early (truncated bytes)"),
            "{e}"
        );
    }

    #[test]
    fn a_huge_length_prefix_does_not_allocate() {
        // String length 2^64 − 1 encoded as bincode varint (0xFF marker + u64).
        let bytes = [&MODEL_MAGIC[..], &FORMAT_VERSION.to_le_bytes(), &[0xff; 9]].concat();
        assert!(matches!(
            CompiledModel::from_bytes(&bytes),
            Err(ModelError::Malformed { .. })
        ));
    }

    #[test]
    fn truncated_header_reads_as_bad_magic() {
        assert_eq!(
            CompiledModel::from_bytes(b"ZKGM\x01").unwrap_err(),
            ModelError::BadMagic {
                what: "compiled model"
            }
        );
    }
}
