//! Convolution and max-pooling blocks: the integer semantics against a reference written out
//! loop by loop, proofs end to end, and a cheating prover for every new relation.

use p3_field::PrimeCharacteristicRing;
use zkgrad_core::circuit::{
    CircuitSpec, ConvGeom, DenseSpec, DenseWeights, LayerKind, PoolGeom, Weights, forward,
};
use zkgrad_core::commit::commit_model;
use zkgrad_core::field::F;
use zkgrad_core::proof::Proof;
use zkgrad_core::prover::{prove, prove_batch, prove_tampered};
use zkgrad_core::verifier::verify;
use zkgrad_core::witness::WitnessPlan;

const SEED: [u8; 32] = [3; 32];

mod common;
use common::Lcg;

fn block(name: &str, in_dim: usize, out_dim: usize, relu: bool, kind: LayerKind) -> DenseSpec {
    let linear = !matches!(kind, LayerKind::MaxPool(_));
    DenseSpec {
        name: name.into(),
        in_dim,
        out_dim,
        mult: if linear { 3 } else { 1 },
        shift: if linear { 10 } else { 1 },
        relu,
        kind,
    }
}

/// 2×7×7 input → conv 3×2×3×3 (pad 1, stride 2) + ReLU → 3×4×4 → max-pool 2×2 stride 1 → 3×3×3
/// → conv 2×3×2×2 (no pad) → 2×2×2 → dense 8 → 3.
fn cnn(seed: u64) -> (CircuitSpec, Weights, Vec<i64>) {
    let mut rng = Lcg(seed);
    let conv1 = ConvGeom {
        in_channels: 2,
        in_hw: [7, 7],
        out_channels: 3,
        kernel: [3, 3],
        stride: [2, 2],
        pads: [1, 1, 1, 1],
    };
    let pool = PoolGeom {
        channels: 3,
        in_hw: [4, 4],
        kernel: [2, 2],
        stride: [1, 1],
    };
    let conv2 = ConvGeom {
        in_channels: 3,
        in_hw: [3, 3],
        out_channels: 2,
        kernel: [2, 2],
        stride: [1, 1],
        pads: [0; 4],
    };
    let layers = vec![
        block("conv1", 98, 48, true, LayerKind::Conv(conv1)),
        block("pool", 48, 27, false, LayerKind::MaxPool(pool)),
        block("conv2", 27, 8, false, LayerKind::Conv(conv2)),
        block("fc", 8, 3, false, LayerKind::Dense),
    ];
    let mut rand_w = |n: usize, lo, hi| (0..n).map(|_| rng.next(lo, hi)).collect::<Vec<i64>>();
    let weights = Weights {
        layers: vec![
            DenseWeights {
                weight: rand_w(3 * 18, -300, 300),
                bias: rand_w(3, -3000, 3000),
            },
            DenseWeights {
                weight: vec![],
                bias: vec![],
            },
            DenseWeights {
                weight: rand_w(2 * 12, -300, 300),
                bias: rand_w(2, -3000, 3000),
            },
            DenseWeights {
                weight: rand_w(3 * 8, -300, 300),
                bias: rand_w(3, -3000, 3000),
            },
        ],
    };
    let input = rand_w(98, -1000, 1000);
    (
        CircuitSpec {
            input_len: 98,
            table_bits: 16,
            layers,
            public_input: false,
            committed_input: false,
            sources: Vec::new(),
            extra_outputs: Vec::new(),
        },
        weights,
        input,
    )
}

