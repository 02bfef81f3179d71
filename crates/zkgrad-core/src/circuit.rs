//! The public description of a provable computation and its integer semantics.
//!
//! A circuit is a chain of dense blocks. Block `l` maps activations `a` (length `in_dim`) to
//!   z = W·a + b                                  (exact integers, W is out_dim × in_dim)
//!   q = floor((z·mult + 2^(shift−1)) / 2^shift)  (requantisation, round half up)
//!   a' = relu(q) if `relu` else q
//! With b = `table_bits` (8..=16, public), every activation (the input, each q and a') must lie
//! in [−2^(b−1), 2^(b−1)) and every shift must be ≤ b: that is what the 2^b-entry lookup tables
//! prove, and exceeding it is a witness error naming the block. Smaller b means smaller tables
//! and proofs, larger b more precision.
//!
//! These functions are the single definition of the integer semantics: the model crate's
//! executor and the prover's witness generator both call them.

use serde::{Deserialize, Serialize};

use crate::error::{ProofError, Result};
pub use crate::matmul::MatMulGeom;

/// Largest table size (log2), hence largest activation width and requantisation shift.
pub const MAX_TABLE_BITS: u32 = 16;
/// Smallest table size (log2).
pub const MIN_TABLE_BITS: u32 = 8;
/// Largest requantisation shift for any table size.
pub const MAX_SHIFT: u32 = MAX_TABLE_BITS;
/// Default table size: 16-bit activations.
pub const DEFAULT_TABLE_BITS: u32 = 16;
/// Largest requantisation multiplier.
pub const MAX_MULT: u64 = 1 << 24;
/// Accumulator values must stay below this magnitude so field arithmetic equals integer arithmetic.
pub const ACC_LIMIT: i128 = 1 << 62;

/// One block (public: shapes and scales, not the weights). A dense or convolution block is
/// `z = linear(a) + bias`, requantised, optionally followed by a ReLU; a max-pool block has no
/// weights and no requantisation (`mult`, `shift`, `relu` must be 1, 1, false).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DenseSpec {
    /// Name used in error messages (the ONNX node it came from).
    pub name: String,
    /// Input length (all channels, unpadded).
    pub in_dim: usize,
    /// Output length (all channels, unpadded).
    pub out_dim: usize,
    /// Requantisation multiplier (≥ 1).
    pub mult: u64,
    /// Requantisation shift (1..=16).
    pub shift: u32,
    /// Whether a ReLU follows the requantisation.
    pub relu: bool,
    /// What the block computes.
    pub kind: LayerKind,
}

/// The operation of a block.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum LayerKind {
    /// `z = W·a + b`, W row-major `out_dim × in_dim`.
    #[default]
    Dense,
    /// 2-D convolution (NCHW, one group, no dilation); the weight is `[C_out, C_in, kh, kw]`
    /// row-major, the bias has `C_out` entries.
    Conv(ConvGeom),
    /// 2-D max pooling without padding.
    MaxPool(PoolGeom),
    /// Elementwise `z = coef[0]·a + coef[1]·other` (a skip or residual connection; Sub is a
    /// coefficient −1) or `z = coef[0]·coef[1]·a·other` of the previous block's output `a` and an
    /// earlier tensor, requantised and optionally followed by a ReLU like a dense block. No
    /// weights. Appended last so that the encodings (and digests) of circuits without it are
    /// unchanged.
    Elementwise(ElementwiseGeom),
    /// `a' = f(a)` for every value, by a public table of (input, output) pairs: a nonlinear
    /// function (sigmoid, tanh, …) whose quantised values the compiler computed. No weights, no
    /// requantisation (`mult`, `shift`, `relu` are 1, 1, false); proved by a lookup of each
    /// (input, output) pair in the table (`zk/unary.rs`). Appended last like `Elementwise`.
    Unary(UnaryGeom),
    /// `Z = A·B` of two activations (the source A and an earlier tensor B), requantised and
    /// optionally followed by a ReLU like a dense block; no weights (`matmul.rs`,
    /// `zk/matmul.rs`). Appended last like `Elementwise`.
    MatMul(MatMulGeom),
}

impl LayerKind {
    /// The second operand of a block that reads two tensors (elementwise and matrix product).
    pub fn other(&self) -> Option<Operand> {
        match self {
            LayerKind::Elementwise(g) => Some(g.other),
            LayerKind::MatMul(g) => Some(g.other),
            _ => None,
        }
    }

    /// How a block that reads two tensors wants its second operand stored.
    pub fn other_shape(&self) -> Option<ActShape> {
        match self {
            LayerKind::Elementwise(g) => Some(g.shape()),
            LayerKind::MatMul(g) => Some(g.b_shape()),
            _ => None,
        }
    }
}

/// A function applied to every value through a public table: input `lo + j` maps to
/// `values[j]`. An input outside `[lo, lo + values.len())` is a witness error naming the block
/// and the range (no clamping).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnaryGeom {
    /// What the table computes (e.g. "sigmoid"), for messages.
    pub func: String,
    /// Channels of the stored input and output (1 for a flat vector).
    pub channels: usize,
    /// Values per channel.
    pub len: usize,
    /// The smallest input the table covers.
    pub lo: i64,
    /// The outputs for inputs `lo`, `lo + 1`, ….
    pub values: Vec<i64>,
}

impl UnaryGeom {
    /// How the input and the output are stored.
    pub fn shape(&self) -> ActShape {
        ActShape {
            channels: self.channels,
            len: self.len,
        }
    }

    /// The largest input the table covers.
    pub fn hi(&self) -> i64 {
        self.lo + self.values.len() as i64 - 1
    }

    /// f(x), or None outside the table.
    pub fn apply(&self, x: i64) -> Option<i64> {
        usize::try_from(x - self.lo)
            .ok()
            .and_then(|j| self.values.get(j).copied())
    }

    /// log2 of the padded table: its entries and one more, the padding rows' (0, 0) pair.
    pub fn table_log(&self) -> usize {
        crate::mle::log2_ceil(self.values.len() + 1)
    }
}

