//! What a data-property proof's public statement implies (`props.rs` proves it, `verify.rs`
//! checks it): the lookups, the auxiliary columns and their layouts, the challenges, the public
//! claim and the summands both sides evaluate.

use p3_field::PrimeCharacteristicRing;

use super::commit::MIN_ROW_VARS;
use super::{PropertySpec, RANGE_BITS};
use crate::error::Result;
use crate::field::{EF, F};
use crate::mle::log2_ceil;
use crate::transcript::Transcript;
use crate::zk::masked::{MaskedLayout, ext_point};
use crate::zk::masks::MaskPlan;
use crate::zk::open::{self, ColumnClaim};
use crate::zk::sumcheck::invert;

pub(super) const DOMAIN: &[u8] = b"zkgrad/data-properties/v1";

/// Where a looked-up value lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Src {
    /// A dataset column.
    Data(usize),
    /// A column of the auxiliary table.
    Aux(usize),
}

/// One lookup: v(x) + off(x) in the range table (or, for the labels, the class table), on the
/// rows sel(x) = 1.
pub(super) struct Lookup {
    pub src: Src,
    pub k: usize,
    /// The public offset (a constant, or one value per row).
    pub off: Off,
    /// The public row selector.
    pub sel: Sel,
    /// Against the class table (the labels) instead of the range table.
    pub class: bool,
}

/// A lookup's public offset: one constant (a feature's bound) or one value per row (a class's).
pub(super) enum Off {
    Const(F),
    Table(Vec<F>),
}

impl Off {
    /// Its value in the sumcheck's last check at z (`pad`: the zero-padding factor past its
    /// lookup's variables, which a constant does not carry: see `prove`).
    pub fn eval(&self, z: &[EF], pad: EF) -> EF {
        match self {
            Off::Const(c) => EF::from(*c),
            Off::Table(t) => crate::mle::evaluate_base(t, z) * pad,
        }
    }

    /// Its value on row x.
    pub fn at(&self, x: usize) -> F {
        match self {
            Off::Const(c) => *c,
            Off::Table(t) => t[x],
        }
    }
}

/// A lookup's public row selector: the first n rows, or one 0/1 value per row (the bounded
/// classes). The verifier evaluates a prefix in O(variables), never as a table.
pub(super) enum Sel {
    Prefix(usize),
    Table(Vec<F>),
}

impl Sel {
    /// Its multilinear extension at z.
    pub fn eval(&self, z: &[EF]) -> EF {
        match self {
            Sel::Prefix(n) => crate::zk::dense::prefix_eval(z, *n),
            Sel::Table(t) => crate::mle::evaluate_base(t, z),
        }
    }

    /// Its values on the 2^k rows (the prover's table).
    pub fn table(&self, k: usize) -> Vec<F> {
        match self {
            Sel::Prefix(n) => prefix(*n, k),
            Sel::Table(t) => t.clone(),
        }
    }
}

/// What the public statement implies: lookups, columns, layouts, round degrees.
pub(super) struct Plan {
    pub lookups: Vec<Lookup>,
    /// Row variables of the dataset columns.
    pub k: usize,
    pub rows: usize,
    /// (dataset column, sum lo, sum hi).
    pub sums: Vec<(usize, i64, i64)>,
    /// (dataset column, shift c, lo, hi) per variance bound.
    pub variances: Vec<(usize, i64, i64, i64)>,
    /// Auxiliary columns: multiplicities, then counts (if classes), then limbs lo, hi (if sums),
    /// then the variances' columns.
    pub mult: usize,
    pub counts: Option<(usize, usize)>,
    pub limbs: Option<(usize, usize, usize)>,
    pub var_cols: Option<VarCols>,
    pub classes: usize,
    pub vars: usize,
    pub aux_layout: MaskedLayout,
    pub mask_plan: MaskPlan,
    pub mask_first: usize,
    pub inverse_layout: MaskedLayout,
}

/// The variance bounds' auxiliary columns, each of 2^vars entries: `sums` holds s at 2v and q
/// at 2v + 1; `limbs` the four base-2^16 digits of e₀ (at 2v) and e₁ (at 2v + 1).
#[derive(Clone, Copy, Debug)]
pub(super) struct VarCols {
    pub sums: usize,
    pub limbs: [usize; VAR_LIMBS],
    pub vars: usize,
}

/// Limbs of a variance slack: 4 × 16 bits, the top one below 2^14 (e < 2^62 < p/4).
pub(super) const VAR_LIMBS: usize = 4;
/// Bits of a variance slack's top limb.
pub(super) const VAR_TOP_BITS: usize = 14;

/// The public row selector S as a table: 1 on the first n of 2^k rows.
pub(super) fn prefix(n: usize, k: usize) -> Vec<F> {
    (0..1usize << k)
        .map(|i| if i < n { F::ONE } else { F::ZERO })
        .collect()
}

