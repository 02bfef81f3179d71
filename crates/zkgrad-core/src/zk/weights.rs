//! A block's kernel as its pieces (`commit::WeightColumns`): the sumchecks run over the whole
//! padded matrix W(j, o) = Σ_p [j in piece p]·W_p(j − offset_p, o), so the masked value Ẇ at
//! (r_j, r_o) is Σ_p sel_p(r_j)·Ẇ_p(r_j[..log_p], r_o) with sel_p = eq(offset_p's high bits,
//! r_j[log_p..]). The proof carries every Ẇ_p (each masked by its own R_p); the verifier
//! combines them, and each is a claim on its own column.

use p3_field::PrimeCharacteristicRing;

use crate::commit::WeightColumns;
use crate::error::{ProofError, Result};
use crate::field::{EF, F};
use crate::mle::{bits_as_point, eq_eval};

use super::dense::masked_eval;

/// The whole matrix (2^ki slots × 2^ko rows, slot low) rebuilt from the pieces of `table`
/// (the weight columns, or their masks R).
pub(crate) fn whole(cols: &WeightColumns, table: &[Vec<F>], ki: usize, ko: usize) -> Vec<F> {
    // One piece that covers every slot is the matrix itself (a single narrower piece is not).
    if let [p] = cols.pieces.as_slice()
        && p.log == ki
    {
        return table[p.col].clone();
    }
    let mut out = vec![F::ZERO; 1 << (ki + ko)];
    for p in &cols.pieces {
        for (o, row) in table[p.col].chunks_exact(1 << p.log).enumerate() {
            let at = (o << ki) + p.offset;
            out[at..at + row.len()].copy_from_slice(row);
        }
    }
    out
}

/// Each piece's point: (r_j[..log], r_rows).
fn piece_point(log: usize, r_j: &[EF], r_rows: &[EF]) -> Vec<EF> {
    [&r_j[..log], r_rows].concat()
}

/// The prover's Ẇ_p, piece by piece.
pub(crate) fn piece_values(
    cols: &WeightColumns,
    w: &[Vec<F>],
    w_r: &[Vec<F>],
    r_j: &[EF],
    r_rows: &[EF],
) -> Vec<EF> {
    cols.pieces
        .iter()
        .map(|p| masked_eval(&w[p.col], &w_r[p.col], &piece_point(p.log, r_j, r_rows)))
        .collect()
}

/// Σ_p sel_p(r_j)·Ẇ_p: the whole matrix's masked value; an error when the count is wrong.
pub(crate) fn combine(cols: &WeightColumns, r_j: &[EF], values: &[EF], block: &str) -> Result<EF> {
    if values.len() != cols.pieces.len() {
        return Err(ProofError::Layer(format!(
            "block '{block}': {} kernel values where the layout has {} pieces",
            values.len(),
            cols.pieces.len()
        )));
    }
    Ok(cols
        .pieces
        .iter()
        .zip(values)
        .map(|(p, &v)| {
            eq_eval(
                &bits_as_point(p.offset >> p.log, r_j.len() - p.log),
                &r_j[p.log..],
            ) * v
        })
        .sum())
}

/// The claims the pieces' values make on the weight table.
pub(crate) fn claims(
    cols: &WeightColumns,
    r_j: &[EF],
    r_rows: &[EF],
    values: &[EF],
) -> Vec<(usize, Vec<EF>, EF)> {
    cols.pieces
        .iter()
        .zip(values)
        .map(|(p, &v)| (p.col, piece_point(p.log, r_j, r_rows), v))
        .collect()
}
