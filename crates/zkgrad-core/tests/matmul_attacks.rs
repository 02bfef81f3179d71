//! A hostile review of `LayerKind::MatMul` (`zk/matmul.rs`) and `CircuitSpec::extra_outputs`:
//! every attack tried is a test. Tests that pass document an attack the system holds against;
//! a break is marked `#[ignore = "BREAK: …"]`.
//!
//! Circuits: A is the circuit input (its padding is the prover's to choose) or a dense output,
//! B a dense output (flat, so its row length is a power of two) or a convolution's output
//! (channels = B's rows, positions = B's columns, any row length); shapes cover rows = 1,
//! cols = 1, inner = 2, non-powers of two in every dimension and matrices so small that their
//! columns are widened to `MIN_COLUMN_VARS` variables.

use p3_field::PrimeCharacteristicRing;
use zkgrad_core::circuit::{
    ActShape, CircuitSpec, ConvGeom, DenseSpec, DenseWeights, LayerKind, MatMulGeom, Operand,
    Weights, forward,
};
use zkgrad_core::commit::{CommittedWeights, commit_model};
use zkgrad_core::field::{EF, F, from_i64};
use zkgrad_core::proof::Proof;
use zkgrad_core::prover::{prove, prove_batch, prove_from_traces, prove_tampered};
use zkgrad_core::verifier::verify;
use zkgrad_core::witness::WitnessPlan;
use zkgrad_core::zk::proof::ZkBlockProof;

mod common;

const SEED: [u8; 32] = [9; 32];

fn dense(name: &str, in_dim: usize, out_dim: usize, relu: bool) -> DenseSpec {
    DenseSpec {
        name: name.into(),
        in_dim,
        out_dim,
        mult: 3,
        shift: 12,
        relu,
        kind: LayerKind::Dense,
    }
}

fn product(rows: usize, inner: usize, cols: usize, other: Operand, relu: bool) -> DenseSpec {
    DenseSpec {
        name: "prod".into(),
        in_dim: rows * inner,
        out_dim: rows * cols,
        mult: 1,
        shift: 4,
        relu,
        kind: LayerKind::MatMul(MatMulGeom {
            other,
            heads: 1,
            rows,
            inner,
            cols,
        }),
    }
}

/// A 1×2 convolution over a 1 × (cols + 1) image with `inner` output channels: an
/// `inner × cols` matrix stored one channel per row (any row length).
fn conv(inner: usize, cols: usize) -> DenseSpec {
    DenseSpec {
        name: "conv_b".into(),
        in_dim: cols + 1,
        out_dim: inner * cols,
        mult: 3,
        shift: 10,
        relu: false,
        kind: LayerKind::Conv(ConvGeom {
            in_channels: 1,
            in_hw: [1, cols + 1],
            out_channels: inner,
            kernel: [1, 2],
            stride: [1, 1],
            pads: [0; 4],
        }),
    }
}

fn weights(rng: &mut common::Lcg, i: usize, o: usize) -> DenseWeights {
    DenseWeights {
        weight: (0..i * o).map(|_| rng.next(-300, 300)).collect(),
        bias: (0..o).map(|_| rng.next(-3000, 3000)).collect(),
    }
}

fn none() -> DenseWeights {
    DenseWeights {
        weight: Vec::new(),
        bias: Vec::new(),
    }
}

/// Which block is A.
#[derive(Clone, Copy, PartialEq)]
enum ASrc {
    /// The circuit input (its padding is free).
    Input,
    /// A dense output of the input (needs `inner` a power of two).
    Dense,
}

/// x → [fc_a] → A (rows × inner); x → fc_b (flat, cols a power of two) or fc_pre → conv_b → B
/// (inner × cols); prod = A·B; an optional dense head. Returns the spec, weights, one input,
/// and the matmul's index.
fn shaped(
    rows: usize,
    inner: usize,
    cols: usize,
    a_src: ASrc,
    relu: bool,
    head: bool,
    seed: u64,
) -> (CircuitSpec, Weights, Vec<i64>, usize) {
    let mut rng = common::Lcg(seed);
    let n_in = rows * inner;
    let mut layers = Vec::new();
    let mut ws = Vec::new();
    let mut sources = Vec::new();
    let a_op = match a_src {
        ASrc::Input => Operand::Input,
        ASrc::Dense => {
            layers.push(dense("fc_a", n_in, rows * inner, false));
            ws.push(weights(&mut rng, n_in, rows * inner));
            sources.push(Operand::Input);
            Operand::Block(layers.len() - 1)
        }
    };
    if cols.is_power_of_two() {
        layers.push(dense("fc_b", n_in, inner * cols, false));
        ws.push(weights(&mut rng, n_in, inner * cols));
        sources.push(Operand::Input);
    } else {
        layers.push(dense("fc_pre", n_in, cols + 1, false));
        ws.push(weights(&mut rng, n_in, cols + 1));
        sources.push(Operand::Input);
        layers.push(conv(inner, cols));
        ws.push(weights(&mut rng, 2, inner));
        sources.push(Operand::Block(layers.len() - 2));
    }
    let b_op = Operand::Block(layers.len() - 1);
    layers.push(product(rows, inner, cols, b_op, relu));
    ws.push(none());
    sources.push(a_op);
    let mm = layers.len() - 1;
    if head {
        layers.push(DenseSpec {
            mult: 1,
            shift: 16,
            ..dense("head", rows * cols, 3, false)
        });
        ws.push(weights(&mut rng, rows * cols, 3));
        sources.push(Operand::Block(mm));
    }
    let spec = CircuitSpec {
        input_len: n_in,
        table_bits: 16,
        layers,
        public_input: false,
        committed_input: false,
        sources,
        extra_outputs: Vec::new(),
    };
    spec.validate()
        .unwrap_or_else(|e| panic!("{rows}×{inner}·{inner}×{cols}: {e}"));
    let x = input(&mut rng, n_in);
    (spec, Weights { layers: ws }, x, mm)
}

