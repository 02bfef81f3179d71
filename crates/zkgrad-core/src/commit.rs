//! The model commitment: all weights and biases packed into one multilinear polynomial and
//! committed with the PCS once, at compile time. Its digest — over the circuit digest and the
//! weight commitment — is the model's public identity: pinning it pins both the architecture
//! and the weights.
//!
//! Packing: block l contributes W_l (index out·2^k_in + in, so the input index is the low
//! variables; a dense block's input index follows its input's stored layout) and b_l, each
//! padded with zeros to a power of two. Pooling blocks contribute two empty 1-entry columns.

use serde::{Deserialize, Serialize};

use crate::circuit::{CircuitSpec, LayerKind, Weights};
use crate::error::Result;
use crate::field::F;
use crate::layout::{Layout, padded_column};
use crate::mle::log2_ceil;
use crate::pcs::{Commitment, Pcs, ProverData};

/// Whether the plain (non-zero-knowledge) protocol's commitments are hiding. Zero-knowledge
/// circuits (`CircuitSpec::zk`) always commit with hiding twin tables (`zk/twin.rs`).
pub const HIDING: bool = false;

/// Public commitment to a model's weights.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ModelCommitment {
    /// The PCS commitment to the packed weight polynomial.
    pub pcs: Commitment,
    /// Variables of the packed weight polynomial.
    pub num_vars: usize,
    /// Digest of the public circuit the weights belong to.
    pub circuit: [u8; 32],
}

impl ModelCommitment {
    /// 32-byte digest: the model's public identity.
    pub fn digest(&self) -> [u8; 32] {
        let mut h = blake3::Hasher::new();
        h.update(b"zkgrad-model-commitment-v2");
        h.update(&self.circuit);
        h.update(&(self.num_vars as u64).to_le_bytes());
        h.update(&self.pcs.digest());
        *h.finalize().as_bytes()
    }
}

/// Column indices of block l's weight and bias in the weight layout.
pub fn weight_columns(l: usize) -> (usize, usize) {
    (2 * l, 2 * l + 1)
}

/// log2 of the padded weight matrix's column and row counts for block l. A dense block's
/// columns follow its input's stored layout (see [`crate::circuit::ActShape`]); pooling has none.
pub fn weight_logs(spec: &CircuitSpec, l: usize) -> (usize, usize) {
    let layer = &spec.layers[l];
    let (rows, cols) = layer.weight_dims();
    match layer.kind {
        LayerKind::Dense => (spec.layer_input_shape(l).log_size(), log2_ceil(rows).max(1)),
        _ => (log2_ceil(cols), log2_ceil(rows)),
    }
}

/// The weight layout the verifier derives from the public circuit.
pub fn weight_layout(spec: &CircuitSpec) -> Layout {
    let logs: Vec<usize> = (0..spec.layers.len())
        .flat_map(|l| {
            let (ki, ko) = weight_logs(spec, l);
            [ki + ko, ko]
        })
        .collect();
    Layout::new(&logs)
}

/// Packs the weights into the committed table.
pub fn pack_weights(spec: &CircuitSpec, w: &Weights) -> Vec<F> {
    weight_layout(spec).pack(&weight_cols(spec, w))
}

/// The weight columns, each padded to its power-of-two size, in layout order.
pub fn weight_cols(spec: &CircuitSpec, w: &Weights) -> Vec<Vec<F>> {
    let mut cols = Vec::with_capacity(2 * spec.layers.len());
    for (l, (layer, lw)) in spec.layers.iter().zip(&w.layers).enumerate() {
        let (ki, ko) = weight_logs(spec, l);
        let (_, n_cols) = layer.weight_dims();
        let shape = spec.layer_input_shape(l);
        let slot = |i: usize| if layer.kind == LayerKind::Dense { shape.slot(i) } else { i };
        let mut wcol = vec![crate::field::from_i64(0); 1 << (ki + ko)];
        if n_cols > 0 {
            for (o, row) in lw.weight.chunks_exact(n_cols).enumerate() {
                for (i, &v) in row.iter().enumerate() {
                    wcol[(o << ki) + slot(i)] = crate::field::from_i64(v);
                }
            }
        }
        cols.push(wcol);
        cols.push(padded_column(&lw.bias, ko, 0));
    }
    cols
}

