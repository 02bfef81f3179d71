//! The public statement of a proof, shared by prover and verifier: the transcript's opening
//! (protocol, circuit, model commitment, batch size, output, public input), the columns the
//! verifier computes itself from the public output and input, and the checks of claims against them.
//!
//! Nothing here proves anything; it fixes what the protocol (`zk/`) proves a claim about.

use crate::circuit::CircuitSpec;
use crate::error::{ProofError, Result};
use crate::field::{EF, F};
use crate::layout::batched_column;
use crate::mle::evaluate_base;
use crate::transcript::Transcript;
use crate::witness::WitnessPlan;

/// Domain separator of the inference protocol.
pub const DOMAIN: &[u8] = b"zkgrad/inference/v1";

/// Largest batch a proof may claim (bounds the verifier's work on hostile input).
pub const MAX_BATCH: usize = 1 << 16;

/// Starts the transcript both sides use: protocol, circuit, model commitment, batch size,
/// public output and, when public, the input.
pub(crate) fn start_transcript(
    spec: &CircuitSpec,
    model_digest: &[u8; 32],
    batch: usize,
    output: &[i64],
    input: Option<&[i64]>,
) -> Transcript {
    let mut tr = Transcript::new(DOMAIN);
    tr.absorb_bytes("circuit", &spec.digest());
    tr.absorb_bytes("model-commitment", model_digest);
    tr.absorb_u64s("batch", &[batch as u64]);
    tr.absorb_i64s("output", output);
    if let Some(x) = input {
        tr.absorb_i64s("public-input", x);
    }
    tr
}

/// Binds the epoch leaf the proof opens (`crate::epoch`), right after the statement; nothing
/// for a proof that opens the published commitment.
pub(crate) fn absorb_epoch(tr: &mut Transcript, epoch: Option<&crate::epoch::EpochRef>) {
    if let Some(e) = epoch {
        tr.absorb_bytes("epoch-path", &e.path);
        tr.absorb_bytes("epoch-commitment", &e.commitment.digest());
    }
}

/// Absorbs a committed input's published commitment and the input epoch leaf the proof opens
/// (`zk/input.rs`): both are part of what the proof is about.
pub(crate) fn absorb_input(
    tr: &mut Transcript,
    root: Option<&crate::pcs::Commitment>,
    leaf: Option<&crate::epoch::EpochRef>,
) {
    if let Some(c) = root {
        tr.absorb_bytes("input-commitment", &c.digest());
    }
    if let Some(e) = leaf {
        tr.absorb_bytes("input-epoch-path", &e.path);
        tr.absorb_bytes("input-epoch-commitment", &e.commitment.digest());
    }
}

/// The input column the verifier expects when the input is public (None when it is private).
pub(crate) fn public_input_column(
    spec: &CircuitSpec,
    plan: &WitnessPlan,
    batch: usize,
    input: Option<&[i64]>,
) -> Result<Option<Vec<F>>> {
    let x = match (spec.public_input, input) {
        (false, None) => return Ok(None),
        (false, Some(_)) => {
            return Err(ProofError::PublicInput(
                "the circuit's input is private, yet the proof carries one".into(),
            ));
        }
        (true, None) => {
            return Err(ProofError::PublicInput(
                "the circuit's input is public and the proof carries none".into(),
            ));
        }
        (true, Some(x)) => x,
    };
    if x.len() != batch * spec.input_len {
        return Err(ProofError::Shape {
            what: "public input length",
            expected: batch * spec.input_len,
            got: x.len(),
        });
    }
    let half = plan.signed_offset;
    if let Some(v) = x.iter().find(|&&v| !(-half..half).contains(&v)) {
        return Err(ProofError::PublicInput(format!(
            "value {v} outside the {}-bit range",
            plan.table_bits
        )));
    }
    let placed: Vec<Vec<i64>> = x
        .chunks(spec.input_len)
        .map(|r| plan.input_shape.place(r, 0))
        .collect();
    let rows: Vec<&[i64]> = placed.iter().map(|r| r.as_slice()).collect();
    Ok(Some(batched_column(&rows, plan.log_in, plan.log_batch, 0)))
}

/// A claim on the input column must agree with the public input, when there is one.
pub(crate) fn check_public_claim(
    plan: &WitnessPlan,
    public_x: Option<&[F]>,
    c: usize,
    local: &[EF],
    v: EF,
) -> Result<()> {
    match public_x {
        Some(x) if c == plan.x && evaluate_base(x, local) != v => Err(ProofError::PublicInput(
            "the proof's input column is not the public input".into(),
        )),
        _ => Ok(()),
    }
}