fn input(rng: &mut common::Lcg, n: usize) -> Vec<i64> {
    (0..n).map(|_| rng.next(-60, 60)).collect()
}

/// Columns (logical index → slot) of a stored shape that hold no value.
fn padding_slots(shape: ActShape, n: usize) -> Vec<usize> {
    let real: Vec<usize> = (0..n).map(|i| shape.slot(i)).collect();
    (0..1usize << shape.log_size())
        .filter(|s| !real.contains(s))
        .collect()
}

/// Honest proofs for every shape the review asked about: the round degrees of
/// `matmul::schedule` and every variable split (j, t, i, n; μ_A ≠ μ_O on widened columns; B's
/// unused high variables) must fit, or an honest proof fails.
#[test]
fn every_shape_proves_and_verifies() {
    let shapes: [(usize, usize, usize); 15] = [
        (1, 2, 1),
        (1, 2, 2),
        (2, 2, 1),
        (1, 3, 1),
        (1, 4, 1),
        (3, 3, 1),
        (3, 3, 3),
        (1, 3, 5),
        (5, 3, 3),
        (2, 5, 3),
        (3, 2, 5),
        (7, 3, 2),
        (1, 2, 4),
        (2, 2, 2),
        (4, 4, 4),
    ];
    for (k, &(rows, inner, cols)) in shapes.iter().enumerate() {
        for a_src in [ASrc::Input, ASrc::Dense] {
            if a_src == ASrc::Dense && !inner.is_power_of_two() {
                continue;
            }
            let relu = k % 2 == 0;
            let head = k % 3 != 0;
            let (spec, w, x, mm) = shaped(rows, inner, cols, a_src, relu, head, 10 + k as u64);
            let t = forward(&spec, &w, &x).unwrap();
            assert!(
                t[mm].z.iter().any(|&z| z != 0),
                "{rows}×{inner}·{inner}×{cols}: a zero accumulator tests little"
            );
            let proof = prove(&spec, &w, SEED, &x)
                .unwrap_or_else(|e| panic!("{rows}×{inner}·{inner}×{cols}: {e}"));
            common::verifies(&spec, &w, SEED, &proof)
                .unwrap_or_else(|e| panic!("{rows}×{inner}·{inner}×{cols}: {e}"));
        }
    }
}

/// Batches of 2, 3 and 5 (padding batch items repeat item 0) on small and ragged shapes.
#[test]
fn batches_of_every_size_prove_and_verify() {
    for (k, &(rows, inner, cols, batch)) in [
        (1, 2, 1, 3),
        (3, 3, 1, 5),
        (2, 5, 3, 3),
        (1, 3, 5, 2),
        (2, 2, 2, 5),
    ]
    .iter()
    .enumerate()
    {
        let (spec, w, _, _) = shaped(
            rows,
            inner,
            cols,
            ASrc::Input,
            k % 2 == 1,
            k != 2,
            40 + k as u64,
        );
        let mut rng = common::Lcg(77 + k as u64);
        let xs: Vec<Vec<i64>> = (0..batch)
            .map(|_| input(&mut rng, spec.input_len))
            .collect();
        let proof = prove_batch(&spec, &w, SEED, &xs)
            .unwrap_or_else(|e| panic!("{rows}×{inner}·{inner}×{cols} batch {batch}: {e}"));
        common::verifies(&spec, &w, SEED, &proof)
            .unwrap_or_else(|e| panic!("{rows}×{inner}·{inner}×{cols} batch {batch}: {e}"));
        // The last item's stated output changed: rejected.
        let mut bad = proof.clone();
        let n = bad.output.len();
        bad.output[n - 1] += 1;
        assert!(common::verifies(&spec, &w, SEED, &bad).is_err());
    }
}

/// A is the circuit input, whose padding (rows ≥ `rows`, entries t ≥ `inner`, the rows a
/// widened column adds) the prover fills at will: the verified output is the honest one, so
/// S_A never reads it (and the other reader of the input, a dense block, never does either).
#[test]
fn the_inputs_padding_never_changes_the_product() {
    for (k, &(rows, inner, cols)) in [
        (1, 2, 1),
        (1, 2, 2),
        (2, 3, 2),
        (3, 3, 1),
        (3, 3, 3),
        (1, 3, 5),
    ]
    .iter()
    .enumerate()
    {
        let (spec, w, x, mm) = shaped(rows, inner, cols, ASrc::Input, false, false, 60 + k as u64);
        let shape = spec.input_shape();
        let pads = padding_slots(shape, spec.input_len);
        assert!(!pads.is_empty());
        let honest = forward(&spec, &w, &x).unwrap()[mm].a.clone();
        for fill in [1, -1000, 32000] {
            let pads = pads.clone();
            let edit = move |plan: &WitnessPlan, cols: &mut Vec<Vec<F>>| {
                for &s in &pads {
                    cols[plan.x][s] = from_i64(fill + s as i64);
                }
                plan.refresh_multiplicities(cols);
            };
            let p = prove_tampered(&spec, &w, SEED, &[x.clone()], &edit).unwrap();
            assert_eq!(p.output, honest);
            common::verifies(&spec, &w, SEED, &p)
                .unwrap_or_else(|e| panic!("{rows}×{inner}·{inner}×{cols} fill {fill}: {e}"));
        }
    }
}