impl Plan {
    pub fn new(c: &super::DatasetCommitment, spec: &PropertySpec) -> Result<Self> {
        spec.validate(c)?;
        let (k, rows) = (c.row_vars(), c.rows as usize);
        let t16 = 1i64 << RANGE_BITS;
        let fi = crate::field::from_i64;
        let mut lookups = Vec::new();
        let mut aux_logs = vec![RANGE_BITS];
        for r in &spec.ranges {
            for off in [-r.lo, t16 - 1 - r.hi] {
                lookups.push(Lookup {
                    src: Src::Data(r.feature as usize),
                    k,
                    off: Off::Const(fi(off)),
                    sel: Sel::Prefix(rows),
                    class: false,
                });
            }
        }
        let (mut counts, mut classes) = (None, 0);
        if let Some(cs) = &spec.classes {
            classes = cs.classes as usize;
            let kc = log2_ceil(classes).max(MIN_ROW_VARS);
            let col = aux_logs.len();
            aux_logs.push(kc);
            counts = Some((col, kc));
            lookups.push(Lookup {
                src: Src::Data(c.features as usize),
                k,
                off: Off::Const(F::ZERO),
                sel: Sel::Prefix(rows),
                class: true,
            });
            // Count bounds: only the classes the spec constrains.
            let bounded = |t: usize| {
                let (lo, hi) = cs.counts[t];
                !(lo == 0 && hi >= c.rows)
            };
            if (0..classes).any(bounded) {
                let (mut sel, mut lo, mut hi) = (
                    vec![F::ZERO; 1 << kc],
                    vec![F::ZERO; 1 << kc],
                    vec![F::ZERO; 1 << kc],
                );
                for t in (0..classes).filter(|&t| bounded(t)) {
                    let (a, b) = cs.counts[t];
                    sel[t] = F::ONE;
                    lo[t] = fi(-(a as i64));
                    hi[t] = fi(t16 - 1 - b.min(c.rows) as i64);
                }
                for off in [lo, hi] {
                    lookups.push(Lookup {
                        src: Src::Aux(col),
                        k: kc,
                        off: Off::Table(off),
                        sel: Sel::Table(sel.clone()),
                        class: false,
                    });
                }
            }
        }
        let sums: Vec<(usize, i64, i64)> = spec
            .sums
            .iter()
            .map(|s| (s.feature as usize, s.lo, s.hi))
            .collect();
        let mut limbs = None;
        if !sums.is_empty() {
            let a = log2_ceil(2 * sums.len()).max(MIN_ROW_VARS);
            let lo = aux_logs.len();
            aux_logs.extend([a, a]);
            limbs = Some((lo, lo + 1, a));
            for col in [lo, lo + 1] {
                lookups.push(Lookup {
                    src: Src::Aux(col),
                    k: a,
                    off: Off::Const(F::ZERO),
                    sel: Sel::Prefix(2 * sums.len()),
                    class: false,
                });
            }
        }
        let variances: Vec<(usize, i64, i64, i64)> = spec
            .variances
            .iter()
            .map(|v| {
                let r = spec.ranges.iter().find(|r| r.feature == v.feature);
                (v.feature as usize, r.expect("validated").lo, v.lo, v.hi)
            })
            .collect();
        let mut var_cols = None;
        if !variances.is_empty() {
            let b = log2_ceil(2 * variances.len()).max(MIN_ROW_VARS);
            let first = aux_logs.len();
            aux_logs.extend([b; 1 + VAR_LIMBS]);
            let limbs = std::array::from_fn(|i| first + 1 + i);
            var_cols = Some(VarCols {
                sums: first,
                limbs,
                vars: b,
            });
            let top = t16 - (1 << VAR_TOP_BITS);
            for (i, &col) in limbs.iter().enumerate() {
                let offs: &[i64] = if i + 1 == VAR_LIMBS { &[0, top] } else { &[0] };
                for &off in offs {
                    lookups.push(Lookup {
                        src: Src::Aux(col),
                        k: b,
                        off: Off::Const(fi(off)),
                        sel: Sel::Prefix(2 * variances.len()),
                        class: false,
                    });
                }
            }
        }
        let vars = lookups
            .iter()
            .map(|l| l.k)
            .chain([RANGE_BITS, k])
            .max()
            .unwrap_or(k);
        let inverse_layout = MaskedLayout::new(
            &lookups.iter().map(|l| l.k + 1).collect::<Vec<_>>(),
            &vec![true; lookups.len()],
        );
        // The auxiliary table holds every sumcheck mask of the proof, its own batching's
        // included: grow it to a fixed point (as the range certificate's limb table).
        let mask_first = aux_logs.len();
        let data_vars = c.layout().num_vars();
        let mut tv = 1;
        loop {
            let mask_plan = MaskPlan::new(vec![
                (0..vars).map(|l| if l == 0 { 7 } else { 3 }).collect(),
                open::schedule(inverse_layout.num_vars()),
                open::schedule(data_vars),
                open::schedule(tv),
            ]);
            let logs: Vec<usize> = aux_logs.iter().chain(&mask_plan.logs).copied().collect();
            let mut masked = vec![true; aux_logs.len()];
            masked.resize(logs.len(), false);
            let aux_layout = MaskedLayout::new(&logs, &masked);
            if aux_layout.num_vars() <= tv {
                return Ok(Self {
                    lookups,
                    k,
                    rows,
                    sums,
                    variances,
                    mult: 0,
                    counts,
                    limbs,
                    var_cols,
                    classes,
                    vars,
                    aux_layout,
                    mask_plan,
                    mask_first,
                    inverse_layout,
                });
            }
            tv = aux_layout.num_vars();
        }
    }

