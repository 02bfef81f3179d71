//! The small model the zero-knowledge unit tests share (tests only).

use crate::circuit::{CircuitSpec, DenseSpec, DenseWeights, LayerKind, Weights};

/// A 6-4-2 MLP with a ReLU after the first block, fixed weights and an input: both biases (4
/// and 2 entries) are lifted weight columns, and its epoch-tree nodes are quick to make.
pub(crate) fn mlp_6_4_2() -> (CircuitSpec, Weights, Vec<i64>) {
    let (spec, w) = mlp_6(4, 2);
    (spec, w, vec![300, -200, 150, 0, -75, 999])
}

/// A 6-`hidden`-`classes` MLP of the same fixed weights' pattern (ReLU after the first block).
pub(crate) fn mlp_6(hidden: usize, classes: usize) -> (CircuitSpec, Weights) {
    let layer = |i: usize, in_dim: usize, out_dim: usize| DenseSpec {
        name: format!("fc{i}"),
        in_dim,
        out_dim,
        mult: 3,
        shift: 12,
        relu: i == 0,
        kind: LayerKind::Dense,
    };
    let weights = |n: usize, m: usize, s: i64| DenseWeights {
        weight: (0..n * m)
            .map(|j| (j as i64 * 37 + s) % 201 - 100)
            .collect(),
        bias: (0..m).map(|j| (j as i64 * 53 + s) % 2001 - 1000).collect(),
    };
    let spec = CircuitSpec {
        input_len: 6,
        table_bits: 16,
        layers: vec![layer(0, 6, hidden), layer(1, hidden, classes)],
        public_input: false,
        committed_input: false,
        sources: Vec::new(),
        extra_outputs: Vec::new(),
    };
    let w = Weights {
        layers: vec![weights(6, hidden, 7), weights(hidden, classes, 11)],
    };
    (spec, w)
}