/// The dishonest prover the padding would help: the input's padding entries t ≥ inner chosen,
/// and the product's output stated as if they were read (row i sums t over the whole padded
/// row, B's padding rows are 0, so a padded *row* of A is what could matter: the output's
/// padding rows). Every such lie is rejected.
#[test]
fn a_product_that_reads_the_padding_is_rejected() {
    // 3 rows stored in 4: A's row 3 is padding; with it filled, the "product" row 3 is nonzero.
    let (spec, w, x, mm) = shaped(3, 2, 2, ASrc::Input, false, false, 70);
    let t = forward(&spec, &w, &x).unwrap();
    let b = t[mm - 1].a.clone(); // B (2 × 2)
    let a_pad = [40i64, -50];
    let row3: Vec<i64> = (0..2)
        .map(|j| {
            let z: i64 = (0..2).map(|tt| a_pad[tt] * b[tt * 2 + j]).sum();
            zkgrad_core::circuit::requant_value(z, 1, 4)
        })
        .collect();
    assert!(row3.iter().any(|&v| v != 0));
    let edit = move |plan: &WitnessPlan, cols: &mut Vec<Vec<F>>| {
        cols[plan.x][6] = from_i64(a_pad[0]);
        cols[plan.x][7] = from_i64(a_pad[1]);
        let blk = &plan.blocks[mm];
        let tc = blk.t.unwrap();
        for j in 0..2 {
            let z: i64 = (0..2).map(|tt| a_pad[tt] * b[tt * 2 + j]).sum();
            // 2^16·q + t = z·m_b + 2^15 with m_b = 2^12.
            let v = z * 4096 + (1 << 15);
            let q = v.div_euclid(1 << 16);
            cols[blk.q][6 + j] = from_i64(q);
            cols[tc][6 + j] = from_i64(v.rem_euclid(1 << 16));
        }
        plan.refresh_multiplicities(cols);
    };
    match prove_tampered(&spec, &w, SEED, &[x], &edit) {
        Ok(p) => {
            let err = common::verifies(&spec, &w, SEED, &p).unwrap_err();
            println!("padding-row product: {err}");
        }
        Err(e) => println!("refused at proof time: {e}"),
    }
}

/// Lies in the product's own padding: a column j ≥ cols (B's padding column), a row beyond
/// `rows`, a row a widened output column adds: each rejected.
#[test]
fn values_in_the_products_padding_are_rejected() {
    for (k, &(rows, inner, cols)) in [(1, 2, 1), (2, 3, 3), (3, 3, 1), (1, 3, 5)]
        .iter()
        .enumerate()
    {
        let (spec, w, x, mm) = shaped(rows, inner, cols, ASrc::Input, false, false, 80 + k as u64);
        let out = spec.layers[mm].out_shape();
        for s in padding_slots(out, rows * cols).into_iter().take(3) {
            for (dq, dt) in [(1i64, 0i64), (0, 5), (-1, 1 << 15)] {
                let edit = move |plan: &WitnessPlan, cols: &mut Vec<Vec<F>>| {
                    let b = &plan.blocks[mm];
                    cols[b.q][s] += from_i64(dq);
                    cols[b.t.unwrap()][s] += from_i64(dt);
                    plan.refresh_multiplicities(cols);
                };
                if let Ok(p) = prove_tampered(&spec, &w, SEED, &[x.clone()], &edit) {
                    assert!(
                        common::verifies(&spec, &w, SEED, &p).is_err(),
                        "{rows}×{inner}·{inner}×{cols}: slot {s} edit ({dq}, {dt}) accepted"
                    );
                }
            }
        }
    }
}

