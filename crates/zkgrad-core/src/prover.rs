//! The prover's entry points: run the integer forward pass, fix the statement (output, public
//! input, model commitment) and prove it with the protocol (`zk/prover.rs`), zero knowledge
//! built in. `verifier.rs` mirrors the statement.

use crate::circuit::{BlockTrace, CircuitSpec, Weights, forward};
use crate::commit::{CommittedWeights, ModelCommitment, zk_commit_with_data};
use crate::error::{ProofError, Result};
use crate::proof::Proof;
use crate::statement::start_transcript;
use crate::zk::prover::Stopwatch;

pub use crate::statement::DOMAIN;
pub use crate::witness::WitnessTamper;

/// Proves one inference; `seed` is the weight-commitment seed chosen at compile time.
///
/// This and the other entry points without an epoch open the published commitment itself,
/// whose zero-knowledge budget the range certificate and the epoch links spend: they serve tests
/// and one-off proofs. Models proving many times use [`prove_in_epoch`] (Python and the CLI
/// always do).
pub fn prove(spec: &CircuitSpec, w: &Weights, seed: [u8; 32], input: &[i64]) -> Result<Proof> {
    prove_inner(
        spec,
        w,
        seed,
        &[input.to_vec()],
        None,
        WeightSource::Fresh,
        None,
    )
    .map(|(p, _)| p)
}

/// What proves a committed input (`CircuitSpec::committed_input`, `zk/input.rs`): the data
/// owner's secret seed (it fixes the published input commitment), which proof over that input
/// this is (its number picks the input epoch whose leaf the proof opens: number them from 0,
/// each once, per published input digest), and optionally the input's epoch certificate made
/// before (its nodes are reused; a stale or foreign one is detected and made afresh).
#[derive(Clone, Copy, Debug)]
pub struct InputEpoch<'a> {
    pub seed: [u8; 32],
    pub number: u64,
    pub known: Option<&'a crate::epoch::EpochCertificate>,
}

impl InputEpoch<'_> {
    /// The first proof over the input made with `seed`.
    pub fn first(seed: [u8; 32]) -> Self {
        Self {
            seed,
            number: 0,
            known: None,
        }
    }
}

/// Proves a batch whose input is committed (`CircuitSpec::committed_input`): `input` fixes the
/// published input commitment (see [`crate::zk::input::commit_input`]) and the input epoch the
/// proof opens; `cached` as in [`prove_committed`]. Returns the proof and the input epoch's
/// certificate, which its verifier needs ([`crate::verifier::verify_with_input`]).
pub fn prove_with_committed_input(
    spec: &CircuitSpec,
    w: &Weights,
    seed: [u8; 32],
    cached: Option<&CommittedWeights>,
    inputs: &[Vec<i64>],
    input: InputEpoch<'_>,
) -> Result<(Proof, crate::epoch::EpochCertificate)> {
    let (proof, cert) = prove_inner(
        spec,
        w,
        seed,
        inputs,
        None,
        WeightSource::from(cached),
        Some(input),
    )?;
    let cert = cert.ok_or_else(|| {
        ProofError::Circuit(
            "the circuit's input is not committed: prove without an input seed".into(),
        )
    })?;
    Ok((proof, cert))
}

/// Proves a batch of inferences in one proof (the batch is one more set of sumcheck variables).
pub fn prove_batch(
    spec: &CircuitSpec,
    w: &Weights,
    seed: [u8; 32],
    inputs: &[Vec<i64>],
) -> Result<Proof> {
    prove_inner(spec, w, seed, inputs, None, WeightSource::Fresh, None).map(|(p, _)| p)
}

/// Like [`prove_batch`], reusing a weight commitment made once (see [`CommittedWeights`]).
pub fn prove_committed(
    spec: &CircuitSpec,
    w: &Weights,
    seed: [u8; 32],
    cw: &CommittedWeights,
    inputs: &[Vec<i64>],
) -> Result<Proof> {
    prove_inner(spec, w, seed, inputs, None, WeightSource::Cached(cw), None).map(|(p, _)| p)
}

