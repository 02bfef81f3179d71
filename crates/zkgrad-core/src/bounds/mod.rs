//! Every size a proof declares, bounded by what the key allows, before the verifier allocates
//! anything for it or loops over it.
//!
//! A proof is attacker-chosen bytes. Three layers keep a hostile one cheap to reject:
//!
//! 1. **Bytes.** [`max_proof_bytes`] bounds an honest proof for a circuit (its statement at the
//!    largest batch the circuit allows, every sumcheck message its schedule fixes, and one WHIR
//!    opening per committed table); a caller that holds the key checks a file's size against it
//!    before reading the file, and [`crate::proof::Proof::from_bytes`] refuses more than
//!    `proof::MAX_PROOF_BYTES` whatever the key.
//! 2. **Decoding.** [`budget`] decodes under a memory budget proportional to the byte count: no
//!    declared length reserves memory, and every decoded element is paid for before it is read.
//! 3. **Shapes.** [`check_statement`] bounds the batch the proof claims (and so every size the
//!    verifier derives from it) by what the circuit's tables can commit, and
//!    [`check_zk_shapes`] checks every sumcheck of a zero-knowledge proof against the schedule
//!    the circuit fixes, before any transcript work or PCS set-up.
//!
//! What is then left proportional to the proof is linear work over data already paid for.

pub(crate) mod budget;
pub(crate) mod versioned;

use p3_field::PrimeCharacteristicRing;

use crate::circuit::CircuitSpec;
use crate::error::{ProofError, Result};
use crate::field::EF;
use crate::mle::{eq_table, log2_ceil};
use crate::pcs::MAX_NUM_VARS;
use crate::proof::Proof;
use crate::witness::WitnessPlan;
use crate::zk::proof::{ZkBlockProof, ZkProof};
use crate::zk::sumcheck::ZkSumcheckProof;
use crate::zk::verifier::WitnessTable;

/// Largest batch any proof may claim (a 2^16-item batch is far beyond what a prover commits).
pub const MAX_BATCH: usize = 1 << 16;

/// An upper bound on one WHIR opening's encoding. Hiding openings of today's models are tens
/// of KiB (a whole 784-128-10 MLP proof, three openings included, is ~230 KB); the bound leaves
/// room for tables up to [`MAX_NUM_VARS`] variables and for retuned parameters (`pcs/params.rs`).
/// It only loosens the byte bound: decoding and the PCS verifier check the opening itself.
pub const MAX_OPENING_BYTES: usize = 4 << 20;

/// The largest encoding of a u64 (bincode's varint: a tag byte and 8 bytes).
const VARINT: usize = 9;
/// The largest encoding of an extension-field element (two base-field coefficients).
const EF_BYTES: usize = 2 * VARINT;

/// The widest committed table a proof for `spec` at `batch` needs, in variables.
fn table_vars(spec: &CircuitSpec, batch: usize) -> usize {
    let plan = WitnessPlan::new(spec, batch);
    let mut vars = WitnessTable::new(spec, &plan).layout.num_vars();
    vars = vars.max(crate::zk::lookup::inverse_layout(&plan).num_vars());
    if spec.committed_input {
        vars = vars.max(crate::zk::input::layout(&plan).num_vars());
    }
    vars
}

/// Whether a proof for `spec` at `batch` stays within what the PCS commits.
fn batch_fits(spec: &CircuitSpec, batch: usize) -> bool {
    batch >= 1 && batch <= MAX_BATCH && table_vars(spec, batch) <= MAX_NUM_VARS
}

/// Largest batch a proof for `spec` may claim: every committed table of the proof must fit the
/// PCS ([`MAX_NUM_VARS`] variables), and never more than [`MAX_BATCH`]. 0 if even one item does
/// not fit.
pub fn max_batch(spec: &CircuitSpec) -> usize {
    // Table sizes depend only on ⌈log2 batch⌉: find the largest power of two that fits.
    let (mut lo, mut hi) = (0usize, log2_ceil(MAX_BATCH));
    if !batch_fits(spec, 1) {
        return 0;
    }
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if batch_fits(spec, 1 << mid) {
            lo = mid
        } else {
            hi = mid - 1
        }
    }
    1 << lo
}