/// Where an elementwise block reads its second operand: the circuit input or an earlier block's
/// output activations (its committed column: pure wiring, nothing is copied).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Operand {
    /// The circuit input.
    Input,
    /// The output activations of block `l` (before the elementwise block).
    Block(usize),
}

/// Largest magnitude of an elementwise coefficient (they align power-of-two scales).
pub const MAX_COEF: i64 = 1 << 16;

/// Whether an elementwise block sums or multiplies its operands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ElementwiseOp {
    /// `z = coef[0]·a + coef[1]·other`.
    Sum,
    /// `z = coef[0]·coef[1]·a·other`.
    Product,
}

/// An elementwise sum or product of two tensors stored alike.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElementwiseGeom {
    /// Sum or product.
    pub op: ElementwiseOp,
    /// The second operand (the first is the previous block's output, or the input for block 0).
    pub other: Operand,
    /// Public integer coefficients (each 1..=[`MAX_COEF`] in magnitude): of the first and second
    /// operand in a sum, their product the factor of a product.
    pub coef: [i64; 2],
    /// Channels of the stored tensors (1 for a flat vector).
    pub channels: usize,
    /// Values per channel.
    pub len: usize,
}

impl ElementwiseGeom {
    /// How both operands and the output are stored.
    pub fn shape(&self) -> ActShape {
        ActShape {
            channels: self.channels,
            len: self.len,
        }
    }
}

/// Geometry of a convolution.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConvGeom {
    /// Input channels.
    pub in_channels: usize,
    /// Input height and width.
    pub in_hw: [usize; 2],
    /// Output channels.
    pub out_channels: usize,
    /// Kernel height and width.
    pub kernel: [usize; 2],
    /// Strides (height, width).
    pub stride: [usize; 2],
    /// Zero padding: top, left, bottom, right.
    pub pads: [usize; 4],
}

/// Geometry of a max pooling.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolGeom {
    /// Channels (unchanged by pooling).
    pub channels: usize,
    /// Input height and width.
    pub in_hw: [usize; 2],
    /// Window height and width.
    pub kernel: [usize; 2],
    /// Strides (height, width).
    pub stride: [usize; 2],
}

impl ConvGeom {
    /// Output height and width.
    pub fn out_hw(&self) -> [usize; 2] {
        let o = |i: usize| {
            (self.in_hw[i] + self.pads[i] + self.pads[i + 2]).saturating_sub(self.kernel[i])
                / self.stride[i].max(1)
                + 1
        };
        [o(0), o(1)]
    }

    /// Length of one kernel row of the weight matrix: C_in·kh·kw.
    pub fn patch_len(&self) -> usize {
        self.in_channels * self.kernel[0] * self.kernel[1]
    }

    /// The input index read by patch entry `c` (= (ic, kh, kw)) at output position `p`, if any
    /// (None where the window covers the zero padding).
    pub fn source(&self, c: usize, p: usize) -> Option<usize> {
        let [kh, kw] = self.kernel;
        let (ic, r) = (c / (kh * kw), c % (kh * kw));
        let ow = self.out_hw()[1];
        let (y, x) = (
            (p / ow) * self.stride[0] + r / kw,
            (p % ow) * self.stride[1] + r % kw,
        );
        let (y, x) = (y.checked_sub(self.pads[0])?, x.checked_sub(self.pads[1])?);
        (y < self.in_hw[0] && x < self.in_hw[1])
            .then(|| (ic * self.in_hw[0] + y) * self.in_hw[1] + x)
    }
}

impl PoolGeom {
    /// Output height and width.
    pub fn out_hw(&self) -> [usize; 2] {
        let o = |i: usize| self.in_hw[i].saturating_sub(self.kernel[i]) / self.stride[i].max(1) + 1;
        [o(0), o(1)]
    }

    /// Window size kh·kw.
    pub fn window(&self) -> usize {
        self.kernel[0] * self.kernel[1]
    }

    /// The input index of window element `u` for output `(channel, position p)`.
    pub fn source(&self, channel: usize, u: usize, p: usize) -> usize {
        let ow = self.out_hw()[1];
        let y = (p / ow) * self.stride[0] + u / self.kernel[1];
        let x = (p % ow) * self.stride[1] + u % self.kernel[1];
        (channel * self.in_hw[0] + y) * self.in_hw[1] + x
    }
}

/// How an activation vector is stored in a witness column: `channels` blocks of `len` values,
/// block c at offset c·2^⌈log2 len⌉ (so a point splits into position and channel variables).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ActShape {
    /// Number of channels (1 for a flat vector).
    pub channels: usize,
    /// Values per channel.
    pub len: usize,
}

/// Fewest variables of an activation column. A column of k variables has a mask space of
/// (base-field) dimension 2^k (`zk/masked.rs`), and a proof reveals up to three distinct values
/// of one activation column plus its table's batching value, each an EF value, i.e. two
/// base-field functionals (`zk/budget.rs` checks it per proof): 3·2 = 6 of them need k ≥ 3.
/// With one variable (dimension 2, as flat width-1 and width-2 columns once had) a single proof
/// determined the column; with two (dimension 4, until 2026-12-07) the last block's
/// pre-activation of a 1-output model was recovered from one proof (counted over EF, 4 looked
/// like enough).
pub const MIN_COLUMN_VARS: usize = 3;

/// Readers (blocks that take a column as an operand) a column of [`MIN_COLUMN_VARS`] variables
/// hides: with its producer's and its lookups' claims, four distinct claims (eight base-field
/// functionals) fill its eight mask dimensions.
pub const MAX_NARROW_READERS: usize = 2;

impl ActShape {
    /// A flat vector.
    pub fn flat(len: usize) -> Self {
        Self { channels: 1, len }
    }

    /// log2 of the padded per-channel length.
    pub fn log_len(&self) -> usize {
        crate::mle::log2_ceil(self.len)
    }