/// Like [`prove_committed`], but opens the leaf commitment of the model's epoch `epoch` instead
/// of the published one (`crate::epoch`): `epochs` keeps the tree's nodes, made on first need.
/// Returns the proof and the epoch's certificate, which its verifier needs. A committed input
/// is proved as [`prove_in_epochs`] does; its certificate is dropped here.
#[allow(clippy::too_many_arguments)]
pub fn prove_in_epoch(
    spec: &CircuitSpec,
    w: &Weights,
    seed: [u8; 32],
    identity: &ModelCommitment,
    epochs: &crate::epoch::Epochs,
    epoch: u64,
    inputs: &[Vec<i64>],
    input: Option<InputEpoch<'_>>,
) -> Result<(Proof, crate::epoch::EpochCertificate)> {
    prove_in_epochs(spec, w, seed, identity, epochs, epoch, inputs, input).map(|(p, c, _)| (p, c))
}

/// [`prove_in_epoch`], returning also the certificate of the input epoch the proof opens (when
/// the input is committed: `input` says which proof over the input this is).
#[allow(clippy::too_many_arguments)]
pub fn prove_in_epochs(
    spec: &CircuitSpec,
    w: &Weights,
    seed: [u8; 32],
    identity: &ModelCommitment,
    epochs: &crate::epoch::Epochs,
    epoch: u64,
    inputs: &[Vec<i64>],
    input: Option<InputEpoch<'_>>,
) -> Result<(
    Proof,
    crate::epoch::EpochCertificate,
    Option<crate::epoch::EpochCertificate>,
)> {
    let path = crate::epoch::leaf_path(crate::epoch::fanout(spec), epoch)?;
    let cert = epochs.certificate(spec, w, seed, identity, &path)?;
    let (tables, commitment, data) = crate::epoch::commit_node(spec, w, seed, &path)?;
    let leaf = crate::epoch::EpochRef { path, commitment };
    let source = WeightSource::Epoch {
        identity,
        leaf,
        tables: &tables,
        data,
    };
    let (proof, input_cert) = prove_inner(spec, w, seed, inputs, None, source, input)?;
    Ok((proof, cert, input_cert))
}

/// Like [`prove_batch`], but lets a test play a cheating prover by editing the witness.
#[doc(hidden)]
pub fn prove_tampered(
    spec: &CircuitSpec,
    w: &Weights,
    seed: [u8; 32],
    inputs: &[Vec<i64>],
    t: WitnessTamper,
) -> Result<Proof> {
    prove_inner(spec, w, seed, inputs, Some(t), WeightSource::Fresh, None).map(|(p, _)| p)
}

/// A dishonest prover (soundness tests only): proves the given forward-pass traces (not
/// recomputed from `w`; the public output is their last activations) against the cached, possibly
/// tampered, weight commitment `cw`, editing the witness with `t` before it is committed.
#[doc(hidden)]
pub fn prove_from_traces(
    spec: &CircuitSpec,
    w: &Weights,
    seed: [u8; 32],
    cw: &CommittedWeights,
    inputs: &[Vec<i64>],
    traces: &[Vec<crate::circuit::BlockTrace>],
    t: WitnessTamper,
) -> Result<Proof> {
    let output: Vec<i64> = traces.iter().flat_map(|t| spec.item_output(t)).collect();
    let tr = start_transcript(spec, &cw.commitment.digest(), inputs.len(), &output, None);
    let weight_data = cw.data_for_opening(spec, w, seed)?;
    let body = crate::zk::prover::prove(
        spec,
        w,
        seed,
        inputs,
        traces,
        Some(t),
        weight_data,
        cw.tables(),
        None,
        tr,
    )?;
    Ok(Proof {
        output,
        input: None,
        body,
        security: crate::proof::SecurityHeader::current(),
        model: cw.commitment.digest(),
    })
}

/// Runs the forward pass of every batch item, naming the item in errors.
fn forward_batch(
    spec: &CircuitSpec,
    w: &Weights,
    inputs: &[Vec<i64>],
) -> Result<Vec<Vec<BlockTrace>>> {
    if inputs.is_empty() {
        return Err(ProofError::Witness {
            layer: "input".into(),
            detail: "the batch is empty".into(),
        });
    }
    inputs
        .iter()
        .enumerate()
        .map(|(n, x)| {
            forward(spec, w, x).map_err(|e| match e {
                ProofError::Witness { layer, detail } if inputs.len() > 1 => ProofError::Witness {
                    layer,
                    detail: format!("batch item {n}: {detail}"),
                },
                e => e,
            })
        })
        .collect()
}

/// Which weight commitment a proof opens, and what opens it.
enum WeightSource<'a> {
    /// The published commitment, made here.
    Fresh,
    /// The published commitment, made once (compile time).
    Cached(&'a CommittedWeights),
    /// An epoch's leaf, linked to the published `identity`.
    Epoch {
        identity: &'a ModelCommitment,
        leaf: crate::epoch::EpochRef,
        tables: &'a crate::commit::WeightTables,
        data: crate::pcs::ProverData,
    },
}