    /// The dataset columns whose values the proof reveals, each once, in order.
    pub fn data_columns(&self) -> Vec<usize> {
        let mut out: Vec<usize> = Vec::new();
        let reads = self.lookups.iter().filter_map(|l| match l.src {
            Src::Data(c) => Some(c),
            Src::Aux(_) => None,
        });
        let summed = self.sums.iter().map(|s| s.0);
        for c in reads
            .chain(summed)
            .chain(self.variances.iter().map(|v| v.0))
        {
            if !out.contains(&c) {
                out.push(c);
            }
        }
        out
    }

    /// The auxiliary columns (and their variables) whose values the proof reveals, in order.
    pub fn aux_columns(&self) -> Vec<(usize, usize)> {
        let mut out = vec![(self.mult, RANGE_BITS)];
        out.extend(self.counts);
        if let Some((lo, hi, a)) = self.limbs {
            out.extend([(lo, a), (hi, a)]);
        }
        if let Some(v) = self.var_cols {
            out.push((v.sums, v.vars));
            out.extend(v.limbs.map(|c| (c, v.vars)));
        }
        out
    }

    /// The claims the sumcheck's values make on the inverse, dataset and auxiliary tables.
    pub fn claims(
        &self,
        point: &[EF],
        inverses: &[EF],
        values: &[EF],
    ) -> Result<[Vec<ColumnClaim>; 3]> {
        let mut inv = Vec::new();
        for (l, lk) in self.lookups.iter().enumerate() {
            let (p, factor) = ext_point(&point[..lk.k])?;
            inv.push((l, p, inverses[l] * factor));
        }
        let dc = self.data_columns();
        let data = dc
            .iter()
            .zip(values)
            .map(|(&c, &v)| (c, point[..self.k].to_vec(), v))
            .collect();
        let aux = self
            .aux_columns()
            .iter()
            .zip(&values[dc.len()..])
            .map(|(&(c, k), &v)| (c, point[..k].to_vec(), v))
            .collect();
        Ok([inv, data, aux])
    }

    /// The value the proof reveals for a lookup's source column (from `values`).
    pub fn source_value(&self, src: Src, values: &[EF]) -> EF {
        let dc = self.data_columns();
        match src {
            Src::Data(c) => values[dc.iter().position(|&d| d == c).expect("read columns")],
            Src::Aux(c) => {
                let i = self.aux_columns().iter().position(|&(d, _)| d == c);
                values[dc.len() + i.expect("aux columns")]
            }
        }
    }

    /// 1/(α − t) over the class table (t < K), zero past it.
    pub fn class_weights(&self, alpha: EF, kc: usize) -> Result<Vec<EF>> {
        let mut w = vec![EF::ZERO; 1 << kc];
        for (t, x) in w.iter_mut().enumerate().take(self.classes) {
            *x = invert(alpha - EF::from_usize(t), "class table")?;
        }
        Ok(w)
    }
}

/// The transcript's start: domain, dataset digest, statement.
pub(super) fn start(digest: &[u8; 32], spec: &PropertySpec) -> Transcript {
    let mut tr = Transcript::new(DOMAIN);
    tr.absorb_bytes("dataset", digest);
    tr.absorb_bytes("spec", &spec.to_bytes());
    tr
}

/// Challenges after the commitments: μ per lookup, ν_c, (ν₀, ν₁) per sum, ρ per variance.
pub(super) struct Challenges {
    pub tau: Vec<EF>,
    pub mus: Vec<EF>,
    pub nu_class: EF,
    pub nu_sums: Vec<(EF, EF)>,
    pub rho_vars: Vec<VarRho>,
}

/// One variance bound's weights: for Σx' = s, Σx'² = q, n·q − s² − e₀ = lo, n·q − s² + e₁ = hi.
#[derive(Clone, Copy, Debug)]
pub(super) struct VarRho {
    pub s: EF,
    pub q: EF,
    pub lo: EF,
    pub hi: EF,
}