    /// log2 of the padded column length (channels and positions); at least [`MIN_COLUMN_VARS`],
    /// so that every column's zero-knowledge mask has room for the values a proof reveals on it.
    pub fn log_size(&self) -> usize {
        (crate::mle::log2_ceil(self.channels) + self.log_len()).max(MIN_COLUMN_VARS)
    }

    /// Column index of logical index `i` (= channel·len + position).
    pub fn slot(&self, i: usize) -> usize {
        ((i / self.len) << self.log_len()) + i % self.len
    }

    /// Places a logical vector in a column of 2^log_size entries filled with `pad`.
    pub fn place(&self, values: &[i64], pad: i64) -> Vec<i64> {
        let mut out = vec![pad; 1 << self.log_size()];
        for (i, &v) in values.iter().enumerate() {
            out[self.slot(i)] = v;
        }
        out
    }
}

/// Public description of the whole computation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CircuitSpec {
    /// Length of the input vector.
    pub input_len: usize,
    /// log2 of the lookup tables: activations are signed `table_bits`-bit integers.
    pub table_bits: u32,
    /// The blocks, in execution order.
    pub layers: Vec<DenseSpec>,
    /// Whether the input is part of the public statement (carried in the proof and bound by
    /// Fiat–Shamir) instead of hidden in the witness.
    pub public_input: bool,
    /// Whether the input is *committed*: hidden, and proved against a separate commitment whose
    /// digest the proof carries (so two proofs can be shown to use the same input). Needs a
    /// private input.
    pub committed_input: bool,
    /// Where each block reads its (first) input: empty for a chain (block 0 reads the input,
    /// block l the output of block l − 1); otherwise one entry per block, the input or an
    /// earlier block's output. With it the circuit is a DAG: branches that both compute (a
    /// ResNet shortcut convolution beside its main path), joined by an elementwise block.
    pub sources: Vec<Operand>,
    /// Blocks whose outputs the proof states too, after the last block's (a graph with several
    /// outputs), in the order the statement lists them. Each such column is public like the
    /// last block's: unmasked, its values carried in the proof and bound by Fiat–Shamir.
    pub extra_outputs: Vec<usize>,
}

/// Private weights of one dense block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DenseWeights {
    /// Row-major `out_dim × in_dim`.
    pub weight: Vec<i64>,
    /// Length `out_dim`, at the accumulator's scale.
    pub bias: Vec<i64>,
}

/// Private weights of the whole computation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Weights {
    /// One entry per dense block.
    pub layers: Vec<DenseWeights>,
}

/// Everything the forward pass produces for one block (the prover's witness).
#[derive(Clone, Debug)]
pub struct BlockTrace {
    /// Accumulator `W·a + b`.
    pub z: Vec<i64>,
    /// Requantised values.
    pub q: Vec<i64>,
    /// Scaled remainders `t = z·mult·2^(16−shift) + 2^15 − q·2^16`, each in [0, 2^16).
    pub t: Vec<i64>,
    /// Output activations.
    pub a: Vec<i64>,
}

/// Requantises one accumulator value: floor((z·mult + 2^(shift−1)) / 2^shift).
pub fn requant_value(z: i64, mult: u64, shift: u32) -> i64 {
    let num = z as i128 * mult as i128 + (1i128 << (shift - 1));
    num.div_euclid(1i128 << shift) as i64
}

/// ReLU on one value.
pub fn relu_value(q: i64) -> i64 {
    q.max(0)
}

impl DenseSpec {
    /// Multiplier scaled so the shift is always b: z·m_b + 2^(b−1) = q·2^b + t.
    pub fn mult_scaled(&self, bits: u32) -> u64 {
        self.mult << (bits - self.shift)
    }

    /// How the block's output is stored.
    pub fn out_shape(&self) -> ActShape {
        match &self.kind {
            LayerKind::Dense => ActShape::flat(self.out_dim),
            LayerKind::Conv(g) => ActShape {
                channels: g.out_channels,
                len: g.out_hw()[0] * g.out_hw()[1],
            },
            LayerKind::MaxPool(g) => ActShape {
                channels: g.channels,
                len: g.out_hw()[0] * g.out_hw()[1],
            },
            LayerKind::Elementwise(g) => g.shape(),
            LayerKind::Unary(g) => g.shape(),
            LayerKind::MatMul(g) => g.out_shape(),
        }
    }

    /// How the block wants its input stored (None: any layout of `in_dim` values).
    pub fn in_shape(&self) -> Option<ActShape> {
        match &self.kind {
            LayerKind::Dense => None,
            LayerKind::Conv(g) => Some(ActShape {
                channels: g.in_channels,
                len: g.in_hw[0] * g.in_hw[1],
            }),
            LayerKind::MaxPool(g) => Some(ActShape {
                channels: g.channels,
                len: g.in_hw[0] * g.in_hw[1],
            }),
            LayerKind::Elementwise(g) => Some(g.shape()),
            LayerKind::Unary(g) => Some(g.shape()),
            LayerKind::MatMul(g) => Some(g.a_shape()),
        }
    }

    /// Rows and columns of the weight matrix (0×0 for pooling).
    pub fn weight_dims(&self) -> (usize, usize) {
        match &self.kind {
            LayerKind::Dense => (self.out_dim, self.in_dim),
            LayerKind::Conv(g) => (g.out_channels, g.patch_len()),
            LayerKind::MaxPool(_)
            | LayerKind::Elementwise(_)
            | LayerKind::Unary(_)
            | LayerKind::MatMul(_) => (0, 0),
        }
    }

    /// Whether the block has weights and a requantisation (dense and convolution).
    pub fn is_linear(&self) -> bool {
        matches!(self.kind, LayerKind::Dense | LayerKind::Conv(_))
    }

    /// Whether the block's output is a requantisation (with remainder column t) of an
    /// accumulator: everything but pooling and table lookups.
    pub fn has_requant(&self) -> bool {
        !matches!(self.kind, LayerKind::MaxPool(_) | LayerKind::Unary(_))
    }

