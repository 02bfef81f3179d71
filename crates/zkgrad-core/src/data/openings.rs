//! The end of a data proof's verification, shared by property proofs (`verify.rs`) and accuracy
//! attestations (`attest_verify.rs`): the auxiliary table's points (the batched point and its own
//! batching's mask columns, which that table holds) and the three PCS openings (the LogUp
//! inverses, the dataset's epoch leaf, the auxiliary table), in transcript order.

use crate::error::{ProofError, Result};
use crate::field::EF;
use crate::pcs::{Commitment, OpeningProof, Pcs};
use crate::transcript::Transcript;
use crate::zk::masked::MaskedLayout;
use crate::zk::masks::MaskPlan;
use crate::zk::sumcheck::ZkSumcheckProof;

/// One committed table to open: its PCS, commitment and (point, value) pairs.
pub(super) struct Opened<'a> {
    pub pcs: Pcs,
    pub commitment: &'a Commitment,
    pub points: Vec<(Vec<EF>, EF)>,
}

/// The auxiliary table's points: ρ with the batching's value, then each mask column of the
/// batching's own sumcheck (`schedule` in `masks`; the table holds every mask from column
/// `mask_first`) at its point in the table. `what` names the proof in the error.
pub(super) fn aux_points(
    layout: &MaskedLayout,
    masks: &MaskPlan,
    mask_first: usize,
    schedule: usize,
    (rho, value): (Vec<EF>, EF),
    batch: &ZkSumcheckProof,
    what: &str,
) -> Result<Vec<(Vec<EF>, EF)>> {
    let mut points = vec![(rho.clone(), value)];
    for (col, z, v) in masks.claims(schedule, &rho, &batch.mask_evals)? {
        let pt = layout
            .point(mask_first + col, &z)
            .ok_or_else(|| ProofError::Malformed(format!("{what} mask column is masked")))?;
        points.push((pt, v));
    }
    Ok(points)
}

/// Verifies each table's opening proof, in order.
pub(super) fn verify(
    tables: [Opened<'_>; 3],
    openings: &[OpeningProof],
    tr: &mut Transcript,
) -> Result<()> {
    if openings.len() != tables.len() {
        return Err(ProofError::Shape {
            what: "data-proof openings",
            expected: tables.len(),
            got: openings.len(),
        });
    }
    for (t, opening) in tables.into_iter().zip(openings) {
        let (points, values): (Vec<Vec<EF>>, Vec<EF>) = t.points.into_iter().unzip();
        t.pcs.verify(t.commitment, &points, &values, opening, tr)?;
    }
    Ok(())
}
