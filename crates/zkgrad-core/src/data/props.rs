//! The data-property proof: one zero-knowledge proof, against a dataset digest, of a public
//! [`PropertySpec`] (see `mod.rs`). What each property is, as relations over the committed
//! columns (row index x over the 2^k padded rows; S(x) = [x < rows], public):
//!
//! - **feature f in [lo, hi]**: (x_f − lo) ∈ T and (x_f + 2^16 − 1 − hi) ∈ T on every real row,
//!   T = {0..2^16 − 1}: LogUp with committed inverses h = 1/(α − v − off), the zero-check
//!   eq(τ, x)·(h·(α − v − off) − 1) on every row and Σ_x S(x)·h(x) = Σ_t m(t)/(α − t) with the
//!   committed multiplicities m (as the weight range certificate, `zk/range.rs`). Both sides of
//!   each congruence are small integers, so x_f ∈ [lo, hi] as integers. Padding rows are read
//!   by nothing.
//! - **labels in {0..K−1}, class counts c_t in [a_t, b_t]**: the labels' LogUp against the
//!   K-entry table {0..K−1} with committed counts c as its multiplicities,
//!   Σ_x S(x)/(α − y(x)) = Σ_{t<K} c_t/(α − t), weighted by a fresh ν_c (so it cannot cancel
//!   against the range lookups); c_t − a_t and c_t + 2^16 − 1 − b_t are range lookups on the
//!   count column (a public offset per class). Σ_t c_t = rows follows.
//! - **feature f's sum in [lo, hi]** (its mean times the rows): Σ_x S(x)·x_f(x) = lo + d₀ =
//!   hi − d₁ with d₀, d₁ < 2^32 committed as two 16-bit limbs each (range lookups); the feature's
//!   range makes the sum a small integer, so no wrap-around.
//! - **feature f's variance in [lo, hi]** (n²·variance = n·Σx² − (Σx)², shift-invariant, so
//!   proved on x' = x − c with c the range's lo, x' ∈ [0, w]): two committed values s and q with
//!   Σ_x S(x)·x'(x) = s and Σ_x S(x)·x'(x)² = q, and n·q − s² = lo + e₀ = hi − e₁ with e₀, e₁
//!   committed as four 16-bit limbs each, the top one also checked below 2^14 (e < 2^62). The
//!   range forces s and q to be the integer sums; n·w < 2^31 (checked on the spec) keeps n·q and
//!   s² below 2^62, so each identity holds over the integers, not only modulo p. s and q are
//!   masked like the limbs: only the bounds are public.
//!
//! All of it is one masked sumcheck with a public claim (the sums' bounds, the class table's
//! counts-weighted part is committed), three batchings and three openings: the dataset table
//! (once per proof: its budget), the per-proof auxiliary table (multiplicities, counts, limbs,
//! the sumcheck masks) and the inverses.

use p3_field::{PrimeCharacteristicRing, batch_multiplicative_inverse};
use rand::{Rng, SeedableRng};

use super::PropertySpec;
use super::RANGE_BITS;
use super::commit::Dataset;
use super::epochs::DatasetLeaf;
pub use super::proof::PropertyProof;
use super::props_plan::{
    Challenges, LIMB_BASE, Off, Plan, Src, VarRho, lookup_summand, prefix, start,
    variance_limb_summand, variance_summand,
};
use crate::error::{ProofError, Result};
use crate::field::{EF, F};
use crate::mle::eq_table;
use crate::pcs::Pcs;
use crate::transcript::Transcript;
use crate::zk::lookup::pad_factor;
use crate::zk::masked::{LiftPoint, join_ext, split_ext};
use crate::zk::open;
use crate::zk::sumcheck::{self as zksc, Group, Table, invert};

/// A sumcheck group's summand.
type Summand = Box<dyn Fn(&[EF]) -> EF + Sync>;

