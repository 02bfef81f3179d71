//! What an accuracy attestation's relation is, shared by its prover (`attest_prove.rs`) and
//! verifier (`attest_verify.rs`): the auxiliary table's columns, the sumchecks and their round
//! degrees, the summands, and how the model's input claims become functionals of the dataset
//! table (`dataset_input_functional`, the one place that reads the dataset table as the model's
//! input).
//!
//! Over the row index n (k variables, S(n) = [n < m] public) and the classes j < K:
//!
//! - the logits z(j, n) of the last block are copied into aux columns Z_j(n), linked to the
//!   witness's (hidden, masked) output column a by the zero-check
//!   Σ_{i,n} eq(τ', (i, n))·[i < K]·(a(i, n) − Σ_j [i = j]·Z_j(n)) = 0 (the "link" sumcheck: it
//!   leaves one claim on a at a random point, so the logits stay masked);
//! - pred is one-hot: P_j ∈ {0, 1}, Σ_j P_j = 1 on real rows;
//! - pred is numpy's argmax: D_j = Σ_i P_i·Z_i − Z_j − Σ_{i>j} P_i is in [0, 2^16) on real rows
//!   (a LogUp range lookup, committed inverses), so z_pred ≥ z_j, strictly for j < pred;
//! - the labels y (the dataset's label column) lie in {0..K−1}: Π_t (y − t) = 0 on real rows;
//! - c = Σ_n S(n)·Σ_j P_j(n)·L_j(y(n)), L_j the Lagrange basis on {0..K−1} (so L_j(y) = [y = j]);
//!   with a confusion matrix, each cell c_tj = Σ_n S(n)·P_j(n)·L_t(y(n)) (label t, prediction j),
//!   the claim then Σ_{t,j} W_tj·c_tj with one challenge W_tj per cell.
//!
//! All per-row checks are one zero-check weighted by random λs inside the "main" sumcheck, whose
//! public claim is ν·c.

use p3_field::{Field, PrimeCharacteristicRing};

use super::RANGE_BITS;
use super::commit::DatasetCommitment;
use crate::circuit::CircuitSpec;
use crate::error::{ProofError, Result};
use crate::field::EF;
use crate::mle::{bits_as_point, eq_eval};
use crate::transcript::Transcript;
use crate::witness::WitnessPlan;
use crate::zk::masked::{LiftPoint, MaskedLayout, Term};
use crate::zk::masks::MaskPlan;
use crate::zk::open::{ColumnClaim, Functional};

/// Domain separator of the attestation protocol.
pub const DOMAIN: &[u8] = b"zkgrad/accuracy-attestation/v1";

/// Sumchecks whose masks live in the aux table, in transcript order.
pub(super) const MAIN: usize = 0;
pub(super) const LINK: usize = 1;
pub(super) const OPEN_INV: usize = 2;
pub(super) const OPEN_DATA: usize = 3;
pub(super) const OPEN_AUX: usize = 4;

/// The public shape of an attestation and every layout it implies.
pub(super) struct ArgmaxPlan {
    /// Row variables (the dataset's), rows m and classes K.
    pub k: usize,
    pub rows: usize,
    pub classes: usize,
    /// Variables of the output index of the last block.
    pub log_out: usize,
    /// The witness column of the last activations.
    pub logits: usize,
    /// The dataset's feature count and its label column.
    pub features: usize,
    pub label_col: usize,
    /// Where feature f sits in the model's input column.
    pub slots: Vec<usize>,
    pub log_in: usize,
    /// Variables of the main sumcheck: max(16, k).
    pub vars: usize,
    pub aux_layout: MaskedLayout,
    pub mask_plan: MaskPlan,
    pub mask_first: usize,
    pub inverse_layout: MaskedLayout,
    /// Whether the count is hidden and only c ≥ T is proved: c − T = lo + 2^16·hi with the
    /// limbs lo, hi in an aux column of [`LIMB_VARS`] variables, range-checked.
    pub threshold: bool,
    /// Whether the K² confusion counts are stated (each weighted by its own challenge in the
    /// main sumcheck's claim) instead of the correct count alone.
    pub confusion: bool,
}

/// Variables of the limb column of a threshold attestation (two entries used).
pub(super) const LIMB_VARS: usize = 3;

impl ArgmaxPlan {
    /// The plan stating the confusion matrix (or not); a threshold attestation hides its count,
    /// so it states none.
    pub fn with_confusion(mut self, confusion: bool) -> Result<Self> {
        if confusion && self.threshold {
            return Err(ProofError::Circuit(
                "a threshold attestation hides the count; it cannot state the confusion matrix"
                    .into(),
            ));
        }
        self.confusion = confusion;
        Ok(self)
    }

