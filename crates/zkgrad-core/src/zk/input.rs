//! A committed input (`CircuitSpec::committed_input`): the input column, committed with hiding
//! once and proved about by ≥ 10^4 proofs, its values hidden in every one.
//!
//! The input column is the one column of a dataset table (`data::commit`: lifted masks, the two
//! link-mask columns), so a committed input is put on the dataset's epoch tree (`data::epochs`,
//! the generic `crate::epoch` tree and `zk/link.rs` link certificate — no tree or link of its
//! own): the **published** commitment (the root, whose digest `proof.input_commitment` users
//! compare) is never opened by a proof. Proof n over the input opens the leaf of input epoch
//! n / (K − 1) ([`proofs_per_epoch`]), a fresh commitment to the same column with fresh masks,
//! linked to the root by a chain of zero-knowledge link certificates; the proof binds the
//! root, the leaf path and the leaf commitment in its transcript, and the verifier checks the
//! chain ([`verify_leaf`], each link once per process).
//!
//! The table's metadata binds the circuit and the batch, so an input tree is never taken for
//! another circuit's (or a dataset's: the dataset's own metadata is a caller's digest, and the
//! owner's seed is derived under a label of its own here, [`table_seed`]). The column's values
//! are the witness's input column padded with zero rows to the dataset's smallest table
//! (2^[`MIN_ROW_VARS`]); a claim on the input at z is a claim on the table column at (z ‖ 0…),
//! and the witness's input mask is the leaf's mask restricted to those rows, read at the
//! proof's own lift point ([`expanded_mask`]).

use p3_field::PrimeCharacteristicRing;

use crate::circuit::CircuitSpec;
use crate::data::commit::{Dataset, DatasetCommitment, MIN_ROW_VARS, commit_columns};
use crate::epoch::{EpochCertificate, EpochRef};
use crate::error::{ProofError, Result};
use crate::field::{EF, F};
use crate::pcs::{Commitment, Pcs};
use crate::witness::WitnessPlan;
use crate::zk::masked::{LiftPoint, MaskedLayout};

/// Variables of the witness's input column.
fn column_vars(plan: &WitnessPlan) -> usize {
    plan.layout.columns[plan.x].1
}

/// Variables of the table's column (the input column padded to the dataset's smallest).
fn table_vars(plan: &WitnessPlan) -> usize {
    column_vars(plan).max(MIN_ROW_VARS)
}

/// The metadata the input table's public shape binds: the circuit and the batch.
fn meta(spec: &CircuitSpec, batch: usize) -> [u8; 32] {
    let mut h = blake3::Hasher::new();
    h.update(b"zkgrad-committed-input-v2");
    h.update(&spec.digest());
    h.update(&(batch as u64).to_le_bytes());
    *h.finalize().as_bytes()
}

/// The public commitment of the input of a proof for `spec` at `batch`, whose published PCS
/// commitment (the root) is `root`.
pub fn public(spec: &CircuitSpec, batch: usize, root: &Commitment) -> DatasetCommitment {
    let plan = WitnessPlan::new(spec, batch.max(1));
    DatasetCommitment {
        rows: 1u64 << table_vars(&plan),
        features: 1,
        labels: false,
        meta: meta(spec, batch),
        pcs: root.clone(),
    }
}

/// The input table's layout (what the proof's input batching opens).
pub(crate) fn layout(plan: &WitnessPlan) -> MaskedLayout {
    shape(plan).layout()
}

/// The input table's PCS.
pub(crate) fn pcs(plan: &WitnessPlan) -> Result<Pcs> {
    shape(plan).pcs()
}

/// The shape alone (no commitment): layout and PCS depend on nothing else.
fn shape(plan: &WitnessPlan) -> DatasetCommitment {
    DatasetCommitment {
        rows: 1u64 << table_vars(plan),
        features: 1,
        labels: false,
        meta: [0; 32],
        pcs: Commitment {
            num_vars: 0,
            hiding: true,
            root: [0; 32],
            params: [0; 32],
        },
    }
}