    fn check_geometry(&self) -> std::result::Result<(), String> {
        let pos = |v: &[usize]| v.iter().all(|&x| x > 0);
        match &self.kind {
            LayerKind::Dense => Ok(()),
            LayerKind::MatMul(g) => g.check(self.in_dim, self.out_dim),
            LayerKind::Conv(g) => {
                if !pos(&[g.in_channels, g.out_channels])
                    || !pos(&g.in_hw)
                    || !pos(&g.kernel)
                    || !pos(&g.stride)
                {
                    return Err("convolution with an empty dimension, kernel or stride".into());
                }
                if (0..2).any(|i| g.kernel[i] > g.in_hw[i] + g.pads[i] + g.pads[i + 2]) {
                    return Err(format!(
                        "kernel {:?} larger than the padded input {:?}",
                        g.kernel, g.in_hw
                    ));
                }
                if self.in_dim != g.in_channels * g.in_hw[0] * g.in_hw[1] {
                    return Err(format!(
                        "input length {} is not C·H·W of {:?}",
                        self.in_dim, g
                    ));
                }
                if self.out_dim != self.out_shape().channels * self.out_shape().len {
                    return Err(format!(
                        "output length {} does not match the convolution's {}",
                        self.out_dim,
                        self.out_shape().channels * self.out_shape().len
                    ));
                }
                Ok(())
            }
            LayerKind::MaxPool(g) => {
                if !pos(&[g.channels]) || !pos(&g.in_hw) || !pos(&g.kernel) || !pos(&g.stride) {
                    return Err("pooling with an empty dimension, window or stride".into());
                }
                if (0..2).any(|i| g.kernel[i] > g.in_hw[i]) {
                    return Err(format!(
                        "window {:?} larger than the input {:?}",
                        g.kernel, g.in_hw
                    ));
                }
                if self.in_dim != g.channels * g.in_hw[0] * g.in_hw[1]
                    || self.out_dim != self.out_shape().channels * self.out_shape().len
                {
                    return Err("pooling input or output length does not match its geometry".into());
                }
                if self.mult != 1 || self.shift != 1 || self.relu {
                    return Err("a pooling block has mult 1, shift 1 and no ReLU".into());
                }
                Ok(())
            }
            LayerKind::Elementwise(g) => {
                if g.channels == 0 || g.len == 0 {
                    return Err("an elementwise block with an empty dimension".into());
                }
                if self.in_dim != g.channels * g.len || self.out_dim != self.in_dim {
                    return Err(format!(
                        "elementwise input and output lengths {} and {} must both be {}·{}",
                        self.in_dim, self.out_dim, g.channels, g.len
                    ));
                }
                if g.coef.iter().any(|c| *c == 0 || c.abs() > MAX_COEF) {
                    return Err(format!(
                        "coefficients {:?} must be nonzero and at most {MAX_COEF} in magnitude",
                        g.coef
                    ));
                }
                Ok(())
            }
            LayerKind::Unary(g) => {
                if g.channels == 0 || g.len == 0 || g.values.is_empty() {
                    return Err(format!("a '{}' table or tensor is empty", g.func));
                }
                if self.in_dim != g.channels * g.len || self.out_dim != self.in_dim {
                    return Err(format!(
                        "'{}' input and output lengths {} and {} must both be {}·{}",
                        g.func, self.in_dim, self.out_dim, g.channels, g.len
                    ));
                }
                if self.mult != 1 || self.shift != 1 || self.relu {
                    return Err("a table-lookup block has mult 1, shift 1 and no ReLU".into());
                }
                Ok(())
            }
        }
    }
}

impl CircuitSpec {
    /// Checks the shape and parameter rules of every block.
    pub fn validate(&self) -> Result<()> {
        if self.layers.is_empty() {
            return Err(ProofError::Circuit("the circuit has no layers".into()));
        }
        if self.input_len == 0 {
            return Err(ProofError::Circuit("the input is empty".into()));
        }
        if self.committed_input && self.public_input {
            return Err(ProofError::Circuit(
                "a committed input must be private".into(),
            ));
        }
        if !(MIN_TABLE_BITS..=MAX_TABLE_BITS).contains(&self.table_bits) {
            return Err(ProofError::Circuit(format!(
                "table bits {} outside {MIN_TABLE_BITS}..={MAX_TABLE_BITS}",
                self.table_bits
            )));
        }
        if !self.sources.is_empty() && self.sources.len() != self.layers.len() {
            return Err(ProofError::Circuit(format!(
                "{} block sources for {} blocks",
                self.sources.len(),
                self.layers.len()
            )));
        }
        self.check_extra_outputs()?;
        for (here, l) in self.layers.iter().enumerate() {
            let bad = |d: String| Err(ProofError::Circuit(format!("block '{}': {d}", l.name)));
            let Some((prev, prev_shape)) = self.operand(self.source(here), here) else {
                return bad(format!(
                    "its input {:?} is not the circuit input or an earlier block's output",
                    self.source(here)
                ));
            };
            if l.in_dim != prev {
                return bad(format!(
                    "input length {} does not match the {prev} values it reads",
                    l.in_dim
                ));
            }
            if l.out_dim == 0 || l.in_dim == 0 {
                return bad("empty dimension".into());
            }
            if let Err(d) = l.check_geometry() {
                return bad(d);
            }
            let out = l.out_shape();
            if matches!(l.kind, LayerKind::Conv(_) | LayerKind::MaxPool(_))
                && out.channels * out.len == 1
            {
                return bad(
                    "a convolution or pooling with a single output value is not supported".into(),
                );
            }
            if let Some(want) = l.in_shape() {
                let same_slots = (0..l.in_dim).all(|i| want.slot(i) == prev_shape.slot(i));
                if !same_slots {
                    return bad(format!(
                        "needs its input as {} channels of {} values; the tensor it reads is stored as {} channels of {}",
                        want.channels, want.len, prev_shape.channels, prev_shape.len
                    ));
                }
            }
            if let LayerKind::Elementwise(g) = &l.kind {
                let Some((len, shape)) = self.operand(g.other, here) else {
                    return bad(format!(
                        "its second operand {:?} is not the circuit input or an earlier block's \
                         output",
                        g.other
                    ));
                };
                let want = g.shape();
                if len != l.in_dim || (0..len).any(|i| want.slot(i) != shape.slot(i)) {
                    return bad(format!(
                        "its second operand ({len} values, stored as {} channels of {}) is not \
                         stored like its output ({} channels of {})",
                        shape.channels, shape.len, want.channels, want.len
                    ));
                }
                check_elementwise_bound(self, l).map_err(ProofError::Circuit)?;
            }
            if let LayerKind::MatMul(g) = &l.kind {
                self.check_matmul(here, g, prev_shape)
                    .map_err(|d| ProofError::Circuit(format!("block '{}': {d}", l.name)))?;
            }
            if let LayerKind::Unary(g) = &l.kind {
                check_unary(g, prev_shape, self.table_bits)
                    .map_err(|d| ProofError::Circuit(format!("block '{}': {d}", l.name)))?;
            }
            if !(1..=self.table_bits).contains(&l.shift) {
                return bad(format!(
                    "shift {} outside 1..={} (the table bits)",
                    l.shift, self.table_bits
                ));
            }
            if l.mult == 0 || l.mult > MAX_MULT {
                return bad(format!("multiplier {} outside 1..={MAX_MULT}", l.mult));
            }
        }
        self.check_readers()
    }