/// B's padding column (j = cols) filled in its producer (a convolution, cols = 3 stored in 4),
/// and the product's padding column recomputed to match, so the product's own relation holds:
/// the convolution's relation rejects it.
#[test]
fn a_value_in_bs_padding_is_rejected() {
    let (spec, w, x, mm) = shaped(2, 3, 3, ASrc::Input, false, false, 90);
    let a_vals = x.clone(); // A = x (2 × 3)
    let edit = move |plan: &WitnessPlan, cols: &mut Vec<Vec<F>>| {
        let bb = &plan.blocks[mm - 1];
        // B stored 3 channels of 3 positions in 4 × 4: slot (t << 2) | 3 is padding.
        let bvals = [7i64, -9, 11];
        for (tt, &v) in bvals.iter().enumerate() {
            let s = (tt << 2) | 3;
            cols[bb.q][s] = from_i64(v);
            if bb.a != bb.q {
                cols[bb.a][s] = from_i64(v);
            }
            cols[bb.t.unwrap()][s] = from_i64(1 << 15);
        }
        let blk = &plan.blocks[mm];
        for i in 0..2 {
            let z: i64 = (0..3).map(|tt| a_vals[i * 3 + tt] * bvals[tt]).sum();
            let v = z * 4096 + (1 << 15);
            let s = (i << 2) | 3;
            cols[blk.q][s] = from_i64(v.div_euclid(1 << 16));
            cols[blk.t.unwrap()][s] = from_i64(v.rem_euclid(1 << 16));
        }
        plan.refresh_multiplicities(cols);
    };
    if let Ok(p) = prove_tampered(&spec, &w, SEED, &[x], &edit) {
        let err = common::verifies(&spec, &w, SEED, &p).unwrap_err();
        assert!(
            !err.contains("'prod'"),
            "the product's relation should hold: {err}"
        );
        println!("B padding: {err}");
    }
}

/// Wrong-but-consistent products on ragged and widened shapes: a real entry of the product
/// wrong, everything after it recomputed.
#[test]
fn wrong_but_consistent_products_are_rejected() {
    for (k, &(rows, inner, cols)) in [(1, 2, 1), (2, 5, 3), (3, 3, 3), (1, 3, 5)]
        .iter()
        .enumerate()
    {
        let (spec, w, x, mm) = shaped(rows, inner, cols, ASrc::Input, true, true, 100 + k as u64);
        let cw = CommittedWeights::new(&spec, &w, SEED).unwrap();
        for (i, delta) in [(0usize, 1i64), (rows * cols - 1, -3)] {
            let mut t = forward(&spec, &w, &x).unwrap();
            t[mm].z[i] += delta * 16;
            t[mm].q[i] += delta;
            t[mm].a[i] = t[mm].q[i].max(0);
            t[mm + 1] = zkgrad_core::circuit::run_block(
                &spec.layers[mm + 1],
                &w.layers[mm + 1],
                &t[mm].a,
                16,
            )
            .unwrap();
            let p =
                prove_from_traces(&spec, &w, SEED, &cw, &[x.clone()], &[t], &|_, _| {}).unwrap();
            let err = verify(&spec, &cw.commitment, &common::roundtrip(&p))
                .unwrap_err()
                .to_string();
            assert!(err.contains("prod"), "{rows}×{inner}·{inner}×{cols}: {err}");
        }
    }
}

/// A·A where `other` is the source itself (a square product of one column): a narrow column
/// (2 × 2, widened to 3 variables) read twice by one block, and a 4 × 4 one; then the same
/// narrow column read a third time (refused by the circuit), and a wide one read by many
/// products (proved, or refused at proof time by the budget check, never a silent leak).
#[test]
fn a_square_of_one_column() {
    for n in [2usize, 4] {
        let mut rng = common::Lcg(110 + n as u64);
        let spec = CircuitSpec {
            input_len: n * n,
            table_bits: 16,
            layers: vec![
                dense("fc_a", n * n, n * n, false),
                product(n, n, n, Operand::Block(0), false),
            ],
            public_input: false,
            committed_input: false,
            sources: vec![Operand::Input, Operand::Block(0)],
            extra_outputs: Vec::new(),
        };
        spec.validate().unwrap();
        let w = Weights {
            layers: vec![weights(&mut rng, n * n, n * n), none()],
        };
        let x = input(&mut rng, n * n);
        match prove(&spec, &w, SEED, &x) {
            Ok(p) => common::verifies(&spec, &w, SEED, &p).unwrap(),
            Err(e) => {
                let e = e.to_string();
                assert!(e.contains("zero knowledge"), "A·A {n}×{n}: {e}");
                println!("A·A {n}×{n} refused: {e}");
            }
        }
        // The input itself squared (both operands the input; no padding when n = 4).
        if n == 4 {
            let spec = CircuitSpec {
                input_len: 16,
                table_bits: 16,
                layers: vec![product(4, 4, 4, Operand::Input, false)],
                public_input: false,
                committed_input: false,
                sources: vec![Operand::Input],
                extra_outputs: Vec::new(),
            };
            spec.validate().unwrap();
            let w = Weights {
                layers: vec![none()],
            };
            let p = prove(&spec, &w, SEED, &x).unwrap();
            common::verifies(&spec, &w, SEED, &p).unwrap();
            let mut public = spec.clone();
            public.public_input = true;
            let p = prove(&public, &w, SEED, &x).unwrap();
            common::verifies(&public, &w, SEED, &p).unwrap();
        }
    }
    // A narrow column (4 values) read as A and B of one product and by a dense head: three
    // readers, refused with the circuit.
    let spec = CircuitSpec {
        input_len: 4,
        table_bits: 16,
        layers: vec![
            dense("fc_a", 4, 4, false),
            product(2, 2, 2, Operand::Block(0), false),
            dense("head", 4, 2, false),
        ],
        public_input: false,
        committed_input: false,
        sources: vec![Operand::Input, Operand::Block(0), Operand::Block(0)],
        extra_outputs: Vec::new(),
    };
    let err = spec.validate().unwrap_err().to_string();
    assert!(err.contains("read by 3 blocks"), "{err}");
    // A narrow column read as A by two products (B another column): two readers, allowed.
    let mut rng = common::Lcg(120);
    let spec = CircuitSpec {
        input_len: 4,
        table_bits: 16,
        layers: vec![
            dense("fc_a", 4, 4, false),
            dense("fc_b", 4, 4, false),
            product(2, 2, 2, Operand::Block(1), false),
            DenseSpec {
                name: "prod2".into(),
                ..product(2, 2, 2, Operand::Block(1), true)
            },
        ],
        public_input: false,
        committed_input: false,
        sources: vec![
            Operand::Input,
            Operand::Input,
            Operand::Block(0),
            Operand::Block(0),
        ],
        extra_outputs: vec![2],
    };
    spec.validate().unwrap();
    let w = Weights {
        layers: vec![
            weights(&mut rng, 4, 4),
            weights(&mut rng, 4, 4),
            none(),
            none(),
        ],
    };
    let x = input(&mut rng, 4);
    match prove(&spec, &w, SEED, &x) {
        Ok(p) => common::verifies(&spec, &w, SEED, &p).unwrap(),
        Err(e) => {
            let e = e.to_string();
            assert!(
                e.contains("zero knowledge"),
                "two products of one narrow A: {e}"
            );
            println!("two products of one narrow A refused: {e}");
        }
    }
    // A wide column (4 × 4 = 16 values, 4 variables: no reader limit) squared by five blocks:
    // 2 + 10 claims on a mask space of 16 — the budget check must refuse it at proof time.
    let mut rng = common::Lcg(121);
    let mut layers = vec![dense("fc_a", 16, 16, false)];
    let mut sources = vec![Operand::Input];
    let mut ws = vec![weights(&mut rng, 16, 16)];
    for k in 0..5 {
        layers.push(DenseSpec {
            name: format!("sq{k}"),
            ..product(4, 4, 4, Operand::Block(0), false)
        });
        sources.push(Operand::Block(0));
        ws.push(none());
    }
    let spec = CircuitSpec {
        input_len: 16,
        table_bits: 16,
        layers,
        public_input: false,
        committed_input: false,
        sources,
        extra_outputs: vec![1, 2, 3, 4],
    };
    spec.validate().unwrap();
    let w = Weights { layers: ws };
    let x = input(&mut rng, 16);
    let e = prove(&spec, &w, SEED, &x)
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(e.contains("zero knowledge cannot hold"), "{e}");
}

