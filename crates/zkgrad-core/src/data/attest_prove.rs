//! The attestation's prover side of the inference protocol (`zk::prover::ProverHook`): the
//! argmax and count relation on the hidden logits (`attest_plan.rs`), and the answer of the
//! model's input claims from the dataset table. Transcript order (mirrored by
//! `attest_verify.rs`): at the output point, the aux commitment, α, the inverse commitment, the
//! main sumcheck and its values, the link sumcheck and its values; after the inference's
//! openings, the inverse, dataset and aux batchings, then their openings.

use p3_field::{PrimeCharacteristicRing, batch_multiplicative_inverse};
use rand::{Rng, SeedableRng};

use super::RANGE_BITS;
use super::attest::ArgmaxProof;
use super::attest_plan::{self as ap, ArgmaxPlan, Challenges};
use super::commit::Dataset;
use super::epochs::DatasetLeaf;
use crate::error::{ProofError, Result};
use crate::field::{EF, F};
use crate::mle::eq_table;
use crate::pcs::{Pcs, ProverData};
use crate::transcript::Transcript;
use crate::witness::WitnessPlan;
use crate::zk::dense::{lift, masked_eval};
use crate::zk::lookup::pad_factor;
use crate::zk::masked::{LiftPoint, ext_point, join_ext, split_ext};
use crate::zk::open::{self, ColumnClaim};
use crate::zk::prover::{ProverCtx, ProverHook};
use crate::zk::sumcheck::{self as zksc, Group, Table, invert};

/// A dishonest prover's edits (soundness tests only).
#[doc(hidden)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Tamper {
    /// Predict this row as another class than its argmax.
    pub wrong_pred: Option<usize>,
    /// Count every padding row (as if correct) into c, and claim that c.
    pub count_padding: bool,
    /// Prove a threshold the model does not reach (its gap's limbs are then out of range).
    pub ignore_threshold: bool,
    /// State a confusion matrix with a right row of label 0 moved to the right rows of label 1.
    pub shift_confusion: bool,
    /// State a confusion matrix with these (cell t·K + j, delta) edits of the true counts.
    pub edit_confusion: Option<&'static [(usize, i64)]>,
}

/// The predictions (numpy's argmax: the first largest logit) of the rows, from the logits
/// column (output index low, row high).
pub(super) fn predictions(plan: &ArgmaxPlan, logits: &[F], rows: usize) -> Vec<usize> {
    (0..rows)
        .map(|n| {
            let z = |j: usize| crate::field::to_i64(logits[j + (n << plan.log_out)]);
            (1..plan.classes).fold(0, |best, j| if z(j) > z(best) { j } else { best })
        })
        .collect()
}

struct Committed {
    aux: Vec<Vec<F>>,
    aux_r: Vec<Vec<F>>,
    aux_table: Vec<F>,
    aux_data: ProverData,
    inv_table: Vec<F>,
    inv_data: ProverData,
    inv_claims: Vec<ColumnClaim>,
    aux_claims: Vec<ColumnClaim>,
    mask_claims: Vec<ColumnClaim>,
    label_claim: ColumnClaim,
}

pub(super) struct AttestProver<'a> {
    pub plan: &'a ArgmaxPlan,
    pub ds: &'a Dataset,
    /// The dataset epoch leaf the attestation opens (its masks and codeword).
    pub leaf: &'a DatasetLeaf<'a>,
    pub tamper: Tamper,
    /// c − T for a threshold attestation (its limbs are committed).
    pub gap: Option<i64>,
    rng: rand::rngs::StdRng,
    masks: Vec<Vec<Vec<EF>>>,
    lift: LiftPoint,
    data_r: Vec<Vec<F>>,
    state: Option<Committed>,
    pub proof: Option<ArgmaxProof>,
}

impl<'a> AttestProver<'a> {
    pub fn new(plan: &'a ArgmaxPlan, leaf: &'a DatasetLeaf<'a>, tamper: Tamper) -> Self {
        let mut rng = rand::rngs::StdRng::from_os_rng();
        let masks = plan
            .mask_plan
            .schedules
            .iter()
            .map(|s| zksc::random_masks(s, &mut rng))
            .collect();
        Self {
            plan,
            ds: leaf.node.ds,
            leaf,
            tamper,
            gap: None,
            rng,
            masks,
            lift: LiftPoint::none(),
            data_r: Vec::new(),
            state: None,
            proof: None,
        }
    }