    /// A matrix product reads A and B stored as matrices of exactly their sizes (the relation
    /// splits each column's variables into a row and a column index), B a block's output or an
    /// input without padding (an input's padding is free, and B is read without a selector),
    /// and its accumulator cannot wrap around.
    fn check_matmul(
        &self,
        here: usize,
        g: &MatMulGeom,
        a_stored: ActShape,
    ) -> std::result::Result<(), String> {
        if a_stored.log_size() != g.a_shape().log_size() {
            return Err(format!(
                "its first operand is stored in 2^{} entries, not as {} rows of {}",
                a_stored.log_size(),
                g.rows,
                g.inner
            ));
        }
        let Some((len, shape)) = self.operand(g.other, here) else {
            return Err(format!(
                "its second operand {:?} is not the circuit input or an earlier block's output",
                g.other
            ));
        };
        let want = g.b_shape();
        if len != g.b_len()
            || shape.log_size() != want.log_size()
            || (0..len).any(|i| want.slot(i) != shape.slot(i))
        {
            return Err(format!(
                "its second operand ({len} values, stored as {} channels of {}) is not stored                  as {} rows of {}",
                shape.channels, shape.len, g.inner, g.cols
            ));
        }
        if g.other == Operand::Input && len != 1 << want.log_size() {
            return Err(
                "its second operand is the circuit input, which must then fill its column (rows                  and columns powers of two)"
                    .into(),
            );
        }
        let l = &self.layers[here];
        if (1..=self.table_bits).contains(&l.shift) && (1..=MAX_MULT).contains(&l.mult) {
            g.check_bound(self.table_bits, l.mult_scaled(self.table_bits))?;
        }
        Ok(())
    }

    /// How many blocks read each activation column: index 0 the input, index l + 1 block l's
    /// output (the next block, and every elementwise block that names it as its second operand).
    pub fn readers(&self) -> Vec<usize> {
        let index = |o: Operand| match o {
            Operand::Input => 0,
            Operand::Block(k) => k + 1,
        };
        let mut n = vec![0; self.layers.len() + 1];
        for (l, layer) in self.layers.iter().enumerate() {
            n[index(self.source(l))] += 1;
            if let Some(other) = layer.kind.other() {
                n[index(other)] += 1;
            }
        }
        n
    }

    /// A column of [`MIN_COLUMN_VARS`] variables has room (`zk/budget.rs`) for its producer's
    /// claim, its lookups' and two readers'; a third reader needs a wider column, which the
    /// planner does not make yet: refused here, naming the block, instead of at proof time.
    fn check_readers(&self) -> Result<()> {
        for (c, &n) in self.readers().iter().enumerate() {
            let shape = if c == 0 {
                self.input_shape()
            } else {
                self.layers[c - 1].out_shape()
            };
            let natural = crate::mle::log2_ceil(shape.channels) + shape.log_len();
            if n > MAX_NARROW_READERS && natural < MIN_COLUMN_VARS + 1 {
                let what = match c {
                    0 => "the input".to_string(),
                    _ => format!("the output of block '{}'", self.layers[c - 1].name),
                };
                return Err(ProofError::Circuit(format!(
                    "{what} ({} values) is read by {n} blocks; a tensor of at most {} values can \
                     be read by at most {MAX_NARROW_READERS} without revealing it (zero \
                     knowledge), so add fewer skip connections from it",
                    shape.channels * shape.len,
                    1usize << MIN_COLUMN_VARS
                )));
            }
        }
        Ok(())
    }

    /// How the input is stored: as the first block that reads it wants it (`validate` checks
    /// that every other reader finds it stored its way).
    pub fn input_shape(&self) -> ActShape {
        (0..self.layers.len())
            .filter(|&l| self.source(l) == Operand::Input)
            .find_map(|l| self.layers[l].in_shape())
            .unwrap_or(ActShape::flat(self.input_len))
    }

    /// Where block l reads its (first) input.
    pub fn source(&self, l: usize) -> Operand {
        match self.sources.get(l) {
            Some(&o) => o,
            None if l == 0 => Operand::Input,
            None => Operand::Block(l - 1),
        }
    }

    /// The length and storage of an operand read by block `here`; None for a block that is not
    /// earlier than `here`.
    pub fn operand(&self, o: Operand, here: usize) -> Option<(usize, ActShape)> {
        match o {
            Operand::Input => Some((self.input_len, self.input_shape())),
            Operand::Block(k) if k < here => {
                Some((self.layers[k].out_dim, self.layers[k].out_shape()))
            }
            Operand::Block(_) => None,
        }
    }

    /// How block l's input is stored.
    pub fn layer_input_shape(&self, l: usize) -> ActShape {
        match self.source(l) {
            Operand::Input => self.input_shape(),
            Operand::Block(k) => self.layers[k].out_shape(),
        }
    }