/// B the circuit input (no padding: 4 × 2), public and private; a changed public input or a
/// changed stated output is rejected.
#[test]
fn the_input_as_b() {
    let mut rng = common::Lcg(130);
    for public in [false, true] {
        let spec = CircuitSpec {
            input_len: 8,
            table_bits: 16,
            layers: vec![
                dense("fc_a", 8, 12, false),
                product(3, 4, 2, Operand::Input, true),
            ],
            public_input: public,
            committed_input: false,
            sources: vec![Operand::Input, Operand::Block(0)],
            extra_outputs: Vec::new(),
        };
        spec.validate().unwrap();
        let w = Weights {
            layers: vec![weights(&mut rng, 8, 12), none()],
        };
        let x = input(&mut rng, 8);
        let p = prove(&spec, &w, SEED, &x).unwrap();
        common::verifies(&spec, &w, SEED, &p).unwrap();
        if public {
            let mut bad = p.clone();
            bad.input.as_mut().unwrap()[3] += 1;
            assert!(common::verifies(&spec, &w, SEED, &bad).is_err());
        }
        let mut bad = p.clone();
        bad.output[0] += 1;
        assert!(common::verifies(&spec, &w, SEED, &bad).is_err());
    }
}

/// Two candidate second operands of the same shape (fc_b1, fc_b2): a proof for the circuit
/// whose product reads fc_b1 does not verify for the one that reads fc_b2 (the circuit digest
/// binds `other`), nor with `rows`/`cols` swapped on a square product.
#[test]
fn a_proof_for_another_operand_is_rejected() {
    let mut rng = common::Lcg(140);
    let make = |other: usize| CircuitSpec {
        input_len: 16,
        table_bits: 16,
        layers: vec![
            dense("fc_a", 16, 8, false),
            dense("fc_b1", 16, 8, false),
            dense("fc_b2", 16, 8, false),
            product(2, 4, 2, Operand::Block(other), false),
        ],
        public_input: false,
        committed_input: false,
        sources: vec![
            Operand::Input,
            Operand::Input,
            Operand::Input,
            Operand::Block(0),
        ],
        extra_outputs: Vec::new(),
    };
    let (s1, s2) = (make(1), make(2));
    s1.validate().unwrap();
    s2.validate().unwrap();
    let w = Weights {
        layers: vec![
            weights(&mut rng, 16, 8),
            weights(&mut rng, 16, 8),
            weights(&mut rng, 16, 8),
            none(),
        ],
    };
    let x = input(&mut rng, 16);
    let p = prove(&s1, &w, SEED, &x).unwrap();
    common::verifies(&s1, &w, SEED, &p).unwrap();
    assert!(common::verifies(&s2, &w, SEED, &p).is_err());
    // With s2's commitment but the proof's model digest rewritten to it: the transcript
    // (which absorbs the circuit digest) still differs.
    let mc2 = commit_model(&s2, &w, SEED).unwrap();
    let mut forged = common::roundtrip(&p);
    forged.model = mc2.digest();
    assert!(verify(&s2, &mc2, &forged).is_err());
}

