//! Accuracy attestation: one zero-knowledge proof that the committed model classifies `correct`
//! of the m rows of a committed dataset correctly (numpy's argmax of its logits equals the row's
//! label), the weights hidden behind the model's digest and the rows behind the dataset's.
//!
//! It is the model's batch inference proof (`zk/`) over all 2^k padded rows of the dataset with
//! two changes, through `zk::prover::ProverHook`: the logits are a hidden (masked) column, about
//! which the argmax and count relation of `attest_plan.rs` is proved in place of a public
//! output; and the input's claims are answered by the dataset table's feature columns (one
//! functional of the table, `attest_plan::dataset_input_functional`) instead of a fresh input.
//! The statement (protocol, circuit, model digest, epoch leaf, dataset digest, the dataset's
//! epoch leaf, rows, classes, the count) is absorbed before any commitment. Like a property
//! proof, an attestation opens an epoch leaf of the dataset (`data/epochs.rs`), never its
//! published commitment; the verifier checks the leaf's certificate against the digest.

use serde::{Deserialize, Serialize};

use super::attest_plan::{ArgmaxPlan, DOMAIN};
use super::attest_prove::{AttestProver, Tamper};
use super::commit::Dataset;
use super::epochs::DatasetLeaf;
use crate::bounds::versioned::Format;
use crate::circuit::{CircuitSpec, Weights, forward};
use crate::commit::{CommittedWeights, ModelCommitment, WeightTables};
use crate::error::{ProofError, Result};
use crate::field::EF;
use crate::pcs::{Commitment, OpeningProof};
use crate::proof::SecurityHeader;
use crate::transcript::Transcript;
use crate::zk::proof::ZkProof;
use crate::zk::sumcheck::ZkSumcheckProof;

pub const MAGIC: &[u8; 4] = b"ZKGA";
/// 2 since an attestation opens an epoch leaf of the dataset; 3 since it may state the
/// confusion matrix.
pub const VERSION: u16 = 3;
const MAX_BYTES: usize = 64 << 20;

/// The argmax and count sub-proof's messages (`attest_prove.rs`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ArgmaxProof {
    /// P, D, Z, multiplicities and the sumcheck masks.
    pub aux_commitment: Commitment,
    /// The LogUp inverses of the D_j range lookups.
    pub inverse_commitment: Commitment,
    pub main: ZkSumcheckProof,
    /// h_j at the main point.
    pub inverses: Vec<EF>,
    /// y, P_j, D_j, Z_j at the main point, then the multiplicities.
    pub values: Vec<EF>,
    pub link: ZkSumcheckProof,
    /// The logits column at the link point, then Z_j at its row part.
    pub link_values: Vec<EF>,
    /// Batchings: inverses, dataset, aux.
    pub batches: Vec<(ZkSumcheckProof, EF)>,
    /// Openings: inverses, dataset, aux.
    pub openings: Vec<OpeningProof>,
}

/// An accuracy attestation.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Attestation {
    /// The model's digest (its published commitment).
    pub model: [u8; 32],
    /// The dataset's digest.
    pub dataset: [u8; 32],
    /// m, K and the number of rows classified correctly.
    pub rows: u64,
    pub classes: u32,
    pub correct: u64,
    /// Whether only c ≥ `correct` is stated (a threshold attestation: c hidden).
    pub at_least: bool,
    /// The confusion matrix, when stated: K² counts, row t (the label) by column j (the
    /// prediction), row-major; empty when not stated.
    pub confusion: Vec<u64>,
    /// The epoch leaf of the dataset the attestation opens (its certificate links it to the
    /// dataset's digest).
    pub dataset_epoch: crate::epoch::EpochRef,
    /// Target bits, proximity assumption, grinding bits (`SecurityHeader`).
    pub security: (u16, u8, u8),
    pub body: ZkProof,
    pub argmax: ArgmaxProof,
}

/// What a verified attestation states.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttestStatement {
    pub model: [u8; 32],
    pub dataset: [u8; 32],
    pub rows: u64,
    pub classes: u32,
    /// c, or the threshold T when `at_least` (then c ≥ T is what is proved).
    pub correct: u64,
    pub at_least: bool,
    /// The confusion matrix (label × prediction, row-major), or empty.
    pub confusion: Vec<u64>,
}

/// The format: magic, version, the largest attestation decoded.
const FORMAT: Format = Format {
    magic: MAGIC,
    version: VERSION,
    max_bytes: MAX_BYTES,
    what: "accuracy attestation",
};

impl Attestation {
    /// Versioned bytes: magic, version, then the bincode body.
    pub fn to_bytes(&self) -> Vec<u8> {
        FORMAT.encode(self)
    }

    /// Decodes versioned bytes; every malformed input is a typed error.
    pub fn from_bytes(b: &[u8]) -> Result<Self> {
        FORMAT.decode(b)
    }
}

fn header(h: SecurityHeader) -> (u16, u8, u8) {
    (h.target_bits, h.assumption, h.pow_bits)
}

