//! The verifier of a data-property proof (`props.rs`), step for step the prover's transcript.

use p3_field::PrimeCharacteristicRing;

use super::openings::{self, Opened};
use super::props::PropertyProof;
use super::props_plan::{
    Challenges, LIMB_BASE, Plan, Src, lookup_summand, start, variance_limb_summand,
    variance_summand,
};
use super::{DatasetCommitment, hex8};
use super::{PropertySpec, RANGE_BITS};
use crate::epoch::EpochCertificate;
use crate::error::{ProofError, Result};
use crate::field::EF;
use crate::mle::eq_eval;
use crate::pcs::Pcs;
use crate::zk::dense::prefix_eval;
use crate::zk::lookup::pad_factor;
use crate::zk::masked::LiftPoint;
use crate::zk::open;

/// Checks `proof` against the pinned dataset commitment, the epoch leaf it opens linked to it by
/// `cert` (`data/epochs.rs`); returns the verified statement. A statement that does not fit the
/// dataset, a proof for another dataset or a certificate that does not link its leaf is named as
/// such; every other failure says the proof does not establish the properties.
pub fn verify(
    dataset: &DatasetCommitment,
    proof: &PropertyProof,
    cert: &EpochCertificate,
) -> Result<PropertySpec> {
    dataset.check_shape()?;
    if proof.dataset == dataset.digest() {
        proof.spec.validate(dataset)?;
    }
    verify_inner(dataset, proof, cert).map_err(|e| match e {
        e @ (ProofError::Circuit(_) | ProofError::Epoch(_) | ProofError::WrongDataset { .. }) => e,
        ProofError::Pcs(m) if m.contains("epoch link") => ProofError::Pcs(m),
        e => {
            let detail = match e {
                ProofError::Lookup(m) => m,
                other => other.to_string(),
            };
            ProofError::Lookup(format!(
                "the proof does not establish the stated properties of the committed dataset ({detail})"
            ))
        }
    })
}