/// B stored flat with a row length that is not a power of two (a 2 × 3 B from a dense block
/// of 6 outputs): its rows are not the channels the relation reads, so the circuit refuses it.
#[test]
fn a_flat_b_with_a_ragged_row_is_refused() {
    let spec = CircuitSpec {
        input_len: 6,
        table_bits: 16,
        layers: vec![
            dense("fc_a", 6, 6, false),
            dense("fc_b", 6, 6, true),
            product(3, 2, 3, Operand::Block(1), true),
        ],
        public_input: false,
        committed_input: false,
        sources: vec![Operand::Input, Operand::Input, Operand::Block(0)],
        extra_outputs: Vec::new(),
    };
    let err = spec.validate().unwrap_err().to_string();
    assert!(err.contains("second operand"), "{err}");
    // A stored flat with a ragged row (3 × 3 from a dense of 9): refused too.
    let spec = CircuitSpec {
        input_len: 6,
        table_bits: 16,
        layers: vec![
            dense("fc_a", 6, 9, false),
            dense("fc_b", 6, 6, true),
            product(3, 3, 2, Operand::Block(1), true),
        ],
        public_input: false,
        committed_input: false,
        sources: vec![Operand::Input, Operand::Input, Operand::Block(0)],
        extra_outputs: Vec::new(),
    };
    assert!(spec.validate().is_err());
}

/// A product (3 × 2 · 2 × 2, ReLU) stated as an extra output beside the head, and its B.
fn extra_circuit(extra: Vec<usize>, seed: u64) -> (CircuitSpec, Weights, Vec<i64>) {
    let mut rng = common::Lcg(seed);
    let spec = CircuitSpec {
        input_len: 6,
        table_bits: 16,
        layers: vec![
            dense("fc_a", 6, 6, false),
            dense("fc_b", 6, 4, true),
            product(3, 2, 2, Operand::Block(1), true),
            dense("head", 6, 2, false),
        ],
        public_input: false,
        committed_input: false,
        sources: vec![
            Operand::Input,
            Operand::Input,
            Operand::Block(0),
            Operand::Block(2),
        ],
        extra_outputs: extra,
    };
    spec.validate().unwrap();
    let w = Weights {
        layers: vec![
            weights(&mut rng, 6, 6),
            weights(&mut rng, 6, 4),
            none(),
            weights(&mut rng, 6, 2),
        ],
    };
    let x = input(&mut rng, 6);
    (spec, w, x)
}

#[test]
fn extra_outputs_of_a_product_and_its_operands() {
    for extra in [vec![2], vec![1], vec![2, 1, 0], vec![0, 2]] {
        let (spec, w, x) = extra_circuit(extra.clone(), 150);
        let t = forward(&spec, &w, &x).unwrap();
        let proof = prove(&spec, &w, SEED, &x).unwrap();
        let want: Vec<i64> = spec
            .output_blocks()
            .iter()
            .flat_map(|&b| t[b].a.clone())
            .collect();
        assert_eq!(proof.output, want);
        common::verifies(&spec, &w, SEED, &proof).unwrap_or_else(|e| panic!("{extra:?}: {e}"));
        for i in 0..proof.output.len() {
            let mut bad = proof.clone();
            bad.output[i] += 1;
            assert!(
                common::verifies(&spec, &w, SEED, &bad).is_err(),
                "{extra:?}: entry {i} changed and accepted"
            );
        }
        // A batch of 3: each item's stated extra outputs are bound.
        let mut rng = common::Lcg(151);
        let xs: Vec<Vec<i64>> = (0..3).map(|_| input(&mut rng, 6)).collect();
        let proof = prove_batch(&spec, &w, SEED, &xs).unwrap();
        common::verifies(&spec, &w, SEED, &proof).unwrap();
        let per = spec.output_len();
        for i in [per + 2, 2 * per + per - 1, 2 * per] {
            let mut bad = proof.clone();
            bad.output[i] -= 1;
            assert!(
                common::verifies(&spec, &w, SEED, &bad).is_err(),
                "{extra:?}: {i}"
            );
        }
        // Two items' outputs swapped (the statement's item order is bound).
        let mut bad = proof.clone();
        let (a, b) = bad.output.split_at_mut(per);
        a.swap_with_slice(&mut b[..per]);
        if bad.output != proof.output {
            assert!(common::verifies(&spec, &w, SEED, &bad).is_err());
        }
    }
}

/// The ReLU extra output's hidden pre-activation q stays masked; a stated output that is a
/// different ReLU of the same q (negative entries stated as their q, not 0) is rejected.
#[test]
fn an_extra_output_stated_before_its_relu_is_rejected() {
    let (spec, w, x) = extra_circuit(vec![1], 152);
    let t = forward(&spec, &w, &x).unwrap();
    assert!(
        t[1].q.iter().any(|&v| v < 0),
        "fc_b has no negative pre-activation"
    );
    let proof = prove(&spec, &w, SEED, &x).unwrap();
    let mut bad = proof.clone();
    let head = spec.layers[3].out_dim;
    bad.output[head..head + 4].copy_from_slice(&t[1].q);
    assert!(common::verifies(&spec, &w, SEED, &bad).is_err());
}

