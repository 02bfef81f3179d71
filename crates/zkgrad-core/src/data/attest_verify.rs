//! The verifier of an accuracy attestation: the statement against the pinned model and dataset,
//! then the inference protocol's verifier with this hook (`zk::verifier::VerifierHook`), step
//! for step `attest_prove.rs`.

use p3_field::PrimeCharacteristicRing;

use super::attest::{ArgmaxProof, AttestStatement, Attestation, start};
use super::attest_plan::{self as ap, ArgmaxPlan, Challenges};
use super::commit::DatasetCommitment;
use super::openings::{self, Opened};
use super::{RANGE_BITS, hex8};
use crate::circuit::CircuitSpec;
use crate::commit::{ModelCommitment, weight_layout};
use crate::error::{ProofError, Result};
use crate::field::EF;
use crate::mle::eq_eval;
use crate::pcs::{Commitment, Pcs};
use crate::proof::SecurityHeader;
use crate::transcript::Transcript;
use crate::witness::WitnessPlan;
use crate::zk::dense::prefix_eval;
use crate::zk::lookup::pad_factor;
use crate::zk::masked::{LiftPoint, MaskedLayout, ext_point};
use crate::zk::open::{self, ColumnClaim};
use crate::zk::verifier::{Output, VerifierCtx, VerifierHook};

struct AttestVerifier<'a> {
    plan: &'a ArgmaxPlan,
    dataset: &'a DatasetCommitment,
    /// The commitment of the dataset epoch leaf the attestation opens.
    leaf: &'a Commitment,
    layout: MaskedLayout,
    correct: u64,
    /// The stated confusion matrix, or empty.
    confusion: &'a [u64],
    p: &'a ArgmaxProof,
    lift: LiftPoint,
    inv_claims: Vec<ColumnClaim>,
    aux_claims: Vec<ColumnClaim>,
    mask_claims: Vec<ColumnClaim>,
    label_claim: Option<ColumnClaim>,
}