fn verify_inner(
    dataset: &DatasetCommitment,
    proof: &PropertyProof,
    cert: &EpochCertificate,
) -> Result<PropertySpec> {
    let digest = dataset.digest();
    if proof.dataset != digest {
        return Err(ProofError::WrongDataset {
            proof: hex8(&proof.dataset),
            pinned: hex8(&digest),
        });
    }
    super::epochs::verify_leaf(dataset, &proof.epoch, cert)?;
    let spec = &proof.spec;
    let plan = Plan::new(dataset, spec)?;
    let nl = plan.lookups.len();
    let n_values = plan.data_columns().len() + plan.aux_columns().len();
    if proof.inverses.len() != nl
        || proof.values.len() != n_values
        || proof.batches.len() != 3
        || proof.openings.len() != 3
    {
        return Err(ProofError::Shape {
            what: "data-property proof values",
            expected: n_values,
            got: proof.values.len(),
        });
    }
    let mut tr = start(&digest, spec);
    crate::statement::absorb_epoch(&mut tr, Some(&proof.epoch));
    tr.absorb_bytes("aux-commitment", &proof.aux_commitment.digest());
    let alpha = tr.challenge("data-alpha");
    tr.absorb_bytes("inverse-commitment", &proof.inverse_commitment.digest());
    let data_layout = dataset.layout();
    let lift = LiftPoint::draw(&data_layout, &mut tr);
    let ch = Challenges::draw(&plan, &mut tr);
    let (point, expected) = crate::zk::sumcheck::verify(
        ch.claim(&plan),
        &plan.mask_plan.schedules[0],
        &proof.main,
        "data-main",
        &mut tr,
    )?;
    let mut mask_claims = plan.mask_plan.claims(0, &point, &proof.main.mask_evals)?;
    let values = &proof.values;
    let mut total = EF::ZERO;
    for (l, lk) in plan.lookups.iter().enumerate() {
        let s = pad_factor(&point, lk.k);
        let z = &point[..lk.k];
        let w = if lk.class { ch.nu_class } else { EF::ONE };
        total += lookup_summand(alpha, ch.mus[l], w)(&[
            eq_eval(&ch.tau[..lk.k], z) * s,
            proof.inverses[l] * s,
            plan.source_value(lk.src, values) * s,
            lk.sel.eval(z) * s,
            lk.off.eval(z, s),
        ]);
    }
    let s16 = pad_factor(&point, RANGE_BITS);
    let tw = crate::mle::evaluate(
        &crate::zk::range::table_weights(alpha)?,
        &point[..RANGE_BITS],
    );
    total -= plan.source_value(Src::Aux(plan.mult), values) * s16 * tw * s16;
    if let Some((col, kc)) = plan.counts {
        let s = pad_factor(&point, kc);
        let cw = crate::mle::evaluate(&plan.class_weights(alpha, kc)?, &point[..kc]);
        total -= ch.nu_class * plan.source_value(Src::Aux(col), values) * s * cw * s;
    }
    let sk = pad_factor(&point, plan.k);
    let sel = prefix_eval(&point[..plan.k], plan.rows) * sk;
    for (&(f, ..), &(n0, n1)) in plan.sums.iter().zip(&ch.nu_sums) {
        total += (n0 - n1) * sel * plan.source_value(Src::Data(f), values) * sk;
    }
    for (&(f, c, ..), &r) in plan.variances.iter().zip(&ch.rho_vars) {
        let x = plan.source_value(Src::Data(f), values) * sk;
        total += variance_summand(r, EF::from(crate::field::from_i64(c)))(&[sel, x]);
    }
    if let Some(vc) = plan.var_cols {
        let (z, s) = (&point[..vc.vars], pad_factor(&point, vc.vars));
        let (lin, sq) = ch.variance_weights(plan.rows, vc.vars);
        let sums = plan.source_value(Src::Aux(vc.sums), values) * s;
        let (lin, sq) = (
            crate::mle::evaluate(&lin, z) * s,
            crate::mle::evaluate(&sq, z) * s,
        );
        total += lin * sums - sq * sums * sums;
        let mut limbs = vec![crate::mle::evaluate(&ch.variance_limb_weights(vc.vars), z) * s];
        limbs.extend(
            vc.limbs
                .map(|col| plan.source_value(Src::Aux(col), values) * s),
        );
        total += variance_limb_summand(&limbs);
    }
    if let Some((lo, hi, a)) = plan.limbs {
        let s = pad_factor(&point, a);
        let e = crate::mle::evaluate(&ch.limb_weights(a), &point[..a]) * s;
        let (vlo, vhi) = (
            plan.source_value(Src::Aux(lo), values) * s,
            plan.source_value(Src::Aux(hi), values) * s,
        );
        total -= e * (vlo + EF::from_u64(LIMB_BASE) * vhi);
    }
    if total != expected {
        return Err(ProofError::Lookup(
            "the data-property relations do not hold".into(),
        ));
    }
    tr.absorb_ext("data-inverses", &proof.inverses);
    tr.absorb_ext("data-values", values);
    let [inv_claims, data_claims, mut aux_claims] = plan.claims(&point, &proof.inverses, values)?;
    let none = LiftPoint::none();
    let mut rhos = Vec::new();
    for (s, (label, layout, claims)) in [
        (
            "data-open-inverses",
            (&plan.inverse_layout, &none),
            &inv_claims,
        ),
        ("data-open-dataset", (&data_layout, &lift), &data_claims),
    ]
    .into_iter()
    .enumerate()
    {
        let (p, value) = &proof.batches[s];
        let rho = open::verify_with(
            &plan.mask_plan.schedules[s + 1],
            &mut tr,
            label,
            layout,
            claims,
            p,
            *value,
        )?;
        mask_claims.extend(plan.mask_plan.claims(s + 1, &rho, &p.mask_evals)?);
        rhos.push(rho);
    }
    aux_claims.extend(
        mask_claims
            .into_iter()
            .map(|(c, z, v)| (plan.mask_first + c, z, v)),
    );
    let (p, value) = &proof.batches[2];
    let rho_a = open::verify_with(
        &plan.mask_plan.schedules[3],
        &mut tr,
        "data-open-aux",
        (&plan.aux_layout, &none),
        &aux_claims,
        p,
        *value,
    )?;
    let aux_points = openings::aux_points(
        &plan.aux_layout,
        &plan.mask_plan,
        plan.mask_first,
        3,
        (rho_a, *value),
        p,
        "a data-proof",
    )?;
    openings::verify(
        [
            Opened {
                pcs: Pcs::try_new(plan.inverse_layout.num_vars(), true)?,
                commitment: &proof.inverse_commitment,
                points: vec![(rhos[0].clone(), proof.batches[0].1)],
            },
            Opened {
                pcs: dataset.pcs()?,
                commitment: &proof.epoch.commitment,
                points: vec![(rhos[1].clone(), proof.batches[1].1)],
            },
            Opened {
                pcs: Pcs::try_new(plan.aux_layout.num_vars(), true)?,
                commitment: &proof.aux_commitment,
                points: aux_points,
            },
        ],
        &proof.openings,
        &mut tr,
    )?;
    Ok(spec.clone())
}