/// An upper bound on the encoded size of any honest proof for `spec` (bytes): the statement at
/// [`max_batch`], every sumcheck message of the zero-knowledge schedule at that batch, the other
/// field elements the blocks and lookups send, the commitments, and [`MAX_OPENING_BYTES`] per
/// opening. Never more than `proof::MAX_PROOF_BYTES`.
pub fn max_proof_bytes(spec: &CircuitSpec) -> usize {
    let cap = crate::proof::MAX_PROOF_BYTES + 6;
    let batch = max_batch(spec);
    if batch == 0 || spec.validate().is_err() {
        return cap;
    }
    let plan = WitnessPlan::new(spec, batch);
    let values = batch * (spec.output_len() + if spec.public_input { spec.input_len } else { 0 });
    let statement = 64 + VARINT * values;
    let mut efs = 0usize;
    let mut vecs = 0usize;
    for s in &WitnessTable::new(spec, &plan).mask_plan.schedules {
        // mask_sum, the rounds (d + 1 values each, one length each), the mask values.
        efs += 1 + s.iter().map(|&d| d + 1).sum::<usize>() + s.len();
        vecs += 2 + s.len();
    }
    // Lookups: an inverse and up to two values per lookup, a multiplicity per table; per block:
    // at most 8 fixed values, every weight piece and pooling window value (bounded by 64 +
    // twice the window).
    efs += 3 * plan.lookups.len() + plan.tables.len() + 4 * plan.unary.len() + 8;
    for l in &spec.layers {
        let window = match &l.kind {
            crate::circuit::LayerKind::MaxPool(g) => g.window(),
            _ => 0,
        };
        efs += 8 + 64 + 2 * window;
        vecs += 4;
    }
    // The witness, inverse and input commitments, the epoch leaf's with its path, and the
    // input epoch leaf's with its path (at most `epoch::MAX_FANOUT` digits).
    let commitments = 5 * (VARINT + 1 + 64 + 2) + 2 * (1 + VARINT) + 16 + 32;
    let openings = 4 * MAX_OPENING_BYTES + VARINT;
    let total = statement + efs * EF_BYTES + vecs * VARINT + commitments + openings;
    total.min(cap)
}

/// Checks the statement's sizes against the circuit before anything is derived from them;
/// returns the batch the proof claims.
pub(crate) fn check_statement(spec: &CircuitSpec, proof: &Proof) -> Result<usize> {
    let out_len = spec.output_len();
    let got = proof.output.len();
    if out_len == 0 || got == 0 || !got.is_multiple_of(out_len) {
        return Err(ProofError::Shape {
            what: "output length (a multiple of the model output)",
            expected: out_len,
            got,
        });
    }
    let batch = got / out_len;
    if batch > MAX_BATCH || !batch_fits(spec, batch) {
        return Err(ProofError::Malformed(format!(
            "the proof claims a batch of {batch}, more than this circuit's tables can commit (at most {})",
            max_batch(spec)
        )));
    }
    if let Some(x) = &proof.input
        && x.len() != batch * spec.input_len
    {
        return Err(ProofError::Shape {
            what: "public input length",
            expected: batch * spec.input_len,
            got: x.len(),
        });
    }
    Ok(batch)
}

/// The sumchecks of a zero-knowledge proof in the order the verifier meets them (and the
/// witness table's mask plan lists them).
fn sumchecks_in_order(z: &ZkProof) -> Vec<&ZkSumcheckProof> {
    let mut list = vec![&z.lookups.sumcheck];
    for b in &z.blocks {
        match b {
            ZkBlockProof::Linear(d) => {
                list.push(&d.sumcheck);
                list.extend(d.relu.as_ref().map(|(s, _)| s));
            }
            ZkBlockProof::Pool(p) => list.extend([&p.link, &p.product]),
            ZkBlockProof::Elementwise(e) => {
                list.push(&e.sumcheck);
                list.extend(e.relu.as_ref().map(|(s, _)| s));
            }
            ZkBlockProof::Unary => {}
            ZkBlockProof::MatMul(m) => {
                list.push(&m.sumcheck);
                list.extend(m.relu.as_ref().map(|(s, _)| s));
            }
        }
    }
    list.extend([&z.inverse_batch.0, &z.weight_batch.0]);
    list.extend(z.input_batch.as_ref().map(|(s, _)| s));
    list.push(&z.witness_batch.0);
    list
}