impl VerifierHook for AttestVerifier<'_> {
    fn input_lift(&mut self, tr: &mut Transcript) -> Result<()> {
        self.lift = LiftPoint::draw(&self.layout, tr);
        Ok(())
    }

    fn output(&mut self, ctx: &mut VerifierCtx) -> Result<()> {
        let (plan, p) = (self.plan, self.p);
        let kk = plan.classes;
        let extra = usize::from(plan.threshold);
        if p.inverses.len() != kk + extra
            || p.values.len() != 3 * kk + 2 + extra
            || p.link_values.len() != kk + 1
            || p.batches.len() != 3
            || p.openings.len() != 3
        {
            return Err(ProofError::Malformed(
                "the attestation's argmax messages have the wrong shape".into(),
            ));
        }
        ctx.tr
            .absorb_bytes("attest-aux-commitment", &p.aux_commitment.digest());
        let alpha = ctx.tr.challenge("attest-alpha");
        ctx.tr
            .absorb_bytes("attest-inverse-commitment", &p.inverse_commitment.digest());
        let ch = Challenges::draw(plan, ctx.tr);
        let claim = if plan.confusion {
            ch.cells
                .iter()
                .zip(self.confusion)
                .map(|(&w, &c)| w * EF::from_u64(c))
                .sum()
        } else {
            ch.nu * EF::from_u64(self.correct)
        };
        let (point, expected) = crate::zk::sumcheck::verify(
            claim,
            &plan.mask_plan.schedules[ap::MAIN],
            &p.main,
            "attest-main",
            ctx.tr,
        )?;
        let mut mask_claims = plan
            .mask_plan
            .claims(ap::MAIN, &point, &p.main.mask_evals)?;
        let rk = &point[..plan.k];
        let s = pad_factor(&point, plan.k);
        let (e, sel) = (eq_eval(&ch.tau, rk) * s, prefix_eval(rk, plan.rows) * s);
        let v = &p.values;
        let mut total = EF::ZERO;
        for j in 0..kk {
            total += ap::lookup_summand(alpha, ch.mu[j])(&[
                e,
                p.inverses[j] * s,
                v[1 + plan.d(j)] * s,
                sel,
            ]);
        }
        let s16 = pad_factor(&point, RANGE_BITS);
        let tw = crate::mle::evaluate(
            &crate::zk::range::table_weights(alpha)?,
            &point[..RANGE_BITS],
        );
        total -= v[1 + plan.mult()] * s16 * tw * s16;
        let mut at = vec![e, sel, v[0] * s];
        at.extend((0..3 * kk).map(|c| v[1 + c] * s));
        total += ap::constraint_summand(&ch, kk)(&at);
        if plan.threshold {
            let r3 = &point[..ap::LIMB_VARS];
            let s3 = pad_factor(&point, ap::LIMB_VARS);
            let limbs = v[2 + 3 * kk] * s3;
            total += ap::lookup_summand(alpha, ch.mu_limbs)(&[
                eq_eval(&ch.tau[..ap::LIMB_VARS], r3) * s3,
                p.inverses[kk] * s3,
                limbs,
                crate::mle::evaluate(&ap::limb_selector(), r3) * s3,
            ]);
            total -= crate::mle::evaluate(&ap::limb_weights(ch.nu), r3) * s3 * limbs;
        }
        if total != expected {
            return Err(ProofError::Lookup(
                "the argmax and count relations do not hold".into(),
            ));
        }
        ctx.tr.absorb_ext("attest-inverses", &p.inverses);
        ctx.tr.absorb_ext("attest-values", v);
        for (j, &h) in p.inverses.iter().enumerate() {
            let at = if j < kk { rk } else { &point[..ap::LIMB_VARS] };
            let (pt, factor) = ext_point(at)?;
            self.inv_claims.push((j, pt, h * factor));
        }
        self.aux_claims = plan.main_claims(&point, v);
        self.label_claim = Some((plan.label_col, rk.to_vec(), v[0]));
        let tau = ctx
            .tr
            .challenge_point("attest-link-tau", plan.log_out + plan.k);
        let (rho, expected) = crate::zk::sumcheck::verify(
            EF::ZERO,
            &plan.mask_plan.schedules[ap::LINK],
            &p.link,
            "attest-link",
            ctx.tr,
        )?;
        mask_claims.extend(plan.mask_plan.claims(ap::LINK, &rho, &p.link.mask_evals)?);
        let (rho_i, rho_n) = rho.split_at(plan.log_out);
        let lv = &p.link_values;
        let got =
            eq_eval(&tau, &rho) * prefix_eval(rho_i, kk) * (lv[0] - ap::link_rhs(rho_i, &lv[1..]));
        if got != expected {
            return Err(ProofError::Lookup(
                "the argmax's logits are not the model's output".into(),
            ));
        }
        ctx.tr.absorb_ext("attest-link-values", lv);
        ctx.claims.wit.push((plan.logits, rho.clone(), lv[0]));
        for j in 0..kk {
            self.aux_claims.push((plan.z(j), rho_n.to_vec(), lv[1 + j]));
        }
        self.mask_claims = mask_claims;
        Ok(())
    }

    fn finish(&mut self, tr: &mut Transcript, input_claims: Vec<ColumnClaim>) -> Result<()> {
        let (plan, p) = (self.plan, self.p);
        let (c, z, v) = self
            .label_claim
            .take()
            .ok_or_else(|| ProofError::Malformed("the attestation has no output step".into()))?;
        let layout = &self.layout;
        let mut functionals = vec![(layout.terms(c, &z, &self.lift), v)];
        for claim in &input_claims {
            functionals.push(ap::dataset_input_functional(
                plan, layout, &self.lift, claim,
            )?);
        }
        let mut mask_claims = std::mem::take(&mut self.mask_claims);
        let none = LiftPoint::none();
        let (pi, vi) = &p.batches[0];
        let rho_i = open::verify_with(
            &plan.mask_plan.schedules[ap::OPEN_INV],
            tr,
            "attest-open-inverses",
            (&plan.inverse_layout, &none),
            &self.inv_claims,
            pi,
            *vi,
        )?;
        mask_claims.extend(
            plan.mask_plan
                .claims(ap::OPEN_INV, &rho_i, &pi.mask_evals)?,
        );
        let (pd, vd) = &p.batches[1];
        let rho_d = open::verify_functionals_with(
            &plan.mask_plan.schedules[ap::OPEN_DATA],
            tr,
            "attest-open-dataset",
            layout,
            &functionals,
            pd,
            *vd,
        )?;
        mask_claims.extend(
            plan.mask_plan
                .claims(ap::OPEN_DATA, &rho_d, &pd.mask_evals)?,
        );
        let mut aux_claims = std::mem::take(&mut self.aux_claims);
        aux_claims.extend(
            mask_claims
                .into_iter()
                .map(|(col, z, v)| (plan.mask_first + col, z, v)),
        );
        let (pa, va) = &p.batches[2];
        let rho_a = open::verify_with(
            &plan.mask_plan.schedules[ap::OPEN_AUX],
            tr,
            "attest-open-aux",
            (&plan.aux_layout, &none),
            &aux_claims,
            pa,
            *va,
        )?;
        let aux_points = openings::aux_points(
            &plan.aux_layout,
            &plan.mask_plan,
            plan.mask_first,
            ap::OPEN_AUX,
            (rho_a, *va),
            pa,
            "an attestation",
        )?;
        openings::verify(
            [
                Opened {
                    pcs: Pcs::try_new(plan.inverse_layout.num_vars(), true)?,
                    commitment: &p.inverse_commitment,
                    points: vec![(rho_i, *vi)],
                },
                Opened {
                    pcs: self.dataset.pcs()?,
                    commitment: self.leaf,
                    points: vec![(rho_d, *vd)],
                },
                Opened {
                    pcs: Pcs::try_new(plan.aux_layout.num_vars(), true)?,
                    commitment: &p.aux_commitment,
                    points: aux_points,
                },
            ],
            &p.openings,
            tr,
        )
    }
}