impl<'a> From<Option<&'a CommittedWeights>> for WeightSource<'a> {
    fn from(c: Option<&'a CommittedWeights>) -> Self {
        c.map_or(Self::Fresh, Self::Cached)
    }
}

fn prove_inner(
    spec: &CircuitSpec,
    w: &Weights,
    seed: [u8; 32],
    inputs: &[Vec<i64>],
    tamper: Option<WitnessTamper>,
    source: WeightSource<'_>,
    input_epoch: Option<InputEpoch<'_>>,
) -> Result<(Proof, Option<crate::epoch::EpochCertificate>)> {
    spec.validate()?;
    crate::zk::check_supported(spec)?;
    spec.check_weights(w)?;
    crate::progress::report(crate::progress::Stage::Witness);
    let mut sw = Stopwatch::new();
    let traces = forward_batch(spec, w, inputs)?;
    sw.lap("forward pass");
    crate::progress::report(crate::progress::Stage::Commitments);
    // The weight commitment and the data that opens it: kept from compile time, or made here
    // (once: the protocol opens the same data).
    let (mc, weight_data, tables, epoch) = match source {
        WeightSource::Cached(CommittedWeights { commitment: mc, .. })
        | WeightSource::Epoch { identity: mc, .. }
            if mc.circuit != spec.digest() =>
        {
            return Err(ProofError::Circuit(
                "the cached weight commitment belongs to another circuit".into(),
            ));
        }
        WeightSource::Cached(cw) => (
            cw.commitment.clone(),
            cw.data_for_opening(spec, w, seed)?,
            cw.tables(),
            None,
        ),
        WeightSource::Epoch {
            identity,
            leaf,
            tables,
            data,
        } => (identity.clone(), data, Some(tables), Some(leaf)),
        WeightSource::Fresh => {
            let (mc, data) = zk_commit_with_data(spec, w, seed)?;
            (mc, data, None, None)
        }
    };
    sw.lap("weight commitment data");
    let output: Vec<i64> = traces.iter().flat_map(|t| spec.item_output(t)).collect();
    let input: Option<Vec<i64>> = spec.public_input.then(|| inputs.concat());
    let mut tr = start_transcript(spec, &mc.digest(), inputs.len(), &output, input.as_deref());
    crate::statement::absorb_epoch(&mut tr, epoch.as_ref());
    // A committed input: its table, and the epoch leaf this proof opens (`zk/input.rs`), bound
    // to the statement before any other commitment.
    let committed = match (spec.committed_input, input_epoch) {
        (true, Some(i)) => {
            let plan = crate::witness::WitnessPlan::new(spec, inputs.len());
            let ds = crate::zk::input::commit(
                spec,
                &plan,
                inputs.len(),
                &plan.input_column(inputs),
                i.seed,
            )?;
            Some((ds, i))
        }
        (true, None) => {
            return Err(ProofError::Circuit(
                "the circuit's input is committed: give the input's commitment seed".into(),
            ));
        }
        (false, Some(_)) => {
            return Err(ProofError::Circuit(
                "the circuit's input is not committed: prove without an input seed".into(),
            ));
        }
        (false, None) => None,
    };
    let opened = match &committed {
        Some((ds, i)) => Some(ds.open_leaf(
            &crate::zk::input::leaf_for_proof(spec, inputs.len(), i.number)?,
            i.known,
        )?),
        None => None,
    };
    sw.lap("input epoch leaf and certificate");
    let input_root = committed.as_ref().map(|(ds, _)| ds.commitment.pcs.clone());
    crate::statement::absorb_input(
        &mut tr,
        input_root.as_ref(),
        opened.as_ref().map(|(leaf, _)| &leaf.epoch),
    );
    let mut body = crate::zk::prover::prove(
        spec,
        w,
        seed,
        inputs,
        &traces,
        tamper,
        weight_data,
        tables,
        opened.as_ref().map(|(leaf, _)| leaf),
        tr,
    )?;
    body.epoch = epoch;
    body.input_commitment = input_root;
    let input_cert = opened.map(|(leaf, cert)| {
        body.input_epoch = Some(leaf.epoch);
        cert
    });
    Ok((
        Proof {
            output,
            input,
            body,
            security: crate::proof::SecurityHeader::current(),
            model: mc.digest(),
        },
        input_cert,
    ))
}