/// NCHW convolution, written independently of the crate's index helpers.
fn reference_conv(g: &ConvGeom, k: &[i64], b: &[i64], a: &[i64]) -> Vec<i64> {
    let [h, w] = g.in_hw;
    let (oh, ow) = (
        (h + g.pads[0] + g.pads[2] - g.kernel[0]) / g.stride[0] + 1,
        (w + g.pads[1] + g.pads[3] - g.kernel[1]) / g.stride[1] + 1,
    );
    let mut out = Vec::new();
    for oc in 0..g.out_channels {
        for oy in 0..oh {
            for ox in 0..ow {
                let mut acc = b[oc];
                for ic in 0..g.in_channels {
                    for ky in 0..g.kernel[0] {
                        for kx in 0..g.kernel[1] {
                            let y = (oy * g.stride[0] + ky) as i64 - g.pads[0] as i64;
                            let x = (ox * g.stride[1] + kx) as i64 - g.pads[1] as i64;
                            if y >= 0 && x >= 0 && (y as usize) < h && (x as usize) < w {
                                let kidx = ((oc * g.in_channels + ic) * g.kernel[0] + ky)
                                    * g.kernel[1]
                                    + kx;
                                acc += k[kidx] * a[(ic * h + y as usize) * w + x as usize];
                            }
                        }
                    }
                }
                out.push(acc);
            }
        }
    }
    out
}

#[test]
fn integer_semantics_match_a_reference_loop() {
    let (spec, w, x) = cnn(1);
    let traces = forward(&spec, &w, &x).unwrap();
    let LayerKind::Conv(g1) = &spec.layers[0].kind else {
        unreachable!()
    };
    assert_eq!(
        traces[0].z,
        reference_conv(g1, &w.layers[0].weight, &w.layers[0].bias, &x)
    );
    // Max pooling 2×2 stride 1 over 3×4×4.
    let a = &traces[0].a;
    let mut pooled = Vec::new();
    for c in 0..3 {
        for y in 0..3 {
            for x in 0..3 {
                pooled.push(
                    [(0, 0), (0, 1), (1, 0), (1, 1)]
                        .iter()
                        .map(|(dy, dx)| a[c * 16 + (y + dy) * 4 + x + dx])
                        .max()
                        .unwrap(),
                );
            }
        }
    }
    assert_eq!(traces[1].a, pooled);
    let LayerKind::Conv(g2) = &spec.layers[2].kind else {
        unreachable!()
    };
    assert_eq!(
        traces[2].z,
        reference_conv(g2, &w.layers[2].weight, &w.layers[2].bias, &pooled)
    );
}

#[test]
fn cnn_proves_and_verifies() {
    let (spec, w, x) = cnn(2);
    let mc = commit_model(&spec, &w, SEED).unwrap();
    let proof = prove(&spec, &w, SEED, &x).unwrap();
    let expected = forward(&spec, &w, &x).unwrap().last().unwrap().a.clone();
    assert_eq!(
        verify(&spec, &mc, &common::roundtrip(&proof)).unwrap(),
        expected
    );
}

#[test]
fn cnn_batch_proves_and_verifies() {
    let (spec, w, _) = cnn(3);
    let mc = commit_model(&spec, &w, SEED).unwrap();
    let inputs: Vec<Vec<i64>> = (0..3).map(|i| cnn(10 + i).2).collect();
    let proof = prove_batch(&spec, &w, SEED, &inputs).unwrap();
    assert_eq!(
        verify(&spec, &mc, &common::roundtrip(&proof))
            .unwrap()
            .len(),
        9
    );
}

fn assert_rejected(tamper: &dyn Fn(&WitnessPlan, &mut Vec<Vec<F>>), what: &str) {
    let (spec, w, x) = cnn(4);
    let mc = commit_model(&spec, &w, SEED).unwrap();
    match prove_tampered(&spec, &w, SEED, &[x], tamper) {
        Ok(proof) => {
            let err = verify(&spec, &mc, &common::roundtrip(&proof)).expect_err(what);
            eprintln!("{what}: {err}");
        }
        Err(e) => panic!("the cheating prover failed to produce a proof for '{what}': {e}"),
    }
}

/// Index of a real (non-padding) output of the pooling block whose window is not constant.
fn pool_slot(p: &WitnessPlan, c: &[Vec<F>]) -> usize {
    let b = &p.blocks[1];
    (0..27usize)
        .map(|i| (i / 9) * 16 + i % 9)
        .find(|&s| b.gathered.iter().any(|&g| c[g][s] != c[b.a][s]))
        .expect("some window has two different values")
}