/// The transcript's start: the statement and the dataset epoch leaf the attestation opens.
pub(super) fn start(
    spec: &CircuitSpec,
    s: &AttestStatement,
    dataset_epoch: &crate::epoch::EpochRef,
) -> Transcript {
    let mut tr = Transcript::new(DOMAIN);
    tr.absorb_bytes("circuit", &spec.digest());
    tr.absorb_bytes("model-commitment", &s.model);
    tr.absorb_bytes("dataset", &s.dataset);
    tr.absorb_bytes("dataset-epoch-path", &dataset_epoch.path);
    tr.absorb_bytes(
        "dataset-epoch-commitment",
        &dataset_epoch.commitment.digest(),
    );
    tr.absorb_u64s(
        "shape",
        &[s.rows, s.classes as u64, s.correct, u64::from(s.at_least)],
    );
    tr.absorb_u64s("confusion", &s.confusion);
    tr
}

/// Which weight commitment an attestation opens.
pub enum AttestWeights<'a> {
    /// The published commitment, made once (tests and one-off proofs).
    Committed(&'a CommittedWeights),
    /// The leaf of the model's epoch `epoch` (as `prover::prove_in_epoch`; Python and the CLI).
    Epoch {
        identity: &'a ModelCommitment,
        epochs: &'a crate::epoch::Epochs,
        epoch: u64,
    },
}

/// The dataset's rows as the model's inputs: all 2^k padded rows (so the batch is the table's
/// row dimension), each a feature vector.
fn dataset_inputs(ds: &Dataset) -> Vec<Vec<i64>> {
    let nf = ds.commitment.features as usize;
    let len = ds.cols[0].len();
    (0..len)
        .map(|n| {
            (0..nf)
                .map(|f| crate::field::to_i64(ds.cols[f][n]))
                .collect()
        })
        .collect()
}

/// Proves the accuracy of the model (`spec`, `w`, weight seed `seed`) on the committed dataset.
/// Returns the attestation and, for an epoch, its certificate (the verifier needs it).
pub fn attest(
    spec: &CircuitSpec,
    w: &Weights,
    seed: [u8; 32],
    weights: AttestWeights<'_>,
    leaf: &DatasetLeaf<'_>,
) -> Result<(Attestation, Option<crate::epoch::EpochCertificate>)> {
    attest_tampered(spec, w, seed, weights, leaf, None, Tamper::default(), 0)
}

/// [`attest`] stating the confusion matrix too: how many rows of each label the model
/// predicts as each class (K² counts, each proved; the correct count is their diagonal).
pub fn attest_confusion(
    spec: &CircuitSpec,
    w: &Weights,
    seed: [u8; 32],
    weights: AttestWeights<'_>,
    leaf: &DatasetLeaf<'_>,
) -> Result<(Attestation, Option<crate::epoch::EpochCertificate>)> {
    attest_inner(
        spec,
        w,
        seed,
        weights,
        leaf,
        None,
        true,
        Tamper::default(),
        0,
    )
}

/// [`attest`] stating only that at least `threshold` rows are classified correctly, the count
/// hidden; refused (no proof) when the model does not reach it.
pub fn attest_at_least(
    spec: &CircuitSpec,
    w: &Weights,
    seed: [u8; 32],
    weights: AttestWeights<'_>,
    leaf: &DatasetLeaf<'_>,
    threshold: u64,
) -> Result<(Attestation, Option<crate::epoch::EpochCertificate>)> {
    attest_tampered(
        spec,
        w,
        seed,
        weights,
        leaf,
        Some(threshold),
        Tamper::default(),
        0,
    )
}

/// [`attest`] as a dishonest prover (soundness tests): `tamper` edits the witness and `delta`
/// is added to the claimed count.
#[doc(hidden)]
pub fn attest_tampered(
    spec: &CircuitSpec,
    w: &Weights,
    seed: [u8; 32],
    weights: AttestWeights<'_>,
    leaf: &DatasetLeaf<'_>,
    threshold: Option<u64>,
    tamper: Tamper,
    delta: i64,
) -> Result<(Attestation, Option<crate::epoch::EpochCertificate>)> {
    attest_inner(
        spec, w, seed, weights, leaf, threshold, false, tamper, delta,
    )
}

