//! A committed input (`CircuitSpec::committed_input`): the input column alone and its mask
//! (`masked.rs`), committed with hiding; the mask and PCS randomness come from the data owner's seed. The same
//! inputs and seed give the same commitment, so its digest — part of the proof's statement —
//! shows that two proofs used the same (hidden) input: the building block for statements about
//! committed datasets. Every claim on the input column is opened against this commitment.

use rand::SeedableRng;

use crate::circuit::CircuitSpec;
use crate::error::Result;
use crate::field::F;
use crate::pcs::{Commitment, Pcs, ProverData};
use crate::witness::WitnessPlan;
use crate::zk::masked::MaskedLayout;

/// The input commitment's layout: the input column alone, masked.
pub(crate) fn layout(plan: &WitnessPlan) -> MaskedLayout {
    MaskedLayout::new(&[plan.layout.columns[plan.x].1], &[true])
}

/// The committed input: its commitment, prover data, table, and the mask R on the whole column.
pub(crate) struct CommittedInput {
    pub commitment: Commitment,
    pub data: ProverData,
    pub table: Vec<F>,
    pub mask: Vec<F>,
}

/// Commits to the input column.
pub(crate) fn commit(plan: &WitnessPlan, x: &[F], seed: [u8; 32]) -> CommittedInput {
    let layout = layout(plan);
    let mut rng =
        rand::rngs::StdRng::from_seed(*blake3::keyed_hash(&seed, b"zkgrad input masks").as_bytes());
    let (table, mut masks) = layout.masked_table(&[x.to_vec()], &mut rng);
    let (commitment, data) = Pcs::new(layout.num_vars(), true).commit(table.clone(), seed);
    CommittedInput {
        commitment,
        data,
        table,
        mask: masks.swap_remove(0),
    }
}

/// The commitment a proof of these inputs with this seed will carry (its `digest()` is what a
/// verifier pins).
pub fn commit_input(spec: &CircuitSpec, inputs: &[Vec<i64>], seed: [u8; 32]) -> Result<Commitment> {
    spec.validate()?;
    let plan = WitnessPlan::new(spec, inputs.len().max(1));
    Ok(commit(&plan, &plan.input_column(inputs), seed).commitment)
}