/// A proof for one list of extra outputs checked against another list of the same total
/// length (a permutation, another block of the same size): rejected by the digest.
#[test]
fn a_proof_for_other_extra_outputs_is_rejected() {
    // fc_a (6) and the product (6) have the same size.
    let (s02, w, x) = extra_circuit(vec![0, 2], 153);
    let (s20, ..) = extra_circuit(vec![2, 0], 153);
    let (s0, ..) = extra_circuit(vec![0], 153);
    let (s2, ..) = extra_circuit(vec![2], 153);
    let p = prove(&s02, &w, SEED, &x).unwrap();
    common::verifies(&s02, &w, SEED, &p).unwrap();
    assert!(common::verifies(&s20, &w, SEED, &p).is_err());
    let p = prove(&s0, &w, SEED, &x).unwrap();
    assert!(common::verifies(&s2, &w, SEED, &p).is_err());
    // The honest values rearranged to s2's order, with s0's proof body: still rejected.
    let t = forward(&s0, &w, &x).unwrap();
    let mut q = p.clone();
    q.output = [t[3].a.clone(), t[2].a.clone()].concat();
    assert!(common::verifies(&s2, &w, SEED, &q).is_err());
}

/// The product's block proof replaced by another kind, by another block's, or with its ReLU
/// part dropped or added, and each field nudged: every one an error, none a panic.
#[test]
fn malformed_product_proofs_are_rejected_without_a_panic() {
    let (spec, w, x, mm) = shaped(2, 3, 3, ASrc::Input, true, true, 160);
    let mc = commit_model(&spec, &w, SEED).unwrap();
    let proof = common::roundtrip(&prove(&spec, &w, SEED, &x).unwrap());
    verify(&spec, &mc, &proof).unwrap();
    // blocks are listed last block first.
    let at = spec.layers.len() - 1 - mm;
    assert!(matches!(proof.body.blocks[at], ZkBlockProof::MatMul(_)));
    let check = |p: Proof, what: &str| {
        let r = std::panic::catch_unwind(|| verify(&spec, &mc, &p));
        match r {
            Ok(Ok(_)) => panic!("{what}: accepted"),
            Ok(Err(e)) => println!("{what}: {e}"),
            Err(_) => panic!("{what}: the verifier panicked"),
        }
    };
    for other in 0..proof.body.blocks.len() {
        if other == at {
            continue;
        }
        let mut p = proof.clone();
        p.body.blocks[at] = proof.body.blocks[other].clone();
        check(p, &format!("block {other}'s proof in the product's place"));
        let mut p = proof.clone();
        p.body.blocks[other] = proof.body.blocks[at].clone();
        check(p, &format!("the product's proof in block {other}'s place"));
    }
    let mut p = proof.clone();
    p.body.blocks[at] = ZkBlockProof::Unary;
    check(p, "a table-lookup proof in the product's place");
    let ZkBlockProof::MatMul(m) = &proof.body.blocks[at] else {
        unreachable!()
    };
    let mut edits: Vec<(String, Proof)> = Vec::new();
    let with = |f: &dyn Fn(&mut zkgrad_core::zk::proof::ZkMatMulProof)| {
        let mut p = proof.clone();
        let ZkBlockProof::MatMul(m) = &mut p.body.blocks[at] else {
            unreachable!()
        };
        f(m);
        p
    };
    edits.push(("no ReLU part".into(), with(&|m| m.relu = None)));
    for k in 0..2 {
        edits.push((format!("q_t[{k}] + 1"), with(&|m| m.q_t[k] += EF::ONE)));
        edits.push((
            format!("operands[{k}] + 1"),
            with(&|m| m.operands[k] += EF::ONE),
        ));
    }
    edits.push(("operands swapped".into(), with(&|m| m.operands.swap(0, 1))));
    edits.push((
        "mask_sum + 1".into(),
        with(&|m| m.sumcheck.mask_sum += EF::ONE),
    ));
    let rounds = m.sumcheck.rounds.len();
    for r in [0, rounds / 2, rounds - 1] {
        edits.push((
            format!("round {r} value 0 + 1"),
            with(&|m| m.sumcheck.rounds[r][0] += EF::ONE),
        ));
        edits.push((
            format!("round {r} one value short"),
            with(&|m| {
                m.sumcheck.rounds[r].pop();
            }),
        ));
        edits.push((
            format!("mask eval {r} + 1"),
            with(&|m| m.sumcheck.mask_evals[r] += EF::ONE),
        ));
    }
    edits.push((
        "a round too many".into(),
        with(&|m| m.sumcheck.rounds.push(vec![EF::ZERO; 4])),
    ));
    edits.push((
        "a round too few".into(),
        with(&|m| {
            m.sumcheck.rounds.pop();
            m.sumcheck.mask_evals.pop();
        }),
    ));
    for (what, p) in edits {
        // Through bytes too: what a verifier receives.
        check(common::roundtrip(&p), &what);
    }
    // A ReLU part added to a product without one.
    let (spec2, w2, x2, mm2) = shaped(2, 3, 3, ASrc::Input, false, true, 161);
    let mc2 = commit_model(&spec2, &w2, SEED).unwrap();
    let p2 = prove(&spec2, &w2, SEED, &x2).unwrap();
    let at2 = spec2.layers.len() - 1 - mm2;
    let mut bad = p2.clone();
    let ZkBlockProof::MatMul(m2) = &mut bad.body.blocks[at2] else {
        unreachable!()
    };
    let ZkBlockProof::MatMul(m) = &proof.body.blocks[at] else {
        unreachable!()
    };
    m2.relu = m.relu.clone();
    let r = std::panic::catch_unwind(|| verify(&spec2, &mc2, &common::roundtrip(&bad)));
    assert!(
        matches!(r, Ok(Err(_))),
        "a ReLU part added: {:?}",
        r.map(|r| r.is_ok())
    );
}