    /// Aux columns: P_j, D_j, Z_j (k variables each), then the range multiplicities.
    pub fn p(&self, j: usize) -> usize {
        j
    }
    pub fn d(&self, j: usize) -> usize {
        self.classes + j
    }
    pub fn z(&self, j: usize) -> usize {
        2 * self.classes + j
    }
    pub fn mult(&self) -> usize {
        3 * self.classes
    }
    /// The limbs of c − T (threshold attestations only).
    pub fn limbs(&self) -> usize {
        3 * self.classes + 1
    }

    /// The plan for `spec` on `dataset`; refuses models and datasets the attestation does not
    /// cover, naming what does not fit.
    pub fn new(spec: &CircuitSpec, dataset: &DatasetCommitment, threshold: bool) -> Result<Self> {
        let bad = |m: String| Err(ProofError::Circuit(m));
        if !dataset.labels {
            return bad("the dataset has no labels: an accuracy attestation needs them".into());
        }
        if dataset.features as usize != spec.input_len {
            return bad(format!(
                "the dataset has {} features but the model takes {} inputs",
                dataset.features, spec.input_len
            ));
        }
        if spec.public_input || spec.committed_input {
            return bad(
                "the model's input is public or separately committed; an attestation reads it from the dataset (compile the model with a private input)".into(),
            );
        }
        if !spec.extra_outputs.is_empty() {
            return bad(format!(
                "the model has {} outputs; an attestation scores a classifier with one",
                spec.extra_outputs.len() + 1
            ));
        }
        let classes = spec.output_len();
        if classes < 2 {
            return bad(format!(
                "the model has {classes} output(s): a classifier with at least 2 classes is needed"
            ));
        }
        if spec.table_bits as usize > RANGE_BITS {
            return bad(format!(
                "the model's activations have {} bits: the argmax range checks cover 16",
                spec.table_bits
            ));
        }
        if !matches!(
            spec.layers.first().map(|l| &l.kind),
            Some(crate::circuit::LayerKind::Dense)
        ) || spec.readers()[0] != 1
        {
            return bad(
                "only models whose input feeds one dense block (Gemm/MatMul: MLP classifiers) can be attested for now".into(),
            );
        }
        let k = dataset.row_vars();
        let wp = WitnessPlan::new(spec, 1 << k);
        let last = wp.blocks.last().expect("validated: a block");
        let slots = (0..spec.input_len)
            .map(|f| wp.input_shape.slot(f))
            .collect();
        let vars = k.max(RANGE_BITS);
        let mut inv_logs = vec![k + 1; classes];
        if threshold {
            inv_logs.push(LIMB_VARS + 1);
        }
        let inverse_layout = MaskedLayout::new(&inv_logs, &vec![true; inv_logs.len()]);
        let mut aux_logs = vec![k; 3 * classes];
        aux_logs.push(RANGE_BITS);
        if threshold {
            aux_logs.push(LIMB_VARS);
        }
        let mask_first = aux_logs.len();
        let data_vars = dataset.layout().num_vars();
        let link_vars = last.log_out + k;
        // A masked table is cubic in its mask's variable (P + x(1 − x)·R on a line), linear
        // elsewhere: round 0 of the main sumcheck has eq·S·P·Z (8) and eq·S·Π(y − t) (3K + 2).
        let (d0, d) = (8.max(3 * classes + 2), 4.max(classes + 2));
        let mut tv = 1;
        loop {
            let mask_plan = MaskPlan::new(vec![
                (0..vars).map(|l| if l == 0 { d0 } else { d }).collect(),
                // eq·[i < K]·a (5) in round 0, eq·[i < K]·E_j·Z_j (6) where Z's mask lives.
                vec![6; link_vars],
                crate::zk::open::schedule(inverse_layout.num_vars()),
                crate::zk::open::schedule(data_vars),
                crate::zk::open::schedule(tv),
            ]);
            let logs: Vec<usize> = aux_logs.iter().chain(&mask_plan.logs).copied().collect();
            let mut masked = vec![true; aux_logs.len()];
            masked.resize(logs.len(), false);
            let aux_layout = MaskedLayout::new(&logs, &masked);
            if aux_layout.num_vars() <= tv {
                return Ok(Self {
                    k,
                    rows: dataset.rows as usize,
                    classes,
                    log_out: last.log_out,
                    logits: last.a,
                    features: dataset.features as usize,
                    label_col: dataset.features as usize,
                    slots,
                    log_in: wp.log_in,
                    vars,
                    aux_layout,
                    mask_plan,
                    mask_first,
                    inverse_layout,
                    threshold,
                    confusion: false,
                });
            }
            tv = aux_layout.num_vars();
        }
    }