/// Checks every sumcheck of a zero-knowledge proof against the schedule the circuit fixes
/// (number of sumchecks, rounds, round degrees, mask values), and the number of blocks and
/// openings, before the verifier starts on the transcript.
pub(crate) fn check_zk_shapes(spec: &CircuitSpec, table: &WitnessTable, z: &ZkProof) -> Result<()> {
    let shape = |what, expected: usize, got: usize| {
        if expected == got {
            Ok(())
        } else {
            Err(ProofError::Shape {
                what,
                expected,
                got,
            })
        }
    };
    shape("zero-knowledge blocks", spec.layers.len(), z.blocks.len())?;
    shape(
        "zero-knowledge openings",
        3 + usize::from(spec.committed_input),
        z.openings.len(),
    )?;
    let list = sumchecks_in_order(z);
    let schedules = &table.mask_plan.schedules;
    shape("zero-knowledge sumchecks", schedules.len(), list.len())?;
    for (s, degrees) in list.iter().zip(schedules) {
        shape(
            "zero-knowledge sumcheck rounds",
            degrees.len(),
            s.rounds.len(),
        )?;
        shape(
            "zero-knowledge sumcheck mask values",
            degrees.len(),
            s.mask_evals.len(),
        )?;
        for (h, &d) in s.rounds.iter().zip(degrees) {
            shape("zero-knowledge sumcheck round degree", d + 1, h.len())?;
        }
    }
    Ok(())
}

/// The multilinear extension of output `which` (an index into [`CircuitSpec::output_blocks`])
/// at r = (feature point, batch point), as its block's column lays it out
/// (`layout::batched_column`: each item's values placed in 2^log_out slots, items at the high
/// variables, rows past the batch repeating item 0), evaluated without building the column:
/// memory is 2^log_out field elements, whatever batch the proof claims. Each item of `output`
/// holds every output in statement order.
pub(crate) fn output_eval(
    spec: &CircuitSpec,
    plan: &WitnessPlan,
    output: &[i64],
    which: usize,
    r: &[EF],
) -> EF {
    let blocks = spec.output_blocks();
    let Some(&b) = blocks.get(which) else {
        return EF::ZERO;
    };
    let (Some(last), Some(layer)) = (plan.blocks.get(b), spec.layers.get(b)) else {
        return EF::ZERO;
    };
    let offset: usize = blocks[..which]
        .iter()
        .map(|&k| spec.layers[k].out_dim)
        .sum();
    let span = offset..offset + layer.out_dim;
    let (r_feat, r_batch) = r.split_at(last.log_out.min(r.len()));
    let eq_feat = eq_table(r_feat);
    let shape = layer.out_shape();
    let item = |values: &[i64]| -> EF {
        values
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                eq_feat.get(shape.slot(i)).copied().unwrap_or(EF::ZERO) * crate::field::from_i64(v)
            })
            .sum()
    };
    // eq(r_batch, n) for one item index n.
    let eq_item = |n: usize| -> EF {
        r_batch
            .iter()
            .enumerate()
            .map(|(b, &rb)| if (n >> b) & 1 == 1 { rb } else { EF::ONE - rb })
            .product()
    };
    let mut items = output
        .chunks(spec.output_len().max(1))
        .filter_map(|item| item.get(span.clone()));
    let Some(first) = items.next() else {
        return EF::ZERO;
    };
    let first_value = item(first);
    let mut total = eq_item(0) * first_value;
    let mut weight_seen = eq_item(0);
    for (n, values) in items.enumerate().map(|(n, v)| (n + 1, v)) {
        let w = eq_item(n);
        total += w * item(values);
        weight_seen += w;
    }
    // The rows past the batch repeat item 0; their eq weights sum to 1 − those of the batch.
    total + (EF::ONE - weight_seen) * first_value
}