/// The seed of the input's table, derived from the data owner's input seed under a label of
/// its own (the same secret used for a dataset gives unrelated masks).
fn table_seed(input_seed: [u8; 32]) -> [u8; 32] {
    *blake3::keyed_hash(&input_seed, b"zkgrad committed input table").as_bytes()
}

/// The owner's input table: the witness's input column `x` (of `plan`) as a one-column dataset.
pub(crate) fn commit(
    spec: &CircuitSpec,
    plan: &WitnessPlan,
    batch: usize,
    x: &[F],
    input_seed: [u8; 32],
) -> Result<Dataset> {
    let rows = 1usize << table_vars(plan);
    let mut col = x.to_vec();
    col.resize(rows, F::ZERO);
    commit_columns(
        vec![col],
        rows,
        false,
        meta(spec, batch),
        table_seed(input_seed),
    )
}

/// The published input commitment a proof of these inputs with this seed carries (its
/// `digest()` is what a verifier pins; every proof of the same input and seed carries it).
pub fn commit_input(spec: &CircuitSpec, inputs: &[Vec<i64>], seed: [u8; 32]) -> Result<Commitment> {
    spec.validate()?;
    if inputs.is_empty() {
        return Err(ProofError::Circuit("no input to commit to".into()));
    }
    let plan = WitnessPlan::new(spec, inputs.len());
    let ds = commit(spec, &plan, inputs.len(), &plan.input_column(inputs), seed)?;
    Ok(ds.commitment.pcs)
}

/// The most distinct points a proof may read the input column at (an MLP reads it at two: its
/// first block's operand and the input's range lookup); a circuit reading it at more is refused
/// with a sentence ([`check_claims`]).
pub const INPUT_READS_PER_PROOF: usize = 4;

/// Proofs one input epoch's leaf serves with the input hidden. A leaf is opened by its own link
/// (one value of the column and one batching value) and by each proof ([`INPUT_READS_PER_PROOF`]
/// values and one batching value); with the column's mask space of dimension D (its lift: each
/// opening reads it at its own random point), P proofs stay hidden while every revealed base-field
/// functional is independent: 2·(1 + 1 + P·(reads + 1)) ≤ D. The leaf's codeword randomness
/// bounds the openings too (the dataset table's budget, less the link's).
pub fn proofs_per_epoch(spec: &CircuitSpec, batch: usize) -> Result<usize> {
    let plan = WitnessPlan::new(spec, batch.max(1));
    let c = shape(&plan);
    let by_codeword = crate::data::epochs::proofs_per_epoch(&c)?;
    let dim = c.layout().mask_dim(0);
    let by_masks =
        (dim / crate::zk::budget::F_PER_VALUE).saturating_sub(2) / (INPUT_READS_PER_PROOF + 1);
    let per = by_codeword.min(by_masks);
    if per == 0 {
        return Err(ProofError::Epoch(
            "this committed input's table hides no proof beside its link".into(),
        ));
    }
    Ok(per)
}

/// The leaf path proof number `number` (0 for the first) over one committed input opens.
pub fn leaf_for_proof(spec: &CircuitSpec, batch: usize, number: u64) -> Result<Vec<u8>> {
    let plan = WitnessPlan::new(spec, batch.max(1));
    let per = proofs_per_epoch(spec, batch)? as u64;
    crate::epoch::leaf_path(crate::data::epochs::fanout(&shape(&plan))?, number / per)
}

/// Proofs the input's whole epoch tree serves (saturating).
pub fn capacity(spec: &CircuitSpec, batch: usize) -> Result<u64> {
    let plan = WitnessPlan::new(spec, batch.max(1));
    let per = proofs_per_epoch(spec, batch)? as u64;
    let leaves = crate::data::epochs::capacity(&shape(&plan))?
        / crate::data::epochs::proofs_per_epoch(&shape(&plan))?.max(1) as u64;
    Ok(leaves.saturating_mul(per))
}

