//! Masked columns (Libra's masking, Xie et al. 2019, §4.1, adapted to a multilinear PCS): how a
//! committed table holds its columns P and their random masks, and which linear functional of
//! the table a masked evaluation is.
//!
//! For a column with local variables z the protocol never uses P̃ itself but the masked
//! Ṗ(z) = P̃(z) + z₀(1 − z₀)·R(z): it equals P on the hypercube, so every sum the protocol proves
//! is unchanged, while at the points it reveals it is P̃ plus a random value. R is a uniformly
//! random multilinear polynomial from a space much smaller than the column: multilinear in the
//! first m local variables (a table A of 2^m entries) and affine in the others (coefficients B),
//! R(z) = Ã(z[..m]) + Σ_j B_j·z[m + j] — 2^m + k − m dimensions for k variables, the whole
//! column when k ≤ m. A and B are extra columns of the same committed table, so a masked value
//! is one linear functional of it, eq(c's point) + ζ·eq(A's point) + Σ_j ζ·z[m + j]·[B_j]
//! with ζ = z₀(1 − z₀) ([`MaskedLayout::terms`]); a batching sumcheck (`open.rs`) turns any
//! number of them into one opening. m is as large as fits in the power-of-two table the
//! columns need (so the masks usually cost nothing; a table the columns fill grows by one
//! variable, and its masks are then up to full size), at least [`MIN_MASK_VARS`].
//! Columns whose values are public (the output, a public input, the sumcheck mask columns) have
//! no mask and are plain points of the table.
//!
//! Extension-field columns (the LogUp inverses) are stored as two base-field halves, the top local
//! variable choosing the half; c₀(z) + ω·c₁(z) = (1 + ω)·C(z, ω/(1 + ω)) is again one opening.

use p3_field::{BasedVectorSpace, PrimeCharacteristicRing};

use crate::error::Result;
use crate::field::{EF, F};
use crate::layout::Layout;
use crate::mle::{bits_as_point, eq_eval, log2_ceil};
use crate::zk::sumcheck::invert;

/// The smallest m (variables of a mask's multilinear part) a layout uses.
pub const MIN_MASK_VARS: usize = 4;
/// The largest m tried.
const MAX_MASK_VARS: usize = 20;

/// The extension generator ω (EF = F[ω]/(ω² − 7)).
pub fn omega() -> EF {
    EF::from_basis_coefficients_slice(&[F::ZERO, F::ONE]).expect("two coefficients")
}

/// Splits EF values into the two base-field halves of a 2^(k+1) column: [c₀ | c₁].
pub fn split_ext(values: &[EF]) -> Vec<F> {
    let mut lo = Vec::with_capacity(2 * values.len());
    let mut hi = Vec::with_capacity(values.len());
    for v in values {
        let c = v.as_basis_coefficients_slice();
        lo.push(c[0]);
        hi.push(c[1]);
    }
    lo.extend(hi);
    lo
}

/// The EF table c₀ + ω·c₁ of a split column.
pub fn join_ext(col: &[F]) -> Vec<EF> {
    let (lo, hi) = col.split_at(col.len() / 2);
    let w = omega();
    lo.iter()
        .zip(hi)
        .map(|(&a, &b)| EF::from(a) + w * b)
        .collect()
}

/// The local point on a split column whose opening is (c₀(z) + ω·c₁(z))/(1 + ω), and that factor.
pub fn ext_point(z: &[EF]) -> Result<(Vec<EF>, EF)> {
    let w = omega();
    let inv = invert(EF::ONE + w, "extension-field column")?;
    let mut p = z.to_vec();
    p.push(w * inv);
    Ok((p, inv))
}

/// Where a masked column's mask lives: the layout columns of A (2^m entries) and of B (the
/// k − m affine coefficients, when k > m).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct MaskSlots {
    a: usize,
    m: usize,
    b: Option<usize>,
}

/// One column's mask: A (2^m values) and B (k − m values).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ColumnMask {
    pub a: Vec<F>,
    pub b: Vec<F>,
}

