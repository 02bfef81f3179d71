//! Shared, non-protocol pieces the blocks' steps (`zk/`) use: where a block reads its input, a
//! batched column folded at a batch point, and the public selectors through which convolution
//! and pooling read their inputs (`wiring`). Nothing here touches the transcript.

pub(crate) mod wiring;

use p3_field::PrimeCharacteristicRing;

use crate::field::{EF, F};
use crate::witness::WitnessPlan;

/// The column holding block l's input: the circuit input, or the previous block's output.
pub(crate) fn input_col(plan: &WitnessPlan, l: usize) -> usize {
    if l == 0 { plan.x } else { plan.blocks[l - 1].a }
}

/// Σ_n eq(r_n, n)·col[n·2^log_feat + ·]: a batched column folded at a batch point.
pub(crate) fn fold_batch(col: &[F], log_feat: usize, eq_n: &[EF]) -> Vec<EF> {
    let mut out = vec![EF::ZERO; 1 << log_feat];
    for (row, &e) in col.chunks(1 << log_feat).zip(eq_n) {
        out.iter_mut().zip(row).for_each(|(o, &v)| *o += e * v);
    }
    out
}
