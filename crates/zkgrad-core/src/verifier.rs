//! The verifier's entry point: checks the statement's shape against the public circuit and the
//! model commitment, replays its transcript opening (`statement.rs`) and verifies the protocol's
//! messages (`zk/verifier.rs`). It works from public data only and never panics on proof
//! contents.

use crate::circuit::CircuitSpec;
use crate::commit::{ModelCommitment, weight_layout};
use crate::error::{ProofError, Result};
use crate::field::EF;
use crate::proof::Proof;
use crate::statement::{public_input_column, start_transcript};
use crate::witness::WitnessPlan;

pub use crate::statement::MAX_BATCH;
pub use crate::zk::verifier::soundness_bits;

/// Verifies a proof against the public circuit and model commitment; returns the verified output.
/// A proof made in an epoch (`crate::epoch`) needs its certificate: [`verify_in_epoch`].
pub fn verify(spec: &CircuitSpec, mc: &ModelCommitment, proof: &Proof) -> Result<Vec<i64>> {
    verify_in_epoch(spec, mc, proof, None)
}

/// [`verify`], with the certificate of the epoch the proof was made in (checked once per link
/// and `mc`); a proof that opens the published commitment itself needs none.
pub fn verify_in_epoch(
    spec: &CircuitSpec,
    mc: &ModelCommitment,
    proof: &Proof,
    epoch: Option<&crate::epoch::EpochCertificate>,
) -> Result<Vec<i64>> {
    spec.validate()?;
    proof
        .security
        .check_against(&crate::proof::SecurityHeader::current())?;
    // Before any cryptography: a proof for another model gets a sentence that says so.
    let digest = mc.digest();
    if proof.model != digest {
        let short = |d: &[u8; 32]| {
            d[..6]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        };
        return Err(ProofError::WrongModel {
            proof: short(&proof.model),
            key: short(&digest),
        });
    }
    // Every size the proof declares is bounded by the circuit before anything is built from it.
    let batch = crate::bounds::check_statement(spec, proof)?;
    if mc.circuit != spec.digest() {
        return Err(ProofError::Commitment);
    }
    let weight_vars = weight_layout(spec).num_vars;
    if mc.num_vars != weight_vars {
        return Err(ProofError::Shape {
            what: "weight polynomial variables",
            expected: weight_vars,
            got: mc.num_vars,
        });
    }
    // The weight commitment the proof opens: its epoch leaf's, linked to `mc` by the certificate.
    let weights = match (&proof.body.epoch, epoch) {
        (None, _) => &mc.pcs,
        // A leaf whose chain this commitment checked before needs no certificate again.
        (Some(leaf), _) if mc.leaf_checked(leaf) => &leaf.commitment,
        (Some(leaf), Some(cert)) => {
            mc.check_range(spec)?;
            crate::epoch::verify_chain(spec, mc, leaf, cert)?;
            mc.mark_leaf(leaf);
            &leaf.commitment
        }
        (Some(leaf), None) => {
            return Err(ProofError::Epoch(format!(
                "the proof was made in epoch {:?}: give its epoch certificate",
                leaf.path
            )));
        }
    };
    let plan = WitnessPlan::new(spec, batch);
    let public_x = public_input_column(spec, &plan, batch, proof.input.as_deref())?;
    let mut tr = start_transcript(spec, &digest, batch, &proof.output, proof.input.as_deref());
    crate::statement::absorb_epoch(&mut tr, proof.body.epoch.as_ref());
    let output_value = |r: &[EF]| crate::bounds::output_eval(spec, &plan, &proof.output, r);
    crate::zk::verifier::verify(
        spec,
        mc,
        weights,
        &plan,
        &proof.body,
        output_value,
        public_x.as_deref(),
        tr,
    )?;
    Ok(proof.output.clone())
}

/// Every component's soundness for a circuit and batch ([`crate::security::proof_report`]).
pub fn soundness_report(
    spec: &CircuitSpec,
    batch: usize,
) -> Result<crate::security::SoundnessReport> {
    crate::security::proof_report(spec, batch)
}