#[test]
fn pooled_value_below_the_maximum_is_rejected() {
    assert_rejected(
        &|p, c| {
            let b = &p.blocks[1];
            let s = pool_slot(p, c);
            let smaller = b
                .gathered
                .iter()
                .map(|&g| c[g][s])
                .find(|&v| v != c[b.a][s])
                .unwrap();
            c[b.a][s] = smaller;
            p.refresh_multiplicities(c);
        },
        "a non-maximal window element as the max",
    );
}

#[test]
fn pooled_value_above_every_element_is_rejected() {
    assert_rejected(
        &|p, c| {
            let b = &p.blocks[1];
            c[b.a][0] += F::ONE;
            p.refresh_multiplicities(c);
        },
        "max + 1",
    );
}

#[test]
fn gathered_value_not_from_the_input_is_rejected() {
    assert_rejected(
        &|p, c| {
            // Lower a non-maximal gathered value: range and product checks still hold.
            let b = &p.blocks[1];
            let s = pool_slot(p, c);
            let g = *b.gathered.iter().find(|&&g| c[g][s] != c[b.a][s]).unwrap();
            c[g][s] -= F::ONE;
            p.refresh_multiplicities(c);
        },
        "a gathered value changed",
    );
}

#[test]
fn convolution_output_not_from_its_input_is_rejected() {
    assert_rejected(
        &|p, c| {
            // A changed input pixel with everything downstream left as it was.
            c[p.x][5] += F::ONE;
            p.refresh_multiplicities(c);
        },
        "input pixel + 1",
    );
}

#[test]
fn convolution_requant_change_is_rejected() {
    assert_rejected(
        &|p, c| {
            let b = &p.blocks[2];
            c[b.q][1] += F::ONE;
            c[b.t.unwrap()][1] -= F::from_u64(1 << 16);
            p.refresh_multiplicities(c);
        },
        "conv2 shifted requant",
    );
}

#[test]
fn flipped_bytes_are_rejected() {
    let (spec, w, x) = cnn(5);
    let mc = commit_model(&spec, &w, SEED).unwrap();
    let bytes = prove(&spec, &w, SEED, &x).unwrap().to_bytes();
    for i in (6..bytes.len()).step_by(bytes.len() / 150) {
        let mut b = bytes.clone();
        b[i] ^= 0x40;
        if let Ok(p) = Proof::from_bytes(&b) {
            assert!(
                verify(&spec, &mc, &p).is_err(),
                "flip at byte {i} was accepted"
            );
        }
    }
}

/// Every third byte of a CNN proof, flipped, is rejected without a panic (slow: `--ignored`).
#[test]
#[ignore]
fn dense_flips_of_a_cnn_proof_are_rejected() {
    let (spec, w, x) = cnn(6);
    let mc = commit_model(&spec, &w, SEED).unwrap();
    common::assert_flips_rejected(&spec, &mc, &prove(&spec, &w, SEED, &x).unwrap(), 3);
}

/// A convolution with a single output channel, or a single value per patch, has a kernel or bias
/// column with no variable to carry its mask: refused with an error naming the block (until
/// narrow columns get masks of their own), never proved without zero knowledge.
#[test]
fn narrow_convolutions_are_refused_by_name() {
    let one_channel = ConvGeom {
        in_channels: 2,
        in_hw: [4, 4],
        out_channels: 1,
        kernel: [2, 2],
        stride: [1, 1],
        pads: [0; 4],
    };
    let one_value = ConvGeom {
        in_channels: 1,
        in_hw: [4, 4],
        out_channels: 2,
        kernel: [1, 1],
        stride: [1, 1],
        pads: [0; 4],
    };
    // Two channels of two positions: four output values, under the narrowest column (8).
    let four_values = ConvGeom {
        in_channels: 1,
        in_hw: [1, 2],
        out_channels: 2,
        kernel: [1, 2],
        stride: [1, 1],
        pads: [0, 0, 0, 1],
    };
    let single = "single output channel or a single value per patch";
    for (g, what, says) in [
        (one_channel, "one output channel", single),
        (one_value, "one value per patch", single),
        (
            four_values,
            "four output values",
            "fewer than 8 output values",
        ),
    ] {
        let (in_dim, out_dim) = (
            g.in_channels * g.in_hw[0] * g.in_hw[1],
            g.out_channels * g.out_hw()[0] * g.out_hw()[1],
        );
        let layers = vec![block(
            "narrow",
            in_dim,
            out_dim,
            false,
            LayerKind::Conv(g.clone()),
        )];
        let spec = CircuitSpec {
            input_len: in_dim,
            table_bits: 16,
            layers,
            public_input: false,
            committed_input: false,
            sources: Vec::new(),
            extra_outputs: Vec::new(),
        };
        let w = Weights {
            layers: vec![DenseWeights {
                weight: vec![1; g.out_channels * g.patch_len()],
                bias: vec![0; g.out_channels],
            }],
        };
        let err = prove(&spec, &w, SEED, &vec![1; in_dim])
            .expect_err(what)
            .to_string();
        assert!(
            err.contains("'narrow'") && err.contains(says),
            "{what}: {err}"
        );
    }
}