/// Offsets (in the proof's bytes) of every length field of a proof that decodes: each
/// sequence's, byte string's and map's declared size. Tests and the fuzzer set them to their
/// maximum.
#[doc(hidden)]
pub fn length_fields(bytes: &[u8]) -> Result<Vec<usize>> {
    crate::proof::decode(bytes, true).map(|(_, offsets)| offsets)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::batched_column;
    use crate::mle::evaluate_base;
    use rand::SeedableRng;

    /// The streaming evaluation equals the built column's, for batches that fill their power
    /// of two and batches that do not.
    #[test]
    fn output_eval_matches_the_batched_column() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let mut spec = crate::circuit::CircuitSpec {
            input_len: 5,
            table_bits: 16,
            layers: vec![crate::circuit::DenseSpec {
                name: "fc".into(),
                in_dim: 5,
                out_dim: 3,
                mult: 3,
                shift: 12,
                relu: false,
                kind: crate::circuit::LayerKind::Dense,
            }],
            public_input: false,
            committed_input: false,
            sources: Vec::new(),
            extra_outputs: Vec::new(),
        };
        for batch in [1, 2, 3, 5, 8] {
            let plan = WitnessPlan::new(&spec, batch);
            let output: Vec<i64> = (0..batch * spec.output_len())
                .map(|i| (i as i64 * 7919) % 601 - 300)
                .collect();
            let last = plan.blocks.last().unwrap();
            let shape = spec.layers.last().unwrap().out_shape();
            let rows: Vec<Vec<i64>> = output
                .chunks(spec.output_len())
                .map(|r| shape.place(r, 0))
                .collect();
            let rows: Vec<&[i64]> = rows.iter().map(|r| r.as_slice()).collect();
            let column = batched_column(&rows, last.log_out, plan.log_batch, 0);
            let r: Vec<EF> = (0..last.log_out + plan.log_batch)
                .map(|_| crate::zk::random_ef(&mut rng))
                .collect();
            assert_eq!(
                output_eval(&spec, &plan, &output, 0, &r),
                evaluate_base(&column, &r),
                "batch {batch}"
            );
        }
        spec.layers[0].out_dim = 1;
        assert!(max_batch(&spec) >= 1);
    }

    /// Every sequence of a zero-knowledge proof (a batch, a committed input) has elements no
    /// larger than `budget::MAX_ELEMENT`, which the decoder's reservations rely on.
    #[test]
    fn proof_sequences_stay_within_the_largest_element() {
        use std::cell::Cell;
        use std::rc::Rc;
        let mut spec = crate::circuit::CircuitSpec {
            input_len: 5,
            table_bits: 16,
            layers: vec![crate::circuit::DenseSpec {
                name: "fc".into(),
                in_dim: 5,
                out_dim: 3,
                mult: 3,
                shift: 12,
                relu: true,
                kind: crate::circuit::LayerKind::Dense,
            }],
            public_input: false,
            committed_input: true,
            sources: Vec::new(),
            extra_outputs: Vec::new(),
        };
        let w = crate::circuit::Weights {
            layers: vec![crate::circuit::DenseWeights {
                weight: vec![3; 15],
                bias: vec![1; 3],
            }],
        };
        let x = vec![vec![5i64, -4, 3, 2, 1], vec![1, 2, 3, 4, 5]];
        let committed = crate::prover::prove_with_committed_input(
            &spec,
            &w,
            [1; 32],
            None,
            &x,
            crate::prover::InputEpoch::first([2; 32]),
        )
        .unwrap()
        .0;
        spec.committed_input = false;
        let plain = crate::prover::prove_batch(&spec, &w, [1; 32], &x).unwrap();
        for proof in [committed, plain] {
            let bytes = proof.to_bytes();
            let body = &bytes[crate::proof::HEADER_BYTES..];
            let pos = Rc::new(Cell::new(0));
            let budget = budget::Budget::new(usize::MAX, body, pos.clone(), false);
            budget::read_i64s(&budget).unwrap();
            assert!(!budget::read_option_tag(&budget).unwrap());
            let mut dec = bincode::serde::OwnedSerdeDecoder::from_reader(
                budget::SliceReader { data: body, pos },
                bincode::config::standard(),
            );
            <crate::zk::proof::ZkProof as serde::Deserialize>::deserialize(budget::De {
                inner: dec.as_deserializer(),
                budget: &budget,
            })
            .unwrap();
            let widest = budget.widest.get();
            assert!(
                widest > 0 && widest <= budget::MAX_ELEMENT,
                "widest element {widest} bytes"
            );
            println!("widest sequence element: {widest} bytes");
        }
    }

    /// Lengths that exceed the bytes that follow them are refused while decoding, and the
    /// message says so.
    #[test]
    fn a_declared_length_beyond_the_bytes_is_refused() {
        let mut bytes = crate::proof::MAGIC.to_vec();
        bytes.extend_from_slice(&crate::proof::VERSION.to_le_bytes());
        bytes.extend_from_slice(&crate::proof::SecurityHeader::current().encode());
        bytes.extend_from_slice(&[0; 32]); // the model digest
        bytes.extend_from_slice(&[253, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 1, 2, 3]);
        let err = Proof::from_bytes(&bytes).map(|_| ()).unwrap_err();
        assert!(err.to_string().contains("only 3 bytes follow"), "{err}");
    }
}
