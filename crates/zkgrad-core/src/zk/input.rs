//! A committed input (`CircuitSpec::committed_input`): the input column alone, committed as a
//! hiding twin [x | R] whose mask R and PCS randomness come from the data owner's seed. The same
//! inputs and seed give the same commitment, so its digest — part of the proof's statement —
//! shows that two proofs used the same (hidden) input: the building block for statements about
//! committed datasets. Every claim on the input column is opened against this commitment.

use rand::SeedableRng;

use crate::circuit::CircuitSpec;
use crate::error::Result;
use crate::field::F;
use crate::layout::Layout;
use crate::pcs::{Commitment, Pcs, ProverData};
use crate::witness::WitnessPlan;

/// The input commitment's layout: the input column alone.
pub(crate) fn layout(plan: &WitnessPlan) -> Layout {
    Layout::new(&[plan.layout.columns[plan.x].1])
}

/// Commits to the input column; returns the commitment, its prover data and the mask R.
pub(crate) fn commit(plan: &WitnessPlan, x: &[F], seed: [u8; 32]) -> (Commitment, ProverData, Vec<F>) {
    let layout = layout(plan);
    let mut rng = rand::rngs::StdRng::from_seed(*blake3::keyed_hash(&seed, b"zkgrad input masks").as_bytes());
    let (twin, mut masks) = super::twin::twin_table(x.to_vec(), &layout, &[true], &mut rng);
    let (c, data) = Pcs::new(layout.num_vars + 1, true).commit(twin, seed);
    (c, data, masks.remove(0))
}

/// The commitment a proof of these inputs with this seed will carry (its `digest()` is what a
/// verifier pins).
pub fn commit_input(spec: &CircuitSpec, inputs: &[Vec<i64>], seed: [u8; 32]) -> Result<Commitment> {
    spec.validate()?;
    let plan = WitnessPlan::new(spec, inputs.len().max(1));
    Ok(commit(&plan, &plan.input_column(inputs), seed).0)
}
