//! A function applied elementwise by a public table (sigmoid, tanh, exp, …): the block's
//! output b = f(a) is a committed column, and the pair (a, b) is proved to lie in the table
//! {(t, f(t))} by the lookup argument of `lookup.rs` (LogUp, Haböck 2022, §3.2's multi-column
//! tables): with a second verifier challenge β drawn with α, each row is looked up as the one
//! value a + β·b + β²·p, and the table holds t + β·f(t) (p = 0) plus the padding entry (0, 0, 1).
//!
//! p is the public padding indicator of the column layout (1 on the slots that hold no value),
//! so a padding row must be (0, 0) and a real row a table pair: the zero padding every other
//! block assumes of its input holds, and no real input can use the padding entry. Two distinct
//! triples collide under a random β with probability ≤ 2/|EF|, so one LogUp over the combined
//! values proves every triple is a table entry (the same soundness term as α's).
//!
//! Everything here is shared by the prover and the verifier: the combined table's weights
//! w_j = 1/(α − T_j), the succinct evaluation of p at the sumcheck's point, and the summands.
//! The lookup sumcheck carries one group per table block (tables [E, h, a, b, p]) and one per
//! table ([m, w]); the block itself sends nothing else.

use p3_field::{PrimeCharacteristicRing, batch_multiplicative_inverse};

use crate::circuit::{ActShape, CircuitSpec, LayerKind, UnaryGeom};
use crate::error::{ProofError, Result};
use crate::field::{EF, F, from_i64};
use crate::witness::UnaryLookup;

/// The table block behind a lookup.
pub(crate) fn geometry<'a>(spec: &'a CircuitSpec, u: &UnaryLookup) -> Result<&'a UnaryGeom> {
    match &spec.layers[u.layer].kind {
        LayerKind::Unary(g) => Ok(g),
        _ => Err(ProofError::Circuit(format!(
            "block '{}' is not a table lookup",
            spec.layers[u.layer].name
        ))),
    }
}

/// Whether slot i of a column laid out as `shape` (2^log_size entries per batch item) holds no
/// value.
fn is_padding(shape: ActShape, log_size: usize, i: usize) -> bool {
    let i = i & ((1 << log_size) - 1);
    let (pos, ch) = (i & ((1 << shape.log_len()) - 1), i >> shape.log_len());
    pos >= shape.len || ch >= shape.channels
}

/// p over the whole (batched) column: 1 on padding slots. Padding batch items repeat item 0,
/// so they hold real values.
pub(crate) fn padding_column(u: &UnaryLookup) -> Vec<EF> {
    let log_size = u.shape.log_size();
    (0..1usize << u.log_len)
        .map(|i| EF::from_bool(is_padding(u.shape, log_size, i)))
        .collect()
}

/// Σ_{j < n} eq(j, r): the MLE of the indicator of [0, n) over |r| bits (r[0] the lowest), in
/// O(|r|): following n's bits from the top, every 1 bit adds the prefixes that branch below it.
fn below(n: usize, r: &[EF]) -> EF {
    if n >= 1 << r.len() {
        return EF::ONE;
    }
    let (mut sum, mut prefix) = (EF::ZERO, EF::ONE);
    for (i, &ri) in r.iter().enumerate().rev() {
        if n >> i & 1 == 1 {
            sum += prefix * (EF::ONE - ri);
            prefix *= ri;
        } else {
            prefix *= EF::ONE - ri;
        }
    }
    sum
}

/// p̃ at a point of the column's variables (positions, then channels, then batch).
pub(crate) fn padding_eval(u: &UnaryLookup, point: &[EF]) -> EF {
    let (k, log_size) = (u.shape.log_len(), u.shape.log_size());
    let real = below(u.shape.len, &point[..k]) * below(u.shape.channels, &point[k..log_size]);
    EF::ONE - real
}

/// T_j = t + β·f(t) for j < len, then the padding entry β² (and its repeats, looked up never).
fn table_values(g: &UnaryGeom, log: usize, beta: EF) -> Vec<EF> {
    let pad = beta * beta;
    (0..1usize << log)
        .map(|j| match g.values.get(j) {
            Some(&y) => EF::from(from_i64(g.lo + j as i64)) + beta * EF::from(from_i64(y)),
            None => pad,
        })
        .collect()
}

/// w_j = 1/(α − T_j) (public: both sides compute it).
pub(crate) fn table_weights(g: &UnaryGeom, log: usize, alpha: EF, beta: EF) -> Result<Vec<EF>> {
    let d: Vec<EF> = table_values(g, log, beta)
        .into_iter()
        .map(|t| alpha - t)
        .collect();
    if d.contains(&EF::ZERO) {
        return Err(ProofError::Lookup(format!(
            "the challenge α is an entry of the '{}' table (probability 2^-120)",
            g.func
        )));
    }
    Ok(batch_multiplicative_inverse(&d))
}

/// The looked-up value of a row: a + β·b + β²·p.
pub(crate) fn combine(a: EF, b: EF, p: EF, beta: EF) -> EF {
    a + beta * (b + beta * p)
}

/// A table block's group in the lookup sumcheck: tables [E, h, a, b, p].
pub(crate) fn summand(alpha: EF, beta: EF, mu: EF) -> impl Fn(&[EF]) -> EF + Sync + 'static {
    move |v: &[EF]| mu * v[0] * (v[1] * (alpha - combine(v[2], v[3], v[4], beta)) - EF::ONE) + v[1]
}

/// How often each table entry is looked up: real rows at their input's entry, padding rows at
/// the padding entry (index len). An input outside the table counts nowhere, so the lookup is
/// unbalanced and the proof fails (the forward pass refuses such inputs first).
pub(crate) fn multiplicities(u: &UnaryLookup, cols: &[Vec<F>]) -> Vec<F> {
    let mut counts = vec![0u64; 1 << u.table_log];
    let log_size = u.shape.log_size();
    for i in 0..1usize << u.log_len {
        let j = if is_padding(u.shape, log_size, i) {
            Some(u.entries)
        } else {
            usize::try_from(crate::field::to_i64(cols[u.input][i]) - u.lo)
                .ok()
                .filter(|&j| j < u.entries)
        };
        if let Some(c) = j.and_then(|j| counts.get_mut(j)) {
            *c += 1;
        }
    }
    counts.into_iter().map(F::from_u64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mle::evaluate;

    #[test]
    fn succinct_padding_indicator_matches_the_column() {
        for (channels, len, log_batch) in [(1, 1, 0), (1, 5, 1), (3, 4, 0), (3, 6, 2), (5, 16, 1)] {
            let shape = ActShape { channels, len };
            let u = UnaryLookup {
                layer: 0,
                input: 0,
                output: 0,
                shape,
                log_len: shape.log_size() + log_batch,
                table_log: 3,
                mult: 0,
                lo: 0,
                entries: 4,
            };
            let point: Vec<EF> = (0..u.log_len)
                .map(|i| EF::from_u64(7 + 13 * i as u64))
                .collect();
            assert_eq!(
                evaluate(&padding_column(&u), &point),
                padding_eval(&u, &point),
                "{channels}x{len}, batch 2^{log_batch}"
            );
        }
    }
}