    fn start(&mut self, s: usize, label: &str, tr: &mut Transcript) -> zksc::Prover {
        let g = std::mem::take(&mut self.masks[s]);
        zksc::Prover::start(g, self.plan.mask_plan.schedules[s].clone(), label, tr)
    }

    /// P, D, Z and the multiplicities from the logits.
    fn aux_columns(&self, logits: &[F]) -> Vec<Vec<F>> {
        let plan = self.plan;
        let (kk, len) = (plan.classes, 1usize << plan.k);
        let mut aux = vec![vec![F::ZERO; len]; 3 * kk];
        let rows = if self.tamper.count_padding {
            len
        } else {
            plan.rows
        };
        let mut pred = predictions(plan, logits, rows);
        if let Some(row) = self.tamper.wrong_pred {
            pred[row] = (pred[row] + 1) % kk;
        }
        let mut mult = vec![0u64; 1 << RANGE_BITS];
        for n in 0..len {
            for j in 0..kk {
                aux[plan.z(j)][n] = logits[j + (n << plan.log_out)];
            }
            if n >= rows {
                continue;
            }
            let p = pred[n];
            aux[plan.p(p)][n] = F::ONE;
            let zp = aux[plan.z(p)][n];
            for j in 0..kk {
                let d = zp - aux[plan.z(j)][n] - F::from_bool(j < p);
                aux[plan.d(j)][n] = d;
                if let Some(m) = usize::try_from(crate::field::to_i64(d))
                    .ok()
                    .and_then(|t| mult.get_mut(t))
                {
                    *m += 1;
                }
            }
        }
        let mut limbs = vec![F::ZERO; 1 << ap::LIMB_VARS];
        if let Some(gap) = self.gap.filter(|_| plan.threshold) {
            let base = 1i64 << RANGE_BITS;
            for (i, v) in [gap.rem_euclid(base), gap.div_euclid(base)]
                .into_iter()
                .enumerate()
            {
                limbs[i] = crate::field::from_i64(v);
                if let Some(m) = usize::try_from(v).ok().and_then(|t| mult.get_mut(t)) {
                    *m += 1;
                }
            }
        }
        aux.push(mult.into_iter().map(F::from_u64).collect());
        if plan.threshold {
            aux.push(limbs);
        }
        aux
    }
}

fn prefix(n: usize, k: usize) -> Vec<EF> {
    (0..1usize << k)
        .map(|i| if i < n { EF::ONE } else { EF::ZERO })
        .collect()
}