    /// The aux columns the main sumcheck reveals, in `values` order: P_j, D_j, Z_j, mult.
    pub fn main_claims(&self, point: &[EF], values: &[EF]) -> Vec<ColumnClaim> {
        let rk = &point[..self.k];
        let mut out: Vec<ColumnClaim> = (0..3 * self.classes)
            .map(|c| (c, rk.to_vec(), values[1 + c]))
            .collect();
        out.push((
            self.mult(),
            point[..RANGE_BITS].to_vec(),
            values[1 + 3 * self.classes],
        ));
        if self.threshold {
            out.push((
                self.limbs(),
                point[..LIMB_VARS].to_vec(),
                values[2 + 3 * self.classes],
            ));
        }
        out
    }
}

/// The challenges of the main sumcheck.
pub(super) struct Challenges {
    pub tau: Vec<EF>,
    pub mu: Vec<EF>,
    pub lam_bin: Vec<EF>,
    pub lam_sum: EF,
    pub lam_d: Vec<EF>,
    pub lam_y: EF,
    pub nu: EF,
    /// The count's weights W[t·K + j] of the cells (label t, prediction j): ν on the diagonal
    /// (the correct count), or one challenge per cell for a confusion matrix.
    pub cells: Vec<EF>,
    /// The limb lookup's μ (threshold attestations).
    pub mu_limbs: EF,
}

impl Challenges {
    pub fn draw(plan: &ArgmaxPlan, tr: &mut Transcript) -> Self {
        let kk = plan.classes;
        let mut many = |label: &str| (0..kk).map(|_| tr.challenge(label)).collect::<Vec<_>>();
        let mu = many("attest-mu");
        let lam_bin = many("attest-lambda-binary");
        let lam_d = many("attest-lambda-argmax");
        let tau = tr.challenge_point("attest-tau", plan.k);
        let lam_sum = tr.challenge("attest-lambda-onehot");
        let lam_y = tr.challenge("attest-lambda-label");
        let nu = tr.challenge("attest-nu");
        let cells = if plan.confusion {
            (0..kk * kk)
                .map(|_| tr.challenge("attest-nu-cell"))
                .collect()
        } else {
            (0..kk * kk)
                .map(|c| if c / kk == c % kk { nu } else { EF::ZERO })
                .collect()
        };
        let mu_limbs = if plan.threshold {
            tr.challenge("attest-mu-limbs")
        } else {
            EF::ZERO
        };
        Self {
            tau,
            mu,
            lam_bin,
            lam_sum,
            lam_d,
            lam_y,
            nu,
            cells,
            mu_limbs,
        }
    }
}

/// L_j(y) = Π_{t≠j} (y − t)/(j − t) for j < K.
fn lagrange(y: EF, classes: usize) -> Vec<EF> {
    (0..classes)
        .map(|j| {
            let mut num = EF::ONE;
            let mut den = EF::ONE;
            for t in (0..classes).filter(|&t| t != j) {
                num *= y - EF::from_usize(t);
                den *= EF::from_usize(j) - EF::from_usize(t);
            }
            num * den.inverse()
        })
        .collect()
}

/// The constraint group's summand over [eq, S, y, P_0.., D_0.., Z_0..]: the per-row checks
/// (weighted by the λs, times eq·S) plus S·Σ_{t,j} W_{tj}·P_j·L_t(y) (the count: W = ν·I, or
/// the confusion cells each with its own weight).
pub(super) fn constraint_summand(
    ch: &Challenges,
    classes: usize,
) -> impl Fn(&[EF]) -> EF + Sync + 'static {
    let (lam_bin, lam_d) = (ch.lam_bin.clone(), ch.lam_d.clone());
    let (lam_sum, lam_y, cells) = (ch.lam_sum, ch.lam_y, ch.cells.clone());
    move |v: &[EF]| {
        let (e, s, y) = (v[0], v[1], v[2]);
        let p = &v[3..3 + classes];
        let d = &v[3 + classes..3 + 2 * classes];
        let z = &v[3 + 2 * classes..3 + 3 * classes];
        let zp: EF = p.iter().zip(z).map(|(&a, &b)| a * b).sum();
        let mut c = lam_sum * (p.iter().copied().sum::<EF>() - EF::ONE);
        let mut above = EF::ZERO;
        for j in (0..classes).rev() {
            c += lam_bin[j] * (p[j] * p[j] - p[j]);
            c += lam_d[j] * (d[j] - zp + z[j] + above);
            above += p[j];
        }
        let mut prod = EF::ONE;
        for t in 0..classes {
            prod *= y - EF::from_usize(t);
        }
        c += lam_y * prod;
        // Σ_{t,j} W[t·K + j]·P_j·L_t(y): the weighted count of each (label, prediction) cell.
        let l = lagrange(y, classes);
        let mut counted = EF::ZERO;
        for (t, &lt) in l.iter().enumerate() {
            let row = &cells[t * classes..(t + 1) * classes];
            counted += lt * row.iter().zip(p).map(|(&w, &pj)| w * pj).sum::<EF>();
        }
        e * s * c + s * counted
    }
}