/// A zero-knowledge model commitment: the hiding commitment to the twin table [W | R] with the
/// mask R derived from the seed (so the owner can recompute it), and what opens it.
pub struct WeightTwin {
    pub commitment: ModelCommitment,
    pub data: ProverData,
    /// The weight columns.
    pub cols: Vec<Vec<F>>,
    /// Their masks R.
    pub masks: Vec<Vec<F>>,
}

/// The weight columns and their masks R; deterministic given the seed.
pub fn weight_twin_tables(spec: &CircuitSpec, w: &Weights, seed: [u8; 32]) -> Result<(Vec<Vec<F>>, Vec<Vec<F>>)> {
    use rand::SeedableRng;
    spec.validate()?;
    spec.check_weights(w)?;
    let layout = weight_layout(spec);
    let cols = weight_cols(spec, w);
    let mask_seed = *blake3::keyed_hash(&seed, b"zkgrad weight masks").as_bytes();
    let mut rng = rand::rngs::StdRng::from_seed(mask_seed);
    let masks = crate::zk::twin::column_masks(&layout, &vec![true; cols.len()], &mut rng);
    Ok((cols, masks))
}

/// Builds the zero-knowledge weight commitment to the twin table [W | R].
pub fn weight_twin(spec: &CircuitSpec, w: &Weights, seed: [u8; 32]) -> Result<WeightTwin> {
    let (cols, masks) = weight_twin_tables(spec, w, seed)?;
    let layout = weight_layout(spec);
    let twin = crate::zk::twin::twin_of(layout.pack(&cols), &layout, &masks);
    let (c, data) = Pcs::new(layout.num_vars + 1, true).commit(twin, seed);
    let commitment = ModelCommitment { pcs: c, num_vars: layout.num_vars, circuit: spec.digest() };
    Ok(WeightTwin { commitment, data, cols, masks })
}

/// Commits to the weights; deterministic given the seed.
pub fn commit_model(spec: &CircuitSpec, w: &Weights, seed: [u8; 32]) -> Result<ModelCommitment> {
    Ok(commit_with_data(spec, w, seed)?.0)
}

/// Commits and keeps the prover data (the prover recomputes this from the weights and seed).
pub fn commit_with_data(spec: &CircuitSpec, w: &Weights, seed: [u8; 32]) -> Result<(ModelCommitment, ProverData)> {
    if spec.zk {
        let t = weight_twin(spec, w, seed)?;
        return Ok((t.commitment, t.data));
    }
    spec.validate()?;
    spec.check_weights(w)?;
    let layout = weight_layout(spec);
    let pcs = Pcs::new(layout.num_vars, HIDING);
    let (c, data) = pcs.commit(pack_weights(spec, w), seed);
    Ok((ModelCommitment { pcs: c, num_vars: layout.num_vars, circuit: spec.digest() }, data))
}

/// The weight commitment together with the data that opens it: built once (the encoding is
/// most of the cost of a commitment), then reused by every proof. Hiding prover data cannot be
/// copied (`p3-whir`'s type is not `Clone`): the first proof takes it, later ones recompute it.
pub struct CommittedWeights {
    /// The public commitment.
    pub commitment: ModelCommitment,
    data: std::sync::Mutex<Option<ProverData>>,
}

impl CommittedWeights {
    /// Commits to the weights; deterministic given the seed.
    pub fn new(spec: &CircuitSpec, w: &Weights, seed: [u8; 32]) -> Result<Self> {
        let (commitment, data) = commit_with_data(spec, w, seed)?;
        Ok(Self { commitment, data: std::sync::Mutex::new(Some(data)) })
    }

    /// Prover data for one more opening: a copy, the kept data (once, in hiding mode), or a
    /// fresh commitment.
    pub fn data_for_opening(&self, spec: &CircuitSpec, w: &Weights, seed: [u8; 32]) -> Result<ProverData> {
        let mut kept = self.data.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(d) = kept.as_ref().and_then(|d| d.try_clone()) {
            return Ok(d);
        }
        match kept.take() {
            Some(d) => Ok(d),
            None => Ok(commit_with_data(spec, w, seed)?.1),
        }
    }
}