impl ProverHook for AttestProver<'_> {
    fn input_mask(&mut self, _plan: &WitnessPlan, tr: &mut Transcript) -> Result<Vec<F>> {
        self.lift = LiftPoint::draw(&self.ds.layout, tr);
        self.data_r = self.leaf.node.expanded_masks(&self.lift);
        Ok(ap::input_mask(self.plan, &self.data_r))
    }

    fn output(&mut self, ctx: &mut ProverCtx) -> Result<()> {
        let plan = self.plan;
        let kk = plan.classes;
        let logits = &ctx.cols[plan.logits];
        let aux = self.aux_columns(logits);
        let mut aux_cols = aux.clone();
        aux_cols.extend(plan.mask_plan.columns(&self.masks));
        let (aux_table, aux_r) = plan.aux_layout.masked_table(&aux_cols, &mut self.rng);
        drop(aux_cols);
        let aux_pcs = Pcs::new(plan.aux_layout.num_vars(), true);
        let (aux_commitment, aux_data) = aux_pcs.commit(aux_table.clone(), self.rng.random());
        ctx.tr
            .absorb_bytes("attest-aux-commitment", &aux_commitment.digest());
        let alpha = ctx.tr.challenge("attest-alpha");
        let mut inv = Vec::with_capacity(kk + 1);
        let looked: Vec<usize> = (0..kk)
            .map(|j| plan.d(j))
            .chain(plan.threshold.then(|| plan.limbs()))
            .collect();
        for &c in &looked {
            let d: Vec<EF> = aux[c].iter().map(|&v| alpha - EF::from(v)).collect();
            if d.contains(&EF::ZERO) {
                return Err(ProofError::Lookup(
                    "a value equals the challenge α (probability 2^-128); prove again".into(),
                ));
            }
            inv.push(batch_multiplicative_inverse(&d));
        }
        let inv_cols: Vec<Vec<F>> = inv.iter().map(|h| split_ext(h)).collect();
        let (inv_table, inv_r) = plan.inverse_layout.masked_table(&inv_cols, &mut self.rng);
        let inv_pcs = Pcs::new(plan.inverse_layout.num_vars(), true);
        let (inverse_commitment, inv_data) = inv_pcs.commit(inv_table.clone(), self.rng.random());
        ctx.tr
            .absorb_bytes("attest-inverse-commitment", &inverse_commitment.digest());
        let ch = Challenges::draw(plan, ctx.tr);
        let up = |c: &[F]| c.iter().map(|&x| EF::from(x)).collect::<Vec<EF>>();
        let col = |c: usize| Table::masked(up(&aux[c]), up(&aux_r[c]));
        let sel = prefix(plan.rows, plan.k);
        let mut groups = Vec::new();
        for j in 0..kk {
            groups.push(Group {
                tables: vec![
                    Table::plain(eq_table(&ch.tau)),
                    Table::masked(inv[j].clone(), join_ext(&inv_r[j])),
                    col(plan.d(j)),
                    Table::plain(sel.clone()),
                ],
                summand: Box::new(ap::lookup_summand(alpha, ch.mu[j])),
            });
        }
        groups.push(Group {
            tables: vec![
                col(plan.mult()),
                Table::plain(crate::zk::range::table_weights(alpha)?),
            ],
            summand: Box::new(|v: &[EF]| -(v[0] * v[1])),
        });
        let y = &self.ds.cols[plan.label_col];
        let mut tables = vec![
            Table::plain(eq_table(&ch.tau)),
            Table::plain(sel.clone()),
            Table::masked(up(y), up(&self.data_r[plan.label_col])),
        ];
        tables.extend((0..3 * kk).map(col));
        groups.push(Group {
            tables,
            summand: Box::new(ap::constraint_summand(&ch, kk)),
        });
        if plan.threshold {
            // c − T = lo + 2^16·hi, both limbs in the range table: the claim is ν·T.
            groups.push(Group {
                tables: vec![
                    Table::plain(eq_table(&ch.tau[..ap::LIMB_VARS])),
                    Table::masked(inv[kk].clone(), join_ext(&inv_r[kk])),
                    col(plan.limbs()),
                    Table::plain(ap::limb_selector()),
                ],
                summand: Box::new(ap::lookup_summand(alpha, ch.mu_limbs)),
            });
            groups.push(Group {
                tables: vec![Table::plain(ap::limb_weights(ch.nu)), col(plan.limbs())],
                summand: Box::new(|v: &[EF]| -(v[0] * v[1])),
            });
        }
        let mut sc = self.start(ap::MAIN, "attest-main", ctx.tr);
        let (point, finals) = sc.phase_groups(groups, plan.vars, ctx.tr);
        let (main, _) = sc.finish(ctx.tr);
        let mut mask_claims = plan.mask_plan.claims(ap::MAIN, &point, &main.mask_evals)?;
        let pad = invert(pad_factor(&point, plan.k), "padding")?;
        let mut inverses: Vec<EF> = (0..kk).map(|j| finals[j][1] * pad).collect();
        if plan.threshold {
            let pad3 = invert(pad_factor(&point, ap::LIMB_VARS), "padding")?;
            inverses.push(finals[kk + 2][1] * pad3);
        }
        let rk = &point[..plan.k];
        let mut values = vec![masked_eval(y, &self.data_r[plan.label_col], rk)];
        values.extend((0..3 * kk).map(|c| masked_eval(&aux[c], &aux_r[c], rk)));
        values.push(masked_eval(
            &aux[plan.mult()],
            &aux_r[plan.mult()],
            &point[..RANGE_BITS],
        ));
        if plan.threshold {
            let c = plan.limbs();
            values.push(masked_eval(&aux[c], &aux_r[c], &point[..ap::LIMB_VARS]));
        }
        let mut inv_claims = Vec::with_capacity(kk + 1);
        for (j, &h) in inverses.iter().enumerate() {
            let at = if j < kk { rk } else { &point[..ap::LIMB_VARS] };
            let (p, factor) = ext_point(at)?;
            inv_claims.push((j, p, h * factor));
        }
        let mut aux_claims = plan.main_claims(&point, &values);
        // Nothing of the dataset is revealed past its budget: the label and one value per
        // feature column (the model's input claim) per attestation.
        let dummy_input = vec![(0, vec![EF::ZERO; plan.log_in + plan.k], EF::ZERO)];
        crate::zk::budget::check_claims(
            &self.ds.layout,
            &ap::budget_claims(plan, &dummy_input, rk),
            "dataset",
        )?;
        crate::zk::budget::check_claims(&plan.inverse_layout, &inv_claims, "attestation inverse")?;
        ctx.tr.absorb_ext("attest-inverses", &inverses);
        ctx.tr.absorb_ext("attest-values", &values);
        // The link: the logits Z_j are the hidden output column's first K entries per row.
        let tau = ctx
            .tr
            .challenge_point("attest-link-tau", plan.log_out + plan.k);
        let (lo, len) = (plan.log_out, 1usize << (plan.log_out + plan.k));
        let a = plan.logits;
        let mut tables = vec![
            Table::plain(eq_table(&tau)),
            Table::plain(
                (0..len)
                    .map(|i| EF::from_bool((i & ((1 << lo) - 1)) < kk))
                    .collect(),
            ),
            Table::masked(lift(&ctx.cols[a]), lift(&ctx.wit_r[a])),
        ];
        for j in 0..kk {
            tables.push(Table::plain(
                (0..len)
                    .map(|i| EF::from_bool(i & ((1 << lo) - 1) == j))
                    .collect(),
            ));
        }
        for j in 0..kk {
            let rep = |c: &[F]| (0..len).map(|i| EF::from(c[i >> lo])).collect::<Vec<EF>>();
            tables.push(Table::masked_at(
                rep(&aux[plan.z(j)]),
                rep(&aux_r[plan.z(j)]),
                lo,
            ));
        }
        let mut sc = self.start(ap::LINK, "attest-link", ctx.tr);
        let (rho, _) = sc.phase(tables, ap::link_summand(kk), ctx.tr);
        let (link, _) = sc.finish(ctx.tr);
        mask_claims.extend(plan.mask_plan.claims(ap::LINK, &rho, &link.mask_evals)?);
        let rho_n = &rho[lo..];
        let mut link_values = vec![masked_eval(&ctx.cols[a], &ctx.wit_r[a], &rho)];
        for j in 0..kk {
            let c = plan.z(j);
            let v = masked_eval(&aux[c], &aux_r[c], rho_n);
            link_values.push(v);
            aux_claims.push((c, rho_n.to_vec(), v));
        }
        ctx.tr.absorb_ext("attest-link-values", &link_values);
        ctx.claims.wit.push((a, rho.clone(), link_values[0]));
        self.proof = Some(ArgmaxProof {
            aux_commitment,
            inverse_commitment,
            main,
            inverses,
            values: values.clone(),
            link,
            link_values,
            batches: Vec::new(),
            openings: Vec::new(),
        });
        self.state = Some(Committed {
            aux,
            aux_r,
            aux_table,
            aux_data,
            inv_table,
            inv_data,
            inv_claims,
            aux_claims,
            mask_claims,
            label_claim: (plan.label_col, rk.to_vec(), values[0]),
        });
        Ok(())
    }

    fn finish(&mut self, tr: &mut Transcript, input_claims: Vec<ColumnClaim>) -> Result<()> {
        let plan = self.plan;
        let st = self.state.take().ok_or_else(|| {
            ProofError::Circuit("the attestation's output step did not run".into())
        })?;
        let _ = (&st.aux, &st.aux_r);
        let layout = &self.ds.layout;
        crate::zk::budget::check_claims(
            layout,
            &ap::budget_claims(plan, &input_claims, &st.label_claim.1),
            "dataset",
        )?;
        let (c, z, v) = &st.label_claim;
        let mut functionals = vec![(layout.terms(*c, z, &self.lift), *v)];
        for claim in &input_claims {
            functionals.push(ap::dataset_input_functional(
                plan, layout, &self.lift, claim,
            )?);
        }
        let mut mask_claims = st.mask_claims;
        let none = LiftPoint::none();
        let g = std::mem::take(&mut self.masks[ap::OPEN_INV]);
        let sched = plan.mask_plan.schedules[ap::OPEN_INV].clone();
        let (pi, rho_i, vi) = open::prove_with(
            tr,
            "attest-open-inverses",
            (&plan.inverse_layout, &none),
            &st.inv_table,
            &st.inv_claims,
            |tr| zksc::Prover::start(g, sched, "attest-open-inverses", tr),
        );
        mask_claims.extend(
            plan.mask_plan
                .claims(ap::OPEN_INV, &rho_i, &pi.mask_evals)?,
        );
        let g = std::mem::take(&mut self.masks[ap::OPEN_DATA]);
        let sched = plan.mask_plan.schedules[ap::OPEN_DATA].clone();
        let mut sw = crate::zk::prover::Stopwatch::new();
        let data_table = self.leaf.node.table();
        sw.lap("attest: dataset table");
        let (pd, rho_d, vd) = open::prove_functionals_with(
            tr,
            "attest-open-dataset",
            layout,
            &data_table,
            &functionals,
            |tr| zksc::Prover::start(g, sched, "attest-open-dataset", tr),
        );
        drop(data_table);
        sw.lap("attest: dataset batching");
        mask_claims.extend(
            plan.mask_plan
                .claims(ap::OPEN_DATA, &rho_d, &pd.mask_evals)?,
        );
        let mut aux_claims = st.aux_claims;
        aux_claims.extend(
            mask_claims
                .into_iter()
                .map(|(col, z, v)| (plan.mask_first + col, z, v)),
        );
        crate::zk::budget::check_claims(&plan.aux_layout, &aux_claims, "attestation auxiliary")?;
        let g = std::mem::take(&mut self.masks[ap::OPEN_AUX]);
        let sched = plan.mask_plan.schedules[ap::OPEN_AUX].clone();
        let (pa, rho_a, va) = open::prove_with(
            tr,
            "attest-open-aux",
            (&plan.aux_layout, &none),
            &st.aux_table,
            &aux_claims,
            |tr| zksc::Prover::start(g, sched, "attest-open-aux", tr),
        );
        let own = plan
            .mask_plan
            .claims(ap::OPEN_AUX, &rho_a, &pa.mask_evals)?;
        let mut aux_points = vec![rho_a];
        aux_points.extend(own.iter().map(|(col, z, _)| {
            plan.aux_layout
                .point(plan.mask_first + col, z)
                .expect("mask columns are unmasked")
        }));
        let inv_pcs = Pcs::new(plan.inverse_layout.num_vars(), true);
        let aux_pcs = Pcs::new(plan.aux_layout.num_vars(), true);
        let proof = self.proof.as_mut().expect("made at the output step");
        proof.batches = vec![(pi, vi), (pd, vd), (pa, va)];
        sw.lap("attest: aux batching");
        let inv_opening = inv_pcs.open(st.inv_data, &[rho_i], tr).1;
        let data = self.leaf.prover_data()?;
        sw.lap("attest: dataset prover data");
        let data_opening = self.ds.commitment.pcs()?.open(data, &[rho_d], tr).1;
        sw.lap("attest: inverse and dataset openings");
        proof.openings = vec![
            inv_opening,
            data_opening,
            aux_pcs.open(st.aux_data, &aux_points, tr).1,
        ];
        Ok(())
    }
}