/// One term of a masked evaluation as a functional of the table: `weight`·T̃(point on `col`), or
/// `weight`·(entry `index` of `col`).
#[derive(Clone, Debug)]
pub enum Term {
    Point {
        col: usize,
        point: Vec<EF>,
        weight: EF,
    },
    Entry {
        col: usize,
        index: usize,
        weight: EF,
    },
}

/// A committed table: the caller's columns (indices kept), then each masked column's A and B.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MaskedLayout {
    pub layout: Layout,
    /// Which of the caller's columns are masked.
    pub masked: Vec<bool>,
    slots: Vec<Option<MaskSlots>>,
}

impl MaskedLayout {
    /// The table for columns of the given log2 sizes; `masked[c]` says which carry a mask (every
    /// masked column needs at least one variable, for its z₀). The masks are as large as fit
    /// (m at most 20) in the smallest table that holds the columns and masks with m = 4.
    pub fn new(logs: &[usize], masked: &[bool]) -> Self {
        let widest = logs
            .iter()
            .zip(masked)
            .filter(|&(_, &m)| m)
            .map(|(&k, _)| k)
            .max()
            .unwrap_or(0);
        let largest = widest.clamp(MIN_MASK_VARS, MAX_MASK_VARS);
        // The smallest table size that holds the columns with some masks, then the largest masks
        // that fit in it (a table the columns fill must grow anyway: the masks then take up to
        // as much room as the columns).
        let mut vars = Layout::new(logs).num_vars;
        loop {
            for m in (MIN_MASK_VARS..=largest).rev() {
                let candidate = Self::with_mask_vars(logs, masked, m);
                if candidate.layout.num_vars <= vars {
                    return candidate;
                }
            }
            vars += 1;
        }
    }

    fn with_mask_vars(logs: &[usize], masked: &[bool], m_max: usize) -> Self {
        let mut all = logs.to_vec();
        let mut slots = vec![None; logs.len()];
        for (c, (&k, &is_masked)) in logs.iter().zip(masked).enumerate() {
            if !is_masked {
                continue;
            }
            let m = k.min(m_max);
            let a = all.len();
            all.push(m);
            let b = (k > m).then(|| {
                all.push(log2_ceil(k - m));
                all.len() - 1
            });
            slots[c] = Some(MaskSlots { a, m, b });
        }
        Self {
            layout: Layout::new(&all),
            masked: masked.to_vec(),
            slots,
        }
    }

    /// Variables of the committed table.
    pub fn num_vars(&self) -> usize {
        self.layout.num_vars
    }

    /// Local variables of the caller's column `c`.
    pub fn col_vars(&self, c: usize) -> usize {
        self.layout.columns[c].1
    }

    /// Dimension of column `c`'s mask space V (2^m + k − m; 0 for an unmasked column): how many
    /// independent linear functionals of the column the masks can hide (`zk/budget.rs`).
    pub fn mask_dim(&self, c: usize) -> usize {
        self.slots[c].map_or(0, |s| (1usize << s.m) + self.col_vars(c) - s.m)
    }

    /// Uniformly random masks for the masked columns (empty for the others).
    pub fn draw(&self, rng: &mut impl rand::Rng) -> Vec<ColumnMask> {
        let random = |n: usize, rng: &mut _| (0..n).map(|_| super::random_base(rng)).collect();
        (0..self.masked.len())
            .map(|c| match self.slots[c] {
                None => ColumnMask::default(),
                Some(s) => ColumnMask {
                    a: random(1 << s.m, rng),
                    b: random(self.col_vars(c) - s.m, rng),
                },
            })
            .collect()
    }