impl Challenges {
    pub fn draw(plan: &Plan, tr: &mut Transcript) -> Self {
        let tau = tr.challenge_point("data-tau", plan.vars);
        let mus = (0..plan.lookups.len())
            .map(|_| tr.challenge("data-mu"))
            .collect();
        let nu_class = tr.challenge("data-nu-class");
        let nu_sums = (0..plan.sums.len())
            .map(|_| (tr.challenge("data-nu-lo"), tr.challenge("data-nu-hi")))
            .collect();
        let rho_vars = (0..plan.variances.len())
            .map(|_| VarRho {
                s: tr.challenge("data-rho-sum"),
                q: tr.challenge("data-rho-squares"),
                lo: tr.challenge("data-rho-lo"),
                hi: tr.challenge("data-rho-hi"),
            })
            .collect();
        Self {
            tau,
            mus,
            nu_class,
            nu_sums,
            rho_vars,
        }
    }

    /// The sumcheck's public claim: Σ_s ν₀·lo_s − ν₁·hi_s, plus Σ_v ρ_lo·lo_v + ρ_hi·hi_v.
    pub fn claim(&self, plan: &Plan) -> EF {
        let fi = |v: i64| EF::from(crate::field::from_i64(v));
        let variances: EF = plan
            .variances
            .iter()
            .zip(&self.rho_vars)
            .map(|(&(_, _, lo, hi), r)| r.lo * fi(lo) + r.hi * fi(hi))
            .sum();
        variances
            + plan
                .sums
                .iter()
                .zip(&self.nu_sums)
                .map(|(&(_, lo, hi), &(a, b))| {
                    a * EF::from(crate::field::from_i64(lo))
                        - b * EF::from(crate::field::from_i64(hi))
                })
                .sum::<EF>()
    }

    /// E over the limb entries: ν₀ at 2s, ν₁ at 2s + 1.
    pub fn limb_weights(&self, a: usize) -> Vec<EF> {
        let mut e = vec![EF::ZERO; 1 << a];
        for (s, &(n0, n1)) in self.nu_sums.iter().enumerate() {
            e[2 * s] = n0;
            e[2 * s + 1] = n1;
        }
        e
    }

    /// The variances' weights over their `sums` column: (W_lin, W_sq), the group
    /// Σ_y W_lin(y)·v(y) − W_sq(y)·v(y)² = Σ_v −ρ_s·s + (n(ρ_lo + ρ_hi) − ρ_q)·q − (ρ_lo + ρ_hi)·s².
    pub fn variance_weights(&self, rows: usize, b: usize) -> (Vec<EF>, Vec<EF>) {
        let (mut lin, mut sq) = (vec![EF::ZERO; 1 << b], vec![EF::ZERO; 1 << b]);
        let n = EF::from_usize(rows);
        for (v, r) in self.rho_vars.iter().enumerate() {
            lin[2 * v] = -r.s;
            lin[2 * v + 1] = n * (r.lo + r.hi) - r.q;
            sq[2 * v] = r.lo + r.hi;
        }
        (lin, sq)
    }

    /// The variances' weights over their limbs: ρ_lo at 2v (−e₀), −ρ_hi at 2v + 1 (+e₁).
    pub fn variance_limb_weights(&self, b: usize) -> Vec<EF> {
        let mut e = vec![EF::ZERO; 1 << b];
        for (v, r) in self.rho_vars.iter().enumerate() {
            e[2 * v] = r.lo;
            e[2 * v + 1] = -r.hi;
        }
        e
    }
}

/// A variance bound's summand over [sel, x]: ρ_s·sel·(x − c) + ρ_q·sel·(x − c)².
pub(super) fn variance_summand(r: VarRho, c: EF) -> impl Fn(&[EF]) -> EF + Sync + 'static {
    move |v: &[EF]| {
        let d = v[1] - c;
        v[0] * d * (r.s + r.q * d)
    }
}

/// The variance limbs' summand over [W, l₀..l₃]: −W·(l₀ + B·l₁ + B²·l₂ + B³·l₃).
pub(super) fn variance_limb_summand(v: &[EF]) -> EF {
    let base = EF::from_u64(LIMB_BASE);
    -(v[0] * (v[1] + base * (v[2] + base * (v[3] + base * v[4]))))
}

/// The lookup summand over [eq, ḣ, v̇, sel, off]: μ·eq·(h·(α − v − off) − 1) + w·sel·h.
pub(super) fn lookup_summand(alpha: EF, mu: EF, w: EF) -> impl Fn(&[EF]) -> EF + Sync + 'static {
    move |v: &[EF]| mu * v[0] * (v[1] * (alpha - v[2] - v[4]) - EF::ONE) + w * v[3] * v[1]
}

pub(super) const LIMB_BASE: u64 = 1 << RANGE_BITS;
