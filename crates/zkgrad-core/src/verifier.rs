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
    verify_with_input(spec, mc, proof, epoch, None)
}

/// [`verify_in_epoch`], with the certificate of the input epoch a proof over a committed input
/// opens (`zk/input.rs`): it links the proof's input leaf to the published input commitment
/// the proof carries. Each input leaf is checked once per process; a leaf checked before needs
/// no certificate again.
pub fn verify_with_input(
    spec: &CircuitSpec,
    mc: &ModelCommitment,
    proof: &Proof,
    epoch: Option<&crate::epoch::EpochCertificate>,
    input_epoch: Option<&crate::epoch::EpochCertificate>,
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
    // The committed input's leaf: linked to the published input commitment by its chain.
    let body = &proof.body;
    match (
        spec.committed_input,
        &body.input_commitment,
        &body.input_epoch,
    ) {
        (false, None, None) => {}
        (true, Some(root), Some(leaf)) => {
            crate::zk::input::check_leaf(spec, batch, root, leaf, input_epoch)?
        }
        (true, _, _) => {
            return Err(ProofError::Malformed(
                "the circuit's input is committed, yet the proof does not name its input commitment and input epoch".into(),
            ));
        }
        (false, _, _) => {
            return Err(ProofError::Malformed(
                "the circuit's input is not committed, yet the proof names an input commitment"
                    .into(),
            ));
        }
    }
    let plan = WitnessPlan::new(spec, batch);
    let public_x = public_input_column(spec, &plan, batch, proof.input.as_deref())?;
    let mut tr = start_transcript(spec, &digest, batch, &proof.output, proof.input.as_deref());
    crate::statement::absorb_epoch(&mut tr, proof.body.epoch.as_ref());
    crate::statement::absorb_input(
        &mut tr,
        body.input_commitment.as_ref(),
        body.input_epoch.as_ref(),
    );
    let output_value =
        |which: usize, r: &[EF]| crate::bounds::output_eval(spec, &plan, &proof.output, which, r);
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