    /// Every extra output is a block before the last one, listed once.
    fn check_extra_outputs(&self) -> Result<()> {
        let last = self.layers.len() - 1;
        for (i, &b) in self.extra_outputs.iter().enumerate() {
            if b >= last {
                return Err(ProofError::Circuit(format!(
                    "extra output {i} names block {b}; it must be a block before the last ({last})"
                )));
            }
            if self.extra_outputs[..i].contains(&b) {
                return Err(ProofError::Circuit(format!(
                    "block '{}' is listed twice as an output",
                    self.layers[b].name
                )));
            }
        }
        Ok(())
    }

    /// The blocks whose outputs the proof states, in statement order: the last block, then the
    /// extra outputs.
    pub fn output_blocks(&self) -> Vec<usize> {
        let last = self.layers.len().checked_sub(1);
        last.into_iter()
            .chain(self.extra_outputs.iter().copied())
            .collect()
    }

    /// Length of one item's output vector: every output block's values, in statement order.
    pub fn output_len(&self) -> usize {
        if self.layers.is_empty() {
            return self.input_len;
        }
        self.output_blocks()
            .iter()
            .map(|&b| self.layers.get(b).map_or(0, |l| l.out_dim))
            .sum()
    }

    /// One item's outputs (one trace), in statement order.
    pub fn item_output(&self, trace: &[BlockTrace]) -> Vec<i64> {
        self.output_blocks()
            .iter()
            .flat_map(|&b| trace[b].a.iter().copied())
            .collect()
    }

    /// Stable digest of the public description (bound into every transcript).
    pub fn digest(&self) -> [u8; 32] {
        let bytes = bincode::serde::encode_to_vec(self, bincode::config::standard())
            .expect("a circuit spec always encodes");
        *blake3::hash(&bytes).as_bytes()
    }

    /// Half the table size: activations lie in [−offset, offset).
    pub fn signed_offset(&self) -> i64 {
        1 << (self.table_bits - 1)
    }

    /// Checks that the weights have the shapes the spec says.
    pub fn check_weights(&self, w: &Weights) -> Result<()> {
        if w.layers.len() != self.layers.len() {
            return Err(ProofError::Circuit(format!(
                "{} weight blocks for {} layers",
                w.layers.len(),
                self.layers.len()
            )));
        }
        for (l, lw) in self.layers.iter().zip(&w.layers) {
            let (rows, cols) = l.weight_dims();
            if lw.weight.len() != rows * cols || lw.bias.len() != rows {
                return Err(ProofError::Circuit(format!(
                    "block '{}': weight has {} entries and bias {}, expected {rows}×{cols} and {rows}",
                    l.name,
                    lw.weight.len(),
                    lw.bias.len(),
                )));
            }
        }
        Ok(())
    }
}

/// The fan-in of a block's accumulator: the most products one output sums (0 for pooling and
/// elementwise blocks, whose bound [`check_elementwise_bound`] checks from public coefficients).
pub fn fan_in(l: &DenseSpec) -> usize {
    match &l.kind {
        LayerKind::Dense => l.in_dim,
        LayerKind::Conv(g) => g.patch_len(),
        LayerKind::MaxPool(_)
        | LayerKind::Elementwise(_)
        | LayerKind::Unary(_)
        | LayerKind::MatMul(_) => 0,
    }
}

/// A table must map b-bit activations to b-bit activations, stored as its input is (the lookup
/// pairs the input column with the output column entry by entry), and leave room for the
/// padding rows' entry in a table of at most 2^b entries.
fn check_unary(g: &UnaryGeom, input: ActShape, bits: u32) -> std::result::Result<(), String> {
    let (lo, hi) = (-(1i64 << (bits - 1)), (1i64 << (bits - 1)) - 1);
    if g.values.len() >= 1 << bits || g.lo < lo || g.hi() > hi {
        return Err(format!(
            "the '{}' table covers [{}, {}], which must lie in [{lo}, {hi}] with fewer than 2^{bits} entries",
            g.func,
            g.lo,
            g.hi()
        ));
    }
    if let Some((j, v)) = g
        .values
        .iter()
        .enumerate()
        .find(|(_, v)| !(lo..=hi).contains(*v))
    {
        return Err(format!(
            "the '{}' table maps {} to {v}, outside the activation range [{lo}, {hi}]",
            g.func,
            g.lo + j as i64
        ));
    }
    if input.log_size() != g.shape().log_size() {
        return Err(format!(
            "'{}' reads {} channel(s) of {} values stored in 2^{} entries; the input is stored in 2^{}",
            g.func,
            g.channels,
            g.len,
            g.shape().log_size(),
            input.log_size()
        ));
    }
    Ok(())
}

/// Refuses an elementwise block whose accumulator could wrap around the field: with b-bit
/// operands |z| ≤ (|c0| + |c1|)·2^(b−1) for a sum and |c0·c1|·2^(2b−2) for a product, and
/// z·m_b must stay below [`ACC_LIMIT`].
fn check_elementwise_bound(spec: &CircuitSpec, l: &DenseSpec) -> std::result::Result<(), String> {
    let LayerKind::Elementwise(g) = &l.kind else {
        return Ok(());
    };
    let b = spec.table_bits;
    if !(1..=b).contains(&l.shift) || l.mult == 0 || l.mult > MAX_MULT {
        return Ok(()); // reported by the shift and multiplier checks
    }
    let [c0, c1] = g.coef.map(|c| c.unsigned_abs() as u128);
    let z = match g.op {
        ElementwiseOp::Sum => (c0 + c1) << (b - 1),
        ElementwiseOp::Product => (c0 * c1) << (2 * b - 2),
    };
    let bound = z * l.mult_scaled(b) as u128;
    if bound >= ACC_LIMIT as u128 {
        return Err(format!(
            "block '{}': coefficients {:?} with multiplier {}·2^{} could reach 2^{:.1} ≥ 2^62 and \
             wrap around the field",
            l.name,
            g.coef,
            l.mult,
            b - l.shift,
            (bound as f64).log2()
        ));
    }
    Ok(())
}