/// 2×1×6 input → conv 2×2×1×2 (pad right 1) + ReLU → 2×1×6 → max-pool 1×3 stride 3 → 2×1×2
/// (four values: the pooling's output column is padded to 2^3 entries) → dense 4 → 3.
fn small_pool(seed: u64) -> (CircuitSpec, Weights, Vec<i64>) {
    let mut rng = Lcg(seed);
    let conv = ConvGeom {
        in_channels: 2,
        in_hw: [1, 6],
        out_channels: 2,
        kernel: [1, 2],
        stride: [1, 1],
        pads: [0, 0, 0, 1],
    };
    let pool = PoolGeom {
        channels: 2,
        in_hw: [1, 6],
        kernel: [1, 3],
        stride: [1, 3],
    };
    let layers = vec![
        block("conv", 12, 12, true, LayerKind::Conv(conv)),
        block("pool", 12, 4, false, LayerKind::MaxPool(pool)),
        block("fc", 4, 3, false, LayerKind::Dense),
    ];
    let mut rand_w = |n: usize, lo, hi| (0..n).map(|_| rng.next(lo, hi)).collect::<Vec<i64>>();
    let weights = Weights {
        layers: vec![
            DenseWeights {
                weight: rand_w(2 * 4, -300, 300),
                bias: rand_w(2, -3000, 3000),
            },
            DenseWeights {
                weight: vec![],
                bias: vec![],
            },
            DenseWeights {
                weight: rand_w(3 * 4, -300, 300),
                bias: rand_w(3, -3000, 3000),
            },
        ],
    };
    let input = rand_w(12, -1000, 1000);
    let spec = CircuitSpec {
        input_len: 12,
        table_bits: 16,
        layers,
        public_input: false,
        committed_input: false,
        sources: Vec::new(),
        extra_outputs: Vec::new(),
    };
    (spec, weights, input)
}

#[test]
fn a_pooling_with_a_padded_output_column_proves_and_its_padding_is_bound() {
    let (spec, w, x) = small_pool(5);
    let mc = commit_model(&spec, &w, SEED).unwrap();
    let proof = prove(&spec, &w, SEED, &x).unwrap();
    let expected = forward(&spec, &w, &x).unwrap().last().unwrap().a.clone();
    assert_eq!(
        verify(&spec, &mc, &common::roundtrip(&proof)).unwrap(),
        expected
    );
    // A cheating prover writes a consistent window (every gathered value and the max equal)
    // into a padding slot of the pooled column: the pooling point spans the padding variables,
    // so the gathered values there must be zero.
    let tamper = |p: &WitnessPlan, c: &mut Vec<Vec<F>>| {
        let b = &p.blocks[1];
        let pad = c[b.a].len() - 1; // slots 4..8 are padding
        for &g in &b.gathered {
            c[g][pad] = F::from_u64(5);
        }
        c[b.a][pad] = F::from_u64(5);
        p.refresh_multiplicities(c);
    };
    let proof = prove_tampered(&spec, &w, SEED, &[x], &tamper).unwrap();
    let err = verify(&spec, &mc, &common::roundtrip(&proof)).expect_err("a window in the padding");
    assert!(err.to_string().contains("pool"), "{err}");
}