    /// The committed table: every column and mask at its offset, zero elsewhere.
    pub fn table(&self, cols: &[Vec<F>], masks: &[ColumnMask]) -> Vec<F> {
        let mut out = vec![F::ZERO; self.layout.len()];
        let mut put = |col: usize, values: &[F]| {
            let off = self.layout.columns[col].0;
            out[off..off + values.len()].copy_from_slice(values);
        };
        for (c, col) in cols.iter().enumerate() {
            assert_eq!(
                col.len(),
                1 << self.col_vars(c),
                "column size does not match the layout"
            );
            put(c, col);
        }
        for (slot, mask) in self.slots.iter().zip(masks) {
            if let Some(s) = slot {
                put(s.a, &mask.a);
                if let Some(b) = s.b {
                    put(b, &mask.b);
                }
            }
        }
        out
    }

    /// R of column `c` on its whole hypercube (the sumchecks use Ṗ = P + ζ·R as tables).
    pub fn expand(&self, c: usize, mask: &ColumnMask) -> Vec<F> {
        let k = self.col_vars(c);
        let Some(s) = self.slots[c] else {
            return vec![F::ZERO; 1 << k];
        };
        let low = (1usize << s.m) - 1;
        (0..1usize << k)
            .map(|x| {
                let affine: F = mask
                    .b
                    .iter()
                    .enumerate()
                    .filter(|&(j, _)| (x >> (s.m + j)) & 1 == 1)
                    .map(|(_, &v)| v)
                    .sum();
                mask.a[x & low] + affine
            })
            .collect()
    }

    /// Fresh masks from `rng`: the committed table, and every column's R on its whole hypercube.
    pub fn masked_table(&self, cols: &[Vec<F>], rng: &mut impl rand::Rng) -> (Vec<F>, Vec<Vec<F>>) {
        let masks = self.draw(rng);
        (self.table(cols, &masks), self.expand_all(&masks))
    }

    /// Every column's R on its whole hypercube.
    pub fn expand_all(&self, masks: &[ColumnMask]) -> Vec<Vec<F>> {
        masks
            .iter()
            .enumerate()
            .map(|(c, m)| self.expand(c, m))
            .collect()
    }

    /// The value at `z` of column `c` (masked: Ṗ(z)) as a functional of the table.
    pub fn terms(&self, c: usize, z: &[EF]) -> Vec<Term> {
        let mut out = vec![Term::Point {
            col: c,
            point: z.to_vec(),
            weight: EF::ONE,
        }];
        if let Some(s) = self.slots[c] {
            let zeta = z[0] * (EF::ONE - z[0]);
            out.push(Term::Point {
                col: s.a,
                point: z[..s.m].to_vec(),
                weight: zeta,
            });
            if let Some(b) = s.b {
                out.extend(z[s.m..].iter().enumerate().map(|(index, &zj)| Term::Entry {
                    col: b,
                    index,
                    weight: zeta * zj,
                }));
            }
        }
        out
    }

    /// The table point of an unmasked column's value at `z` (a direct PCS point).
    pub fn point(&self, c: usize, z: &[EF]) -> Option<Vec<EF>> {
        (!self.masked[c]).then(|| self.layout.embed(c, z))
    }

    /// Σ weight·eq(term point, ρ): what the terms weigh at the table point ρ.
    pub fn weigh(&self, terms: &[Term], rho: &[EF]) -> EF {
        terms
            .iter()
            .map(|t| match t {
                Term::Point { col, point, weight } => {
                    *weight * eq_eval(&self.layout.embed(*col, point), rho)
                }
                Term::Entry { col, index, weight } => {
                    *weight
                        * eq_eval(
                            &self
                                .layout
                                .embed(*col, &bits_as_point(*index, self.layout.columns[*col].1)),
                            rho,
                        )
                }
            })
            .sum()
    }