/// Checks that `cert` links the input leaf `leaf` (what a proof opens) to the published input
/// commitment `root` of a proof for `spec` at `batch` (each link once per process).
pub fn verify_leaf(
    spec: &CircuitSpec,
    batch: usize,
    root: &Commitment,
    leaf: &EpochRef,
    cert: &EpochCertificate,
) -> Result<()> {
    crate::data::epochs::verify_leaf(&public(spec, batch, root), leaf, cert).map_err(|e| {
        ProofError::Epoch(format!(
            "the committed input's epoch certificate does not link the proof's input leaf to its published input commitment ({e})"
        ))
    })
}

/// A claim on the witness's input column at `z` as a claim on the table's column 0.
pub(crate) fn table_claims(
    plan: &WitnessPlan,
    claims: Vec<(usize, Vec<EF>, EF)>,
) -> Vec<(usize, Vec<EF>, EF)> {
    let k = table_vars(plan);
    claims
        .into_iter()
        .map(|(_, mut z, v)| {
            z.resize(k, EF::ZERO);
            (0, z, v)
        })
        .collect()
}

/// The input column's mask in one proof: the leaf's column mask at the proof's lift point,
/// restricted to the input column's rows (the padding rows are the high index bits, 0).
pub(crate) fn expanded_mask(plan: &WitnessPlan, masks: &[Vec<F>]) -> Vec<F> {
    masks[0][..1 << column_vars(plan)].to_vec()
}

/// The input's lift point (drawn after the weights', before any input value is revealed).
pub(crate) fn draw_lift(plan: &WitnessPlan, tr: &mut crate::transcript::Transcript) -> LiftPoint {
    LiftPoint::draw(&layout(plan), tr)
}

/// Refuses to reveal input claims the input table's masks do not hide: within the proof (each
/// column's own mask, `zk::budget::check_claims`) and across the proofs of an epoch, whose
/// count ([`proofs_per_epoch`]) assumes at most [`INPUT_READS_PER_PROOF`] values per proof.
pub(crate) fn check_claims(plan: &WitnessPlan, claims: &[(usize, Vec<EF>, EF)]) -> Result<()> {
    let layout = layout(plan);
    crate::zk::budget::check_claims(&layout, claims, "committed input")?;
    let points = crate::zk::budget::distinct_claims(&layout, claims)
        .first()
        .copied()
        .unwrap_or(0);
    if points > INPUT_READS_PER_PROOF {
        return Err(ProofError::Circuit(format!(
            "this circuit reads its committed input at {points} points per proof, more than the {INPUT_READS_PER_PROOF} an input epoch's proof count allows for: zero knowledge across proofs cannot hold, so no proof is made"
        )));
    }
    Ok(())
}

/// The verifier's check of a proof's input leaf: [`verify_leaf`] with `cert`, or nothing when
/// this process checked the same leaf under the same published input before.
pub(crate) fn check_leaf(
    spec: &CircuitSpec,
    batch: usize,
    root: &Commitment,
    leaf: &EpochRef,
    cert: Option<&EpochCertificate>,
) -> Result<()> {
    let mut h = blake3::Hasher::new();
    h.update(&public(spec, batch, root).digest());
    h.update(&leaf.path);
    h.update(&leaf.commitment.digest());
    let key = *h.finalize().as_bytes();
    let seen = || CHECKED_LEAVES.lock().unwrap_or_else(|e| e.into_inner());
    if seen().contains(&key) {
        return Ok(());
    }
    let cert = cert.ok_or_else(|| {
        ProofError::Epoch(format!(
            "the proof opens input epoch {:?} of its committed input: give that input epoch's certificate",
            leaf.path
        ))
    })?;
    verify_leaf(spec, batch, root, leaf, cert)?;
    let mut set = seen();
    if set.len() >= 1 << 16 {
        set.clear();
    }
    set.insert(key);
    Ok(())
}

/// Input leaves whose chains this process checked (keyed by the input's public identity, the
/// leaf path and the leaf commitment).
static CHECKED_LEAVES: std::sync::LazyLock<std::sync::Mutex<std::collections::HashSet<[u8; 32]>>> =
    std::sync::LazyLock::new(Default::default);

#[cfg(test)]
#[path = "input_tests.rs"]
mod tests;