/// Proves `spec` about the committed dataset, opening its epoch leaf `leaf` (`data/epochs.rs`:
/// `Dataset::leaf`; the verifier needs the leaf's certificate). A dataset that does not have
/// the properties is refused with an error naming the first violated property (no proof is
/// made).
pub fn prove(leaf: &DatasetLeaf<'_>, spec: &PropertySpec) -> Result<PropertyProof> {
    spec.validate(&leaf.node.ds.commitment)?;
    super::witness::check(leaf.node.ds, spec)?;
    prove_unchecked(leaf, spec)
}

/// [`prove`] without the witness check: a dishonest prover (soundness tests), whose proof of a
/// false statement the verifier must reject.
#[doc(hidden)]
pub fn prove_unchecked(leaf: &DatasetLeaf<'_>, spec: &PropertySpec) -> Result<PropertyProof> {
    let ds: &Dataset = leaf.node.ds;
    let c = &ds.commitment;
    let plan = Plan::new(c, spec)?;
    let mut rng = rand::rngs::StdRng::from_os_rng();
    let digest = c.digest();
    let mut tr = start(&digest, spec);
    crate::statement::absorb_epoch(&mut tr, Some(&leaf.epoch));
    let to_i = crate::field::to_i64;
    let fi = crate::field::from_i64;
    // Auxiliary columns: multiplicities, counts, limbs.
    let mut aux: Vec<Vec<F>> = plan
        .aux_layout
        .layout
        .columns
        .iter()
        .take(plan.mask_first)
        .map(|&(_, k)| vec![F::ZERO; 1 << k])
        .collect();
    if let (Some((col, _)), Some(y)) = (plan.counts, ds.labels()) {
        for &v in &y[..plan.rows] {
            // A label outside the classes is left out: the lookup then fails, as it must.
            if let Some(c) = usize::try_from(to_i(v))
                .ok()
                .and_then(|t| aux[col].get_mut(t))
            {
                *c += F::ONE;
            }
        }
    }
    if let Some((lo, hi, _)) = plan.limbs {
        for (s, &(f, slo, shi)) in plan.sums.iter().enumerate() {
            let sum: i64 = ds.cols[f][..plan.rows].iter().map(|&v| to_i(v)).sum();
            for (i, d) in [(2 * s, sum - slo), (2 * s + 1, shi - sum)] {
                aux[lo][i] = fi(d.rem_euclid(LIMB_BASE as i64));
                aux[hi][i] = fi(d.div_euclid(LIMB_BASE as i64));
            }
        }
    }
    if let Some(vc) = plan.var_cols {
        let n = plan.rows as i128;
        for (v, &(f, c, lo, hi)) in plan.variances.iter().enumerate() {
            // Field sums (what the relations read) and integer ones (the slack), wrapping
            // only for a dishonest prover's out-of-range values.
            let xs = ds.cols[f][..plan.rows].iter().map(|&x| x - fi(c));
            let (sf, qf) = xs.fold((F::ZERO, F::ZERO), |(s, q), x| (s + x, q + x * x));
            aux[vc.sums][2 * v] = sf;
            aux[vc.sums][2 * v + 1] = qf;
            let xs = ds.cols[f][..plan.rows]
                .iter()
                .map(|&x| to_i(x) as i128 - c as i128);
            let (s, q) = xs.fold((0i128, 0i128), |(s, q), x| {
                (s.wrapping_add(x), q.wrapping_add(x.wrapping_mul(x)))
            });
            let var = n.wrapping_mul(q).wrapping_sub(s.wrapping_mul(s));
            let slack = [var.wrapping_sub(lo as i128), (hi as i128).wrapping_sub(var)];
            for (i, e) in [(2 * v, slack[0]), (2 * v + 1, slack[1])] {
                // The slack's limbs as those of its field element: every relation holds modulo
                // p; a dishonest prover's negative slack e is p + e, whose top limb is at
                // least 2^14, and the top-limb lookup fails.
                let mut e = e.rem_euclid(<F as p3_field::PrimeField64>::ORDER_U64 as i128) as u64;
                for col in vc.limbs {
                    aux[col][i] = F::from_u64(e % LIMB_BASE);
                    e /= LIMB_BASE;
                }
            }
        }
    }
    let source = |src: Src, aux: &[Vec<F>]| -> Vec<F> {
        match src {
            Src::Data(col) => ds.cols[col].clone(),
            Src::Aux(col) => aux[col].clone(),
        }
    };
    let mut mult = vec![0u64; 1 << RANGE_BITS];
    for lk in plan.lookups.iter().filter(|l| !l.class) {
        let v = source(lk.src, &aux);
        for (i, (&x, &s)) in v.iter().zip(&lk.sel.table(lk.k)).enumerate() {
            let slot = usize::try_from(to_i(x + lk.off.at(i))).ok();
            if let Some(m) = slot.filter(|_| s == F::ONE).and_then(|j| mult.get_mut(j)) {
                *m += 1;
            }
        }
    }
    aux[plan.mult] = mult.into_iter().map(F::from_u64).collect();
    let masks: Vec<Vec<Vec<EF>>> = plan
        .mask_plan
        .schedules
        .iter()
        .map(|s| zksc::random_masks(s, &mut rng))
        .collect();
    let mut aux_cols = aux.clone();
    aux_cols.extend(plan.mask_plan.columns(&masks));
    let (aux_table, aux_r) = plan.aux_layout.masked_table(&aux_cols, &mut rng);
    drop(aux_cols);
    let aux_pcs = Pcs::new(plan.aux_layout.num_vars(), true);
    let (aux_commitment, aux_data) = aux_pcs.commit(aux_table.clone(), rng.random());
    tr.absorb_bytes("aux-commitment", &aux_commitment.digest());
    let alpha = tr.challenge("data-alpha");
    let mut inv = Vec::with_capacity(plan.lookups.len());
    for lk in &plan.lookups {
        let d: Vec<EF> = source(lk.src, &aux)
            .iter()
            .enumerate()
            .map(|(i, &v)| alpha - EF::from(v + lk.off.at(i)))
            .collect();
        if d.contains(&EF::ZERO) {
            return Err(ProofError::Lookup(
                "a value equals the challenge α (probability 2^-128); prove again".into(),
            ));
        }
        inv.push(batch_multiplicative_inverse(&d));
    }
    let inv_cols: Vec<Vec<F>> = inv.iter().map(|h| split_ext(h)).collect();
    let (inv_table, inv_r) = plan.inverse_layout.masked_table(&inv_cols, &mut rng);
    let inv_pcs = Pcs::new(plan.inverse_layout.num_vars(), true);
    let (inverse_commitment, inv_data) = inv_pcs.commit(inv_table.clone(), rng.random());
    tr.absorb_bytes("inverse-commitment", &inverse_commitment.digest());
    let lift = LiftPoint::draw(&ds.layout, &mut tr);
    let data_r = leaf.node.expanded_masks(&lift);
    let ch = Challenges::draw(&plan, &mut tr);
    let up = |c: &[F]| c.iter().map(|&x| EF::from(x)).collect::<Vec<EF>>();
    let column = |src: Src| match src {
        Src::Data(col) => Table::masked(up(&ds.cols[col]), up(&data_r[col])),
        Src::Aux(col) => Table::masked(up(&aux[col]), up(&aux_r[col])),
    };
    let mut groups = Vec::new();
    for (l, lk) in plan.lookups.iter().enumerate() {
        let w = if lk.class { ch.nu_class } else { EF::ONE };
        let mut tables = vec![
            Table::plain(eq_table(&ch.tau[..lk.k])),
            Table::masked(inv[l].clone(), join_ext(&inv_r[l])),
            column(lk.src),
            Table::plain(up(&lk.sel.table(lk.k))),
        ];
        let summand = lookup_summand(alpha, ch.mus[l], w);
        let summand: Summand = match &lk.off {
            // A constant offset is no table (one table fewer to fold), and is not zero-padded
            // past the group's variables: the summand still vanishes there (eq does), so the
            // sum is unchanged; the verifier evaluates the same polynomial (`verify.rs`).
            Off::Const(c) => {
                let c = EF::from(*c);
                Box::new(move |v: &[EF]| summand(&[v[0], v[1], v[2], v[3], c]))
            }
            Off::Table(t) => {
                tables.push(Table::plain(up(t)));
                Box::new(summand)
            }
        };
        groups.push(Group { tables, summand });
    }
    groups.push(Group {
        tables: vec![
            column(Src::Aux(plan.mult)),
            Table::plain(crate::zk::range::table_weights(alpha)?),
        ],
        summand: Box::new(|v: &[EF]| -(v[0] * v[1])),
    });
    if let Some((col, kc)) = plan.counts {
        let nu = ch.nu_class;
        groups.push(Group {
            tables: vec![
                column(Src::Aux(col)),
                Table::plain(plan.class_weights(alpha, kc)?),
            ],
            summand: Box::new(move |v: &[EF]| -(nu * v[0] * v[1])),
        });
    }
    // Every term that reads S·x_f (the sums' and the variances') in one group over the selector
    // and each column read once: the selector is folded once, not once per term.
    let mut moments: Vec<usize> = Vec::new();
    for f in plan
        .sums
        .iter()
        .map(|s| s.0)
        .chain(plan.variances.iter().map(|v| v.0))
    {
        if !moments.contains(&f) {
            moments.push(f);
        }
    }
    if !moments.is_empty() {
        let at = |f: usize| 1 + moments.iter().position(|&g| g == f).expect("listed");
        let sums: Vec<(usize, EF)> = plan
            .sums
            .iter()
            .zip(&ch.nu_sums)
            .map(|(&(f, ..), &(n0, n1))| (at(f), n0 - n1))
            .collect();
        let variances: Vec<(usize, EF, VarRho)> = plan
            .variances
            .iter()
            .zip(&ch.rho_vars)
            .map(|(&(f, c, ..), &r)| (at(f), EF::from(fi(c)), r))
            .collect();
        let mut tables = vec![Table::plain(up(&prefix(plan.rows, plan.k)))];
        tables.extend(moments.iter().map(|&f| column(Src::Data(f))));
        groups.push(Group {
            tables,
            summand: Box::new(move |v: &[EF]| {
                let linear: EF = sums.iter().map(|&(i, w)| w * v[i]).sum();
                let squares: EF = variances
                    .iter()
                    .map(|&(i, c, r)| variance_summand(r, c)(&[v[0], v[i]]))
                    .sum();
                linear * v[0] + squares
            }),
        });
    }
    if let Some(vc) = plan.var_cols {
        let (lin, sq) = ch.variance_weights(plan.rows, vc.vars);
        groups.push(Group {
            tables: vec![
                Table::plain(lin),
                Table::plain(sq),
                column(Src::Aux(vc.sums)),
            ],
            summand: Box::new(|v: &[EF]| v[0] * v[2] - v[1] * v[2] * v[2]),
        });
        let mut tables = vec![Table::plain(ch.variance_limb_weights(vc.vars))];
        tables.extend(vc.limbs.map(|col| column(Src::Aux(col))));
        groups.push(Group {
            tables,
            summand: Box::new(variance_limb_summand),
        });
    }
    if let Some((lo, hi, a)) = plan.limbs {
        let base = EF::from_u64(LIMB_BASE);
        groups.push(Group {
            tables: vec![
                Table::plain(ch.limb_weights(a)),
                column(Src::Aux(lo)),
                column(Src::Aux(hi)),
            ],
            summand: Box::new(move |v: &[EF]| -(v[0] * (v[1] + base * v[2]))),
        });
    }
    let mut masks = masks.into_iter();
    let mut sc = zksc::Prover::start(
        masks.next().expect("four schedules"),
        plan.mask_plan.schedules[0].clone(),
        "data-main",
        &mut tr,
    );
    // The claim is public: the prover's messages add up to it by construction.
    let (point, finals) = sc.phase_groups(groups, plan.vars, &mut tr);
    let (main, _) = sc.finish(&mut tr);
    let mut mask_claims = plan.mask_plan.claims(0, &point, &main.mask_evals)?;
    let mut inverses = Vec::with_capacity(plan.lookups.len());
    for (lk, f) in plan.lookups.iter().zip(&finals) {
        inverses.push(f[1] * invert(pad_factor(&point, lk.k), "padding")?);
    }
    let at = |p: &[F], r: &[F], k: usize| crate::zk::dense::masked_eval(p, r, &point[..k]);
    let mut values: Vec<EF> = plan
        .data_columns()
        .iter()
        .map(|&col| at(&ds.cols[col], &data_r[col], plan.k))
        .collect();
    values.extend(
        plan.aux_columns()
            .iter()
            .map(|&(col, k)| at(&aux[col], &aux_r[col], k)),
    );
    let [inv_claims, data_claims, mut aux_claims] = plan.claims(&point, &inverses, &values)?;
    crate::zk::budget::check_claims(&ds.layout, &data_claims, "dataset")?;
    tr.absorb_ext("data-inverses", &inverses);
    tr.absorb_ext("data-values", &values);
    let none = LiftPoint::none();
    let data_table = leaf.node.table();
    let mut batches = Vec::new();
    let mut rhos = Vec::new();
    for (s, (label, layout, table, claims)) in [
        (
            "data-open-inverses",
            (&plan.inverse_layout, &none),
            &inv_table,
            &inv_claims,
        ),
        (
            "data-open-dataset",
            (&ds.layout, &lift),
            &data_table,
            &data_claims,
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let g = masks.next().expect("four schedules");
        let start = |tr: &mut Transcript| {
            zksc::Prover::start(g, plan.mask_plan.schedules[s + 1].clone(), label, tr)
        };
        let (proof, rho, value) = open::prove_with(&mut tr, label, layout, table, claims, start);
        mask_claims.extend(plan.mask_plan.claims(s + 1, &rho, &proof.mask_evals)?);
        batches.push((proof, value));
        rhos.push(rho);
    }
    aux_claims.extend(
        mask_claims
            .into_iter()
            .map(|(col, z, v)| (plan.mask_first + col, z, v)),
    );
    crate::zk::budget::check_claims(&plan.aux_layout, &aux_claims, "auxiliary")?;
    let label = "data-open-aux";
    let g = masks.next().expect("four schedules");
    let start = |tr: &mut Transcript| {
        zksc::Prover::start(g, plan.mask_plan.schedules[3].clone(), label, tr)
    };
    let (proof, rho_a, value) = open::prove_with(
        &mut tr,
        label,
        (&plan.aux_layout, &none),
        &aux_table,
        &aux_claims,
        start,
    );
    let own = plan.mask_plan.claims(3, &rho_a, &proof.mask_evals)?;
    batches.push((proof, value));
    let mut aux_points = vec![rho_a];
    aux_points.extend(own.iter().map(|(col, z, _)| {
        plan.aux_layout
            .point(plan.mask_first + col, z)
            .expect("mask columns are unmasked")
    }));
    let data_pcs = c.pcs()?;
    let openings = vec![
        inv_pcs.open(inv_data, &[rhos[0].clone()], &mut tr).1,
        data_pcs
            .open(leaf.prover_data()?, &[rhos[1].clone()], &mut tr)
            .1,
        aux_pcs.open(aux_data, &aux_points, &mut tr).1,
    ];
    Ok(PropertyProof {
        dataset: digest,
        spec: spec.clone(),
        epoch: leaf.epoch.clone(),
        aux_commitment,
        inverse_commitment,
        main,
        inverses,
        values,
        batches,
        openings,
    })
}