/// Refuses a block whose accumulator could wrap around the field for *some* weights within the
/// certified bit widths (`zk::range`): |W| ≤ 2^(w_bits−1), |bias| ≤ 2^(bias_bits−1), every input
/// |x| ≤ 2^(b−1), so |z| ≤ Z = fan-in·2^(w_bits−1)·2^(b−1) + 2^(bias_bits−1), and Z·m_b must stay
/// below [`ACC_LIMIT`] = 2^62 (then z·m_b − (2^b·q + t − 2^(b−1)) < 2^62 + 2^32 < p in magnitude).
pub fn check_accumulator_bound(
    spec: &CircuitSpec,
    l: usize,
    w_bits: u32,
    bias_bits: u32,
) -> Result<()> {
    let layer = &spec.layers[l];
    let (fan, b) = (fan_in(layer) as u128, spec.table_bits);
    if fan == 0 {
        return Ok(());
    }
    let pow = |e: u32| 1u128.checked_shl(e.saturating_sub(1)).unwrap_or(u128::MAX);
    let z = fan
        .saturating_mul(pow(w_bits))
        .saturating_mul(pow(b))
        .saturating_add(pow(bias_bits));
    let bound = z.saturating_mul(layer.mult_scaled(b) as u128);
    if bound >= ACC_LIMIT as u128 {
        return Err(ProofError::Circuit(format!(
            "block '{}': with fan-in {fan}, {w_bits}-bit weights, {bias_bits}-bit biases, {b}-bit inputs and multiplier \
             {}·2^{}, an accumulator could reach 2^{:.1} ≥ 2^62 and wrap around the field; quantise the weights \
             to fewer bits or lower the multiplier",
            layer.name,
            layer.mult,
            b - layer.shift,
            (bound as f64).log2()
        )));
    }
    Ok(())
}

fn check_range(name: &str, what: &str, v: &[i64], bits: u32) -> Result<()> {
    let (lo, hi) = (-(1i64 << (bits - 1)), (1i64 << (bits - 1)) - 1);
    if let Some((i, x)) = v.iter().enumerate().find(|(_, x)| !(lo..=hi).contains(*x)) {
        return Err(ProofError::Witness {
            layer: name.to_string(),
            detail: format!(
                "{what}[{i}] = {x} is outside the provable range [{lo}, {hi}] ({bits}-bit tables); \
                 recompile with calibration data that covers this input"
            ),
        });
    }
    Ok(())
}

/// The accumulator of a dense or convolution block (exact integers, before requantisation).
fn accumulate(l: &DenseSpec, w: &DenseWeights, a: &[i64]) -> Vec<i128> {
    let dot = |row: &[i64], x: &mut dyn Iterator<Item = Option<usize>>| -> i128 {
        row.iter()
            .zip(x)
            .filter_map(|(&k, i)| i.map(|i| k as i128 * a[i] as i128))
            .sum()
    };
    match &l.kind {
        LayerKind::Dense => w
            .weight
            .chunks_exact(l.in_dim)
            .zip(&w.bias)
            .map(|(row, &b)| {
                row.iter()
                    .zip(a)
                    .map(|(&x, &y)| x as i128 * y as i128)
                    .sum::<i128>()
                    + b as i128
            })
            .collect(),
        LayerKind::Conv(g) => {
            let positions = g.out_hw()[0] * g.out_hw()[1];
            let mut z = Vec::with_capacity(l.out_dim);
            for (row, &b) in w.weight.chunks_exact(g.patch_len()).zip(&w.bias) {
                for p in 0..positions {
                    z.push(dot(row, &mut (0..g.patch_len()).map(|c| g.source(c, p))) + b as i128);
                }
            }
            z
        }
        LayerKind::MaxPool(_)
        | LayerKind::Elementwise(_)
        | LayerKind::Unary(_)
        | LayerKind::MatMul(_) => {
            unreachable!(
                "pooling, elementwise, table and product blocks have no weight accumulator"
            )
        }
    }
}

/// Runs a max-pooling block: q = a = the window maxima, no remainder.
fn run_pool(g: &PoolGeom, a: &[i64]) -> BlockTrace {
    let positions = g.out_hw()[0] * g.out_hw()[1];
    let m: Vec<i64> = (0..g.channels)
        .flat_map(|ch| {
            (0..positions).map(move |p| {
                (0..g.window())
                    .map(|u| a[g.source(ch, u, p)])
                    .max()
                    .unwrap_or(0)
            })
        })
        .collect();
    BlockTrace {
        z: m.clone(),
        q: m.clone(),
        t: Vec::new(),
        a: m,
    }
}

/// Runs a table block: a' = f(a) by the table, an input outside it an error naming the range.
/// A table saturates its entries at the ends of the `bits`-bit activation range (where f is
/// beyond what the output's scale represents, e.g. 1/x near 0): such an entry is no answer to
/// give, so the prover refuses it (the proof would verify a capped value silently).
fn run_unary(l: &DenseSpec, g: &UnaryGeom, a: &[i64], bits: u32) -> Result<BlockTrace> {
    let (lo, hi) = (-(1i64 << (bits - 1)), (1i64 << (bits - 1)) - 1);
    let mut out = Vec::with_capacity(a.len());
    for (i, &x) in a.iter().enumerate() {
        let Some(y) = g.apply(x) else {
            if g.func == "table" {
                // A constant list read at an index (ONNX Gather, OneHot): its size is the
                // model's, not calibration's.
                return Err(ProofError::Witness {
                    layer: l.name.clone(),
                    detail: format!(
                        "input[{i}] = {x} is not an index of its constant list ([{}, {}]), \
                         which ONNX refuses too",
                        g.lo,
                        g.hi()
                    ),
                });
            }
            return Err(ProofError::Witness {
                layer: l.name.clone(),
                detail: format!(
                    "input[{i}] = {x} is outside the '{}' table's calibrated range [{}, {}]; \
                     recompile with calibration data that covers this input",
                    g.func,
                    g.lo,
                    g.hi()
                ),
            });
        };
        if y == lo || y == hi {
            return Err(ProofError::Witness {
                layer: l.name.clone(),
                detail: format!(
                    "input[{i}] = {x} maps to the end of the '{}' table's output range ({y}):                      the function is beyond what its calibrated output scale represents there;                      recompile with calibration data that covers this input",
                    g.func
                ),
            });
        }
        out.push(y);
    }
    Ok(BlockTrace {
        z: a.to_vec(),
        q: out.clone(),
        t: Vec::new(),
        a: out,
    })
}