    /// Adds `scale`·(the terms' weights) into the table-sized W.
    pub fn add_weights(&self, terms: &[Term], scale: EF, w: &mut [EF]) {
        for t in terms {
            match t {
                Term::Point { col, point, weight } => {
                    let off = self.layout.columns[*col].0;
                    let g = scale * *weight;
                    for (j, e) in crate::mle::eq_table(point).into_iter().enumerate() {
                        w[off + j] += g * e;
                    }
                }
                Term::Entry { col, index, weight } => {
                    w[self.layout.columns[*col].0 + index] += scale * *weight
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mle::{evaluate, evaluate_base};
    use rand::SeedableRng;

    /// Ṗ at a point from P and R tables.
    fn masked_eval(p: &[EF], r: &[EF], point: &[EF]) -> EF {
        let z = point[0] * (EF::ONE - point[0]);
        evaluate(p, point) + z * evaluate(r, point)
    }

    fn point(k: usize, seed: u64) -> Vec<EF> {
        (0..k)
            .map(|i| EF::from_u64(11 + 3 * i as u64 + seed) * omega() + EF::from_u64(5 + seed))
            .collect()
    }

    /// A masked value is the inner product of the table with the terms' weights, and the
    /// verifier's `weigh` is the MLE of those weights.
    fn check(logs: &[usize], masked: &[bool]) {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let ml = MaskedLayout::new(logs, masked);
        let cols: Vec<Vec<F>> = logs
            .iter()
            .map(|&k| (0..1u64 << k).map(|i| F::from_u64(i * 7 + 1)).collect())
            .collect();
        let masks = ml.draw(&mut rng);
        let table = ml.table(&cols, &masks);
        let rho = point(ml.num_vars(), 100);
        for (c, &k) in logs.iter().enumerate() {
            let z = point(k, c as u64);
            let pe: Vec<EF> = cols[c].iter().map(|&x| EF::from(x)).collect();
            let re: Vec<EF> = ml
                .expand(c, &masks[c])
                .iter()
                .map(|&x| EF::from(x))
                .collect();
            let value = masked_eval(&pe, &re, &z);
            let terms = ml.terms(c, &z);
            let mut w = vec![EF::ZERO; table.len()];
            ml.add_weights(&terms, EF::ONE, &mut w);
            let inner: EF = table.iter().zip(&w).map(|(&t, &x)| x * t).sum();
            assert_eq!(inner, value, "column {c}");
            assert_eq!(ml.weigh(&terms, &rho), evaluate(&w, &rho), "column {c}");
            if !masked[c] {
                assert_eq!(evaluate_base(&table, &ml.point(c, &z).unwrap()), value);
            }
        }
    }

    #[test]
    fn masked_values_are_functionals_of_the_table() {
        check(&[3, 2, 1], &[true, false, true]);
        // Columns wider than the mask's multilinear part get affine coefficients.
        check(&[9, 9, 8, 2], &[true, true, true, false]);
        check(&[12, 6, 1], &[true, true, true]);
    }

    #[test]
    fn masks_fill_the_free_space() {
        // 2^9 + 2^8 + 4 entries leave room in 2^10: the masks take it.
        let ml = MaskedLayout::new(&[9, 8, 2], &[true, true, true]);
        assert_eq!(ml.num_vars(), 10);
        // A full table grows by one variable, and its masks take the new room: full-size masks.
        let full = MaskedLayout::new(&[10, 10], &[true, true]);
        assert_eq!(full.num_vars(), 12);
        assert_eq!(full.slots[0].unwrap().m, 10);
        // A single full column (a committed input) likewise gets a mask of its own size.
        assert_eq!(MaskedLayout::new(&[9], &[true]).slots[0].unwrap().m, 9);
    }

    #[test]
    fn split_columns_open_as_one_point() {
        let vals: Vec<EF> = (0..8u64)
            .map(|i| EF::from_u64(i + 2) + omega() * EF::from_u64(3 * i + 1))
            .collect();
        let col = split_ext(&vals);
        let z: Vec<EF> = (0..3).map(|i| EF::from_u64(9 + i) + omega()).collect();
        let (p, factor) = ext_point(&z).unwrap();
        assert_eq!(evaluate_base(&col, &p), evaluate(&vals, &z) * factor);
        assert_eq!(join_ext(&col), vals);
    }
}
