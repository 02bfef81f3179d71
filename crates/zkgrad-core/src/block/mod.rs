//! Shared, non-protocol pieces the blocks' steps (`zk/`) use: where a block reads its input, a
//! batched column folded at a batch point, and the public selectors through which convolution
//! and pooling read their inputs (`wiring`). Nothing here touches the transcript.

pub(crate) mod wiring;

use p3_field::PrimeCharacteristicRing;

use crate::circuit::{CircuitSpec, Operand};
use crate::field::{EF, F};
use crate::witness::WitnessPlan;

/// The column holding block l's input: the circuit input, or the output of the block it reads
/// (the previous one in a chain).
pub(crate) fn input_col(spec: &CircuitSpec, plan: &WitnessPlan, l: usize) -> usize {
    match spec.source(l) {
        Operand::Input => plan.x,
        Operand::Block(k) => plan.blocks[k].a,
    }
}

/// Σ_n eq(r_n, n)·col[n·2^log_feat + ·]: a batched column folded at a batch point.
pub(crate) fn fold_batch(col: &[F], log_feat: usize, eq_n: &[EF]) -> Vec<EF> {
    let mut out = vec![EF::ZERO; 1 << log_feat];
    for (row, &e) in col.chunks(1 << log_feat).zip(eq_n) {
        out.iter_mut().zip(row).for_each(|(o, &v)| *o += e * v);
    }
    out
}