/// The LogUp summand over [eq, h, D, S]: μ·eq·(h·(α − D) − 1) + S·h.
pub(super) fn lookup_summand(alpha: EF, mu: EF) -> impl Fn(&[EF]) -> EF + Sync + 'static {
    move |v: &[EF]| mu * v[0] * (v[1] * (alpha - v[2]) - EF::ONE) + v[3] * v[1]
}

/// The link's summand over [eq, [i < K], a, E_0.., Z_0..]: eq·S_K·(a − Σ_j E_j·Z_j).
pub(super) fn link_summand(classes: usize) -> impl Fn(&[EF]) -> EF + Sync + 'static {
    move |v: &[EF]| {
        let s: EF = (0..classes).map(|j| v[3 + j] * v[3 + classes + j]).sum();
        v[0] * v[1] * (v[2] - s)
    }
}

/// Σ_j eq(ρ_i, j)·Z_j at the link's point: what a(ρ) must equal.
pub(super) fn link_rhs(rho_i: &[EF], z: &[EF]) -> EF {
    z.iter()
        .enumerate()
        .map(|(j, &v)| eq_eval(rho_i, &bits_as_point(j, rho_i.len())) * v)
        .sum()
}

/// The model's input claims as functionals of the dataset table: the input column x(j, n) is
/// feature f's column at the slot j of f (zero elsewhere), and its mask is the dataset columns'
/// masks placed the same way ([`input_mask`]), so a masked value ẋ(z_j, z_n) =
/// Σ_f eq(z_j, slot f)·(Y_f(z_n) + ζ_x·R_f(z_n)) with ζ_x = z₀(1 − z₀) of the input's point.
/// This and [`input_mask`] are the only places that read the dataset table as the input.
pub(super) fn dataset_input_functional(
    plan: &ArgmaxPlan,
    layout: &MaskedLayout,
    lift: &LiftPoint,
    claim: &ColumnClaim,
) -> Result<Functional> {
    let (_, z, v) = claim;
    let (zj, zn) = z.split_at(plan.log_in);
    let zeta_x = z[0] * (EF::ONE - z[0]);
    let zeta_n = zn[0] * (EF::ONE - zn[0]);
    let ratio = zeta_x * crate::zk::sumcheck::invert(zeta_n, "dataset input point")?;
    let mut terms = Vec::new();
    for f in 0..plan.features {
        let c = eq_eval(zj, &bits_as_point(plan.slots[f], plan.log_in));
        for (i, t) in layout.terms(f, zn, lift).into_iter().enumerate() {
            let scale = if i == 0 { c } else { c * ratio };
            terms.push(match t {
                Term::Point { col, point, weight } => Term::Point {
                    col,
                    point,
                    weight: weight * scale,
                },
                Term::Entry { col, index, weight } => Term::Entry {
                    col,
                    index,
                    weight: weight * scale,
                },
            });
        }
    }
    Ok((terms, *v))
}

/// The input column's mask: R_x(slot f, n) = R_f(n), the dataset's expanded masks at the lift.
pub(super) fn input_mask(
    plan: &ArgmaxPlan,
    data_masks: &[Vec<crate::field::F>],
) -> Vec<crate::field::F> {
    use crate::field::F;
    let width = 1usize << plan.log_in;
    let mut out = vec![F::ZERO; width << plan.k];
    for f in 0..plan.features {
        for (n, &r) in data_masks[f].iter().enumerate() {
            out[plan.slots[f] + n * width] = r;
        }
    }
    out
}

/// Every dataset column one attestation reads, once each (what its budget check counts).
pub(super) fn budget_claims(
    plan: &ArgmaxPlan,
    input_claims: &[ColumnClaim],
    label_point: &[EF],
) -> Vec<ColumnClaim> {
    let mut out = vec![(plan.label_col, label_point.to_vec(), EF::ZERO)];
    for (_, z, _) in input_claims {
        let zn = &z[plan.log_in..];
        out.extend((0..plan.features).map(|f| (f, zn.to_vec(), EF::ZERO)));
    }
    out
}

/// ν at the limb column's entry 0 and ν·2^16 at entry 1: Σ E·L = ν·(c − T).
pub(super) fn limb_weights(nu: EF) -> Vec<EF> {
    let mut e = vec![EF::ZERO; 1 << LIMB_VARS];
    e[0] = nu;
    e[1] = nu * EF::from_u64(1 << RANGE_BITS);
    e
}

/// The first two entries of the limb column: the lookup's row selector.
pub(super) fn limb_selector() -> Vec<EF> {
    (0..1usize << LIMB_VARS)
        .map(|i| EF::from_bool(i < 2))
        .collect()
}