#[allow(clippy::too_many_arguments)]
fn attest_inner(
    spec: &CircuitSpec,
    w: &Weights,
    seed: [u8; 32],
    weights: AttestWeights<'_>,
    leaf: &DatasetLeaf<'_>,
    threshold: Option<u64>,
    confusion: bool,
    tamper: Tamper,
    delta: i64,
) -> Result<(Attestation, Option<crate::epoch::EpochCertificate>)> {
    let ds: &Dataset = leaf.node.ds;
    let mut sw = crate::zk::prover::Stopwatch::new();
    spec.validate()?;
    crate::zk::check_supported(spec)?;
    spec.check_weights(w)?;
    let plan =
        ArgmaxPlan::new(spec, &ds.commitment, threshold.is_some())?.with_confusion(confusion)?;
    let inputs = dataset_inputs(ds);
    let traces = inputs
        .iter()
        .enumerate()
        .map(|(n, x)| {
            forward(spec, w, x).map_err(|e| match e {
                ProofError::Witness { layer, detail } => ProofError::Witness {
                    layer,
                    detail: format!("dataset row {}: {detail}", n + 1),
                },
                e => e,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    sw.lap("attest: dataset rows and forward pass");
    let labels = ds.labels().expect("the plan checked: labels");
    let rows = if tamper.count_padding {
        inputs.len()
    } else {
        plan.rows
    };
    let mut correct = 0i64;
    let mut cells = vec![0u64; plan.classes * plan.classes];
    for n in 0..rows {
        let logits = &traces[n].last().expect("a block").a;
        let pred = (1..plan.classes).fold(0, |b, j| if logits[j] > logits[b] { j } else { b });
        let y = crate::field::to_i64(labels[n]);
        if n < plan.rows && !(0..plan.classes as i64).contains(&y) {
            return Err(ProofError::Circuit(format!(
                "dataset row {}: label {y} is not a class of the model (0..{})",
                n + 1,
                plan.classes - 1
            )));
        }
        correct += i64::from(pred as i64 == y);
        if n < plan.rows {
            cells[y as usize * plan.classes + pred] += 1;
        }
    }
    if tamper.shift_confusion && cells[0] > 0 {
        // A right row of label 0 claimed as a right row of label 1: the total and the diagonal
        // (the correct count) stay what they are.
        cells[0] -= 1;
        cells[plan.classes + 1] += 1;
    }
    for &(i, d) in tamper.edit_confusion.unwrap_or(&[]) {
        cells[i] = cells[i]
            .checked_add_signed(d)
            .ok_or_else(|| ProofError::Circuit("a negative confusion count".into()))?;
    }
    let cells = if confusion { cells } else { Vec::new() };
    let correct = u64::try_from(correct + delta)
        .map_err(|_| ProofError::Circuit("a negative count".into()))?;
    // A threshold attestation states T and proves c − T ≥ 0 (its limbs), c hidden.
    let (stated, gap) = match threshold {
        None => (correct, None),
        Some(t) if t > plan.rows as u64 => {
            return Err(ProofError::Circuit(format!(
                "a threshold of {t} correct rows is above the dataset's {} rows",
                plan.rows
            )));
        }
        Some(t) if correct < t && !tamper.ignore_threshold => {
            return Err(ProofError::Circuit(format!(
                "the model classifies fewer than {t} of the {} rows correctly: no proof is made",
                plan.rows
            )));
        }
        Some(t) => (t, Some(correct as i64 - t as i64)),
    };
    // The weight commitment and what opens it (as `prover::prove_inner`).
    let epoch_tables: Option<WeightTables>;
    let (mc, weight_data, kept, epoch, cert) = match weights {
        AttestWeights::Committed(cw) => {
            let data = cw.data_for_opening(spec, w, seed)?;
            (cw.commitment.clone(), data, cw.tables(), None, None)
        }
        AttestWeights::Epoch {
            identity,
            epochs,
            epoch,
        } => {
            let path = crate::epoch::leaf_path(crate::epoch::fanout(spec), epoch)?;
            let cert = epochs.certificate(spec, w, seed, identity, &path)?;
            let (tables, commitment, data) = crate::epoch::commit_node(spec, w, seed, &path)?;
            epoch_tables = Some(tables);
            let leaf = crate::epoch::EpochRef { path, commitment };
            (
                identity.clone(),
                data,
                epoch_tables.as_ref(),
                Some(leaf),
                Some(cert),
            )
        }
    };
    if mc.circuit != spec.digest() {
        return Err(ProofError::Circuit(
            "the weight commitment belongs to another circuit".into(),
        ));
    }
    let statement = AttestStatement {
        model: mc.digest(),
        dataset: ds.commitment.digest(),
        rows: plan.rows as u64,
        classes: plan.classes as u32,
        correct: stated,
        at_least: threshold.is_some(),
        confusion: cells,
    };
    sw.lap("attest: count and weight commitment data");
    let mut tr = start(spec, &statement, &leaf.epoch);
    crate::statement::absorb_epoch(&mut tr, epoch.as_ref());
    let mut hook = AttestProver::new(&plan, leaf, tamper);
    hook.gap = gap;
    let mut body = crate::zk::prover::prove_hooked(
        spec,
        w,
        seed,
        &inputs,
        &traces,
        None,
        weight_data,
        kept,
        None,
        Some(&mut hook),
        tr,
    )?;
    body.epoch = epoch;
    let argmax = hook
        .proof
        .take()
        .ok_or_else(|| ProofError::Circuit("the attestation's argmax proof was not made".into()))?;
    Ok((
        Attestation {
            model: statement.model,
            dataset: statement.dataset,
            dataset_epoch: leaf.epoch.clone(),
            rows: statement.rows,
            classes: statement.classes,
            correct: stated,
            at_least: statement.at_least,
            confusion: statement.confusion.clone(),
            security: header(SecurityHeader::current()),
            body,
            argmax,
        },
        cert,
    ))
}

#[cfg(test)]
#[path = "attest_tests.rs"]
mod tests;