/// Runs one block on integer activations with `bits`-bit tables (`other`: an elementwise
/// block's second operand, ignored by the others).
pub fn run_block_with(
    l: &DenseSpec,
    w: &DenseWeights,
    a: &[i64],
    other: &[i64],
    bits: u32,
) -> Result<BlockTrace> {
    match &l.kind {
        LayerKind::MaxPool(g) => Ok(run_pool(g, a)),
        LayerKind::Unary(g) => run_unary(l, g, a, bits),
        LayerKind::Elementwise(g) => {
            if a.len() != l.in_dim || other.len() != l.in_dim {
                return Err(ProofError::Witness {
                    layer: l.name.clone(),
                    detail: format!(
                        "operands of {} and {} values, expected {}",
                        a.len(),
                        other.len(),
                        l.in_dim
                    ),
                });
            }
            let [c0, c1] = g.coef.map(i128::from);
            let acc = a.iter().zip(other).map(|(&x, &y)| match g.op {
                ElementwiseOp::Sum => c0 * x as i128 + c1 * y as i128,
                ElementwiseOp::Product => c0 * c1 * x as i128 * y as i128,
            });
            requantise(l, acc.collect(), bits)
        }
        LayerKind::MatMul(g) => {
            if a.len() != l.in_dim || other.len() != g.b_len() {
                return Err(ProofError::Witness {
                    layer: l.name.clone(),
                    detail: format!(
                        "operands of {} and {} values, expected {} and {}",
                        a.len(),
                        other.len(),
                        l.in_dim,
                        g.b_len()
                    ),
                });
            }
            requantise(l, g.accumulate(a, other), bits)
        }
        _ => requantise(l, accumulate(l, w, a), bits),
    }
}

/// Runs one block on integer activations with `bits`-bit tables (not an elementwise block: it
/// has a second operand, see [`run_block_with`]).
pub fn run_block(l: &DenseSpec, w: &DenseWeights, a: &[i64], bits: u32) -> Result<BlockTrace> {
    run_block_with(l, w, a, &[], bits)
}

/// Requantises (and ReLUs) an accumulator: the shared tail of dense, convolution and
/// elementwise blocks.
fn requantise(l: &DenseSpec, acc: Vec<i128>, bits: u32) -> Result<BlockTrace> {
    let mb = l.mult_scaled(bits) as i128;
    let mut z = Vec::with_capacity(l.out_dim);
    for acc in acc {
        if acc.abs() * mb >= ACC_LIMIT {
            return Err(ProofError::Witness {
                layer: l.name.clone(),
                detail: format!("accumulator {acc} is too large for exact field arithmetic"),
            });
        }
        z.push(acc as i64);
    }
    let q: Vec<i64> = z
        .iter()
        .map(|&v| requant_value(v, l.mult, l.shift))
        .collect();
    check_range(&l.name, "requantised output", &q, bits)?;
    let t = z
        .iter()
        .zip(&q)
        .map(|(&zv, &qv)| (zv as i128 * mb + (1 << (bits - 1)) - ((qv as i128) << bits)) as i64)
        .collect();
    let a = if l.relu {
        q.iter().map(|&v| relu_value(v)).collect()
    } else {
        q.clone()
    };
    Ok(BlockTrace { z, q, t, a })
}

/// Runs the whole chain, checking the input range first.
pub fn forward(spec: &CircuitSpec, w: &Weights, input: &[i64]) -> Result<Vec<BlockTrace>> {
    if input.len() != spec.input_len {
        return Err(ProofError::Witness {
            layer: "input".into(),
            detail: format!("expected {} values, got {}", spec.input_len, input.len()),
        });
    }
    check_range("input", "input", input, spec.table_bits)?;
    let mut traces: Vec<BlockTrace> = Vec::with_capacity(spec.layers.len());
    for (l, lw) in spec.layers.iter().zip(&w.layers) {
        let a = match spec.source(traces.len()) {
            Operand::Input => input,
            Operand::Block(k) => &traces[k].a,
        };
        let other: &[i64] = match l.kind.other() {
            Some(Operand::Block(k)) => &traces[k].a,
            Some(Operand::Input) => input,
            None => &[],
        };
        traces.push(run_block_with(l, lw, a, other, spec.table_bits)?);
    }
    Ok(traces)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requant_rounds_half_up_and_floors_negatives() {
        assert_eq!(requant_value(3, 1, 1), 2); // 1.5 -> 2
        assert_eq!(requant_value(-3, 1, 1), -1); // -1.5 -> -1
        assert_eq!(requant_value(1000, 3, 4), 188); // 187.5 -> 188
    }

    #[test]
    fn remainder_is_in_range() {
        let l = DenseSpec {
            name: "b".into(),
            in_dim: 2,
            out_dim: 2,
            mult: 5,
            shift: 7,
            relu: true,
            kind: LayerKind::Dense,
        };
        let w = DenseWeights {
            weight: vec![100, -7, 3, 9],
            bias: vec![11, -4000],
        };
        for bits in [12, 16] {
            let tr = run_block(&l, &w, &[50, -20], bits).unwrap();
            for (&t, (&z, &q)) in tr.t.iter().zip(tr.z.iter().zip(&tr.q)) {
                assert!((0..1 << bits).contains(&t));
                let lhs = z as i128 * l.mult_scaled(bits) as i128 + (1 << (bits - 1));
                assert_eq!(lhs, ((q as i128) << bits) + t as i128);
            }
            assert!(tr.a.iter().all(|&v| v >= 0));
        }
    }
}