/// Verifies an attestation against the pinned model (`spec`, `mc`; the epoch certificate when
/// the proof was made in one) and dataset (`dataset_cert`: the certificate of the dataset epoch
/// the attestation opens); returns the verified statement. A proof for another model or dataset
/// is named as such before any cryptography.
pub fn verify(
    spec: &CircuitSpec,
    mc: &ModelCommitment,
    dataset: &DatasetCommitment,
    proof: &Attestation,
    epoch: Option<&crate::epoch::EpochCertificate>,
    dataset_cert: &crate::epoch::EpochCertificate,
) -> Result<AttestStatement> {
    spec.validate()?;
    dataset.check_shape()?;
    let (target_bits, assumption, pow_bits) = proof.security;
    SecurityHeader {
        target_bits,
        assumption,
        pow_bits,
    }
    .check_against(&SecurityHeader::current())?;
    let digest = mc.digest();
    if proof.model != digest {
        return Err(ProofError::WrongModel {
            proof: hex8(&proof.model)[..12].to_string(),
            key: hex8(&digest)[..12].to_string(),
        });
    }
    if proof.dataset != dataset.digest() {
        return Err(ProofError::WrongDataset {
            proof: hex8(&proof.dataset),
            pinned: hex8(&dataset.digest()),
        });
    }
    if mc.circuit != spec.digest() {
        return Err(ProofError::Commitment);
    }
    if mc.num_vars != weight_layout(spec).num_vars {
        return Err(ProofError::Commitment);
    }
    let plan = ArgmaxPlan::new(spec, dataset, proof.at_least)?
        .with_confusion(!proof.confusion.is_empty())?;
    if proof.rows != dataset.rows || proof.classes as usize != plan.classes {
        return Err(ProofError::Malformed(format!(
            "the attestation states {} rows and {} classes; the dataset has {} rows and the model {} classes",
            proof.rows, proof.classes, dataset.rows, plan.classes
        )));
    }
    if proof.correct > proof.rows {
        return Err(ProofError::Malformed(format!(
            "the attestation states {} correct of {} rows",
            proof.correct, proof.rows
        )));
    }
    if plan.confusion {
        let kk = plan.classes;
        // Checked sums: hostile cells must not wrap (or panic where overflow is checked).
        let diagonal = (0..kk).try_fold(0u64, |a, t| {
            a.checked_add(proof.confusion.get(t * kk + t).copied().unwrap_or(0))
        });
        let total = proof
            .confusion
            .iter()
            .try_fold(0u64, |a, &c| a.checked_add(c));
        if proof.confusion.len() != kk * kk
            || total != Some(proof.rows)
            || diagonal != Some(proof.correct)
        {
            return Err(ProofError::Malformed(format!(
                "the attestation's confusion matrix ({} counts) is not {kk}×{kk} counts summing \
                 to its {} rows with {} on the diagonal",
                proof.confusion.len(),
                proof.rows,
                proof.correct
            )));
        }
    }
    let weights = match (&proof.body.epoch, epoch) {
        (None, _) => &mc.pcs,
        (Some(leaf), _) if mc.leaf_checked(leaf) => &leaf.commitment,
        (Some(leaf), Some(cert)) => {
            mc.check_range(spec)?;
            crate::epoch::verify_chain(spec, mc, leaf, cert)?;
            mc.mark_leaf(leaf);
            &leaf.commitment
        }
        (Some(leaf), None) => {
            return Err(ProofError::Epoch(format!(
                "the attestation was made in epoch {:?}: give its epoch certificate",
                leaf.path
            )));
        }
    };
    let statement = AttestStatement {
        model: proof.model,
        dataset: proof.dataset,
        rows: proof.rows,
        classes: proof.classes,
        correct: proof.correct,
        at_least: proof.at_least,
        confusion: proof.confusion.clone(),
    };
    super::epochs::verify_leaf(dataset, &proof.dataset_epoch, dataset_cert)?;
    let wp = WitnessPlan::new(spec, 1 << plan.k);
    let mut tr = start(spec, &statement, &proof.dataset_epoch);
    crate::statement::absorb_epoch(&mut tr, proof.body.epoch.as_ref());
    let mut hook = AttestVerifier {
        plan: &plan,
        dataset,
        leaf: &proof.dataset_epoch.commitment,
        layout: dataset.layout(),
        correct: proof.correct,
        confusion: &proof.confusion,
        p: &proof.argmax,
        lift: LiftPoint::none(),
        inv_claims: Vec::new(),
        aux_claims: Vec::new(),
        mask_claims: Vec::new(),
        label_claim: None,
    };
    crate::zk::verifier::verify_hooked(
        spec,
        mc,
        weights,
        &wp,
        &proof.body,
        Output::Hook(&mut hook),
        None,
        tr,
    )
    .map_err(|e| match e {
        e @ (ProofError::Malformed(_) | ProofError::Shape { .. }) => e,
        e => ProofError::Lookup(format!(
            "the attestation does not prove the stated accuracy on the committed dataset ({e})"
        )),
    })?;
    Ok(statement)
}