/// Every declared length of a product proof's encoding set to its maximum, and one bit
/// flipped in every 97th byte: rejected, no panic.
#[test]
fn hostile_bytes_of_a_product_proof_are_rejected() {
    let (spec, w, x, _) = shaped(1, 3, 5, ASrc::Input, true, false, 170);
    let mc = commit_model(&spec, &w, SEED).unwrap();
    let proof = prove(&spec, &w, SEED, &x).unwrap();
    let bytes = proof.to_bytes();
    let max_len = {
        let mut v = vec![253u8];
        v.extend_from_slice(&u64::MAX.to_le_bytes());
        v
    };
    for off in zkgrad_core::bounds::length_fields(&bytes).unwrap() {
        // Replace the varint at `off` (1 byte if < 251, else tag + 2/4/8 bytes) by u64::MAX.
        let width = match bytes[off] {
            0..=250 => 1,
            251 => 3,
            252 => 5,
            _ => 9,
        };
        let mut b = bytes[..off].to_vec();
        b.extend_from_slice(&max_len);
        b.extend_from_slice(&bytes[off + width..]);
        let r =
            std::panic::catch_unwind(|| Proof::from_bytes(&b).and_then(|p| verify(&spec, &mc, &p)));
        assert!(matches!(r, Ok(Err(_))), "length at {off}");
    }
    let step = (bytes.len() / 300).max(1);
    common::assert_flips_rejected(&spec, &mc, &proof, step);
}

/// B a table lookup's output (f(v) = v/2 + 5, so f(0) ≠ 0) with a ragged row (2 × 3 stored in
/// 2 × 4) read straight from the input: the lookup pins its padding to (0, 0), so the
/// product's padding column reads zeros and honest proofs verify; a prover who puts f(0) = 5
/// in B's padding (and the matching values in the product's padding) is rejected.
#[test]
fn a_lookup_output_as_b() {
    use zkgrad_core::circuit::UnaryGeom;
    let mut rng = common::Lcg(180);
    let spec = CircuitSpec {
        input_len: 6,
        table_bits: 16,
        layers: vec![
            dense("fc_a", 6, 6, false),
            DenseSpec {
                name: "half".into(),
                in_dim: 6,
                out_dim: 6,
                mult: 1,
                shift: 1,
                relu: false,
                kind: LayerKind::Unary(UnaryGeom {
                    func: "half_plus_5".into(),
                    channels: 2,
                    len: 3,
                    lo: -64,
                    values: (-64..64).map(|v: i64| v.div_euclid(2) + 5).collect(),
                }),
            },
            product(3, 2, 3, Operand::Block(1), false),
        ],
        public_input: false,
        committed_input: false,
        sources: vec![Operand::Input, Operand::Input, Operand::Block(0)],
        extra_outputs: Vec::new(),
    };
    spec.validate().unwrap();
    let w = Weights {
        layers: vec![weights(&mut rng, 6, 6), none(), none()],
    };
    let x = input(&mut rng, 6);
    let p = prove(&spec, &w, SEED, &x).unwrap();
    common::verifies(&spec, &w, SEED, &p).unwrap();
    let xs: Vec<Vec<i64>> = (0..3).map(|_| input(&mut rng, 6)).collect();
    let p = prove_batch(&spec, &w, SEED, &xs).unwrap();
    common::verifies(&spec, &w, SEED, &p).unwrap();
    // B's padding column (slot 3 of each row) set to f(0) = 5, the product's padding column
    // recomputed from it.
    let t = forward(&spec, &w, &x).unwrap();
    let a = t[0].a.clone();
    let edit = move |plan: &WitnessPlan, cols: &mut Vec<Vec<F>>| {
        let bb = &plan.blocks[1];
        for tt in 0..2 {
            cols[bb.a][(tt << 2) | 3] = from_i64(5);
        }
        let blk = &plan.blocks[2];
        for i in 0..3 {
            let z: i64 = (0..2).map(|tt| a[i * 2 + tt] * 5).sum();
            let v = z * 4096 + (1 << 15);
            let s = (i << 2) | 3;
            cols[blk.q][s] = from_i64(v.div_euclid(1 << 16));
            cols[blk.t.unwrap()][s] = from_i64(v.rem_euclid(1 << 16));
        }
        plan.refresh_multiplicities(cols);
    };
    match prove_tampered(&spec, &w, SEED, &[x], &edit) {
        Ok(p) => {
            let err = common::verifies(&spec, &w, SEED, &p).unwrap_err();
            println!("f(0) in B's padding: {err}");
        }
        Err(e) => println!("f(0) in B's padding refused at proof time: {e}"),
    }
}
