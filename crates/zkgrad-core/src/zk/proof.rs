//! The messages of a zero-knowledge proof (`zk/`). Every value here is either public, a masked
//! evaluation Ṗ(z) of a committed column (uniformly random on its own), a masked sumcheck message,
//! a mask value g_l(r_l), or a committed table's value T(ρ) at its batching point (which the
//! columns' masks in the table randomise).

use serde::{Deserialize, Serialize};

use crate::field::EF;
use crate::pcs::{Commitment, OpeningProof};
use crate::zk::sumcheck::ZkSumcheckProof;

/// All lookups at once: committed inverses, one zero-claim sumcheck.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ZkLookupProof {
    /// Σ over x of the zero-checks h·(α − v) = 1 and of Σh − Σ m/(α − T).
    pub sumcheck: ZkSumcheckProof,
    /// ḣ at the sumcheck point, one per lookup.
    pub inverses: Vec<EF>,
    /// The looked-up columns at the sumcheck point (lookup order), then each multiplicity column.
    pub values: Vec<EF>,
}

/// A max-pooling block: the link of the window values to the input, and the maximum check.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ZkPoolProof {
    /// Σ eq(ρ, x)·Σ_u λ^u·g_u(x) − Σ M_λ(i; ρ)·eq(ρ_n, n)·a_in(i, n) = 0.
    pub link: ZkSumcheckProof,
    /// ġ_u at the link point.
    pub gathered: Vec<EF>,
    /// ȧ_in at the link point.
    pub input: EF,
    /// Σ eq(τ, x)·Π_u (a − g_u)(x) = 0.
    pub product: ZkSumcheckProof,
    /// ȧ, then every ġ_u, at the product's point.
    pub evals: Vec<EF>,
}

/// One block's messages.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub enum ZkBlockProof {
    /// A dense or convolution block.
    Linear(ZkDenseProof),
    /// A max pooling.
    Pool(ZkPoolProof),
    /// An elementwise block (appended last: the encodings of the other kinds are unchanged).
    Elementwise(ZkElementwiseProof),
    /// A table block: proved whole by the lookup sumcheck (`zk/unary.rs`), nothing of its own.
    Unary,
    /// A product of two activations (appended last like `Elementwise`).
    MatMul(ZkMatMulProof),
}

/// A product of two activations (`zk/matmul.rs`): Σ eq(τ, x)·(Q(x) − Y(x)) = 0 over the output
/// variables, Y continued over (t, i, n) to the operands, and the optional ReLU zero-check.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ZkMatMulProof {
    /// The sumcheck over the output variables, then A's variables.
    pub sumcheck: ZkSumcheckProof,
    /// q̇ and ṫ at the output part of the point.
    pub q_t: [EF; 2],
    /// Ȧ at the second part of the point, Ḃ at (r_j, ρ_t, ρ_n).
    pub operands: [EF; 2],
    /// For a block with a ReLU: Σ eq(τ, x)·a·(a − q) = 0 and ȧ, q̇ at its point.
    pub relu: Option<(ZkSumcheckProof, [EF; 2])>,
}

/// An elementwise block (`zk/elementwise.rs`): Σ_x eq(τ, x)·(Q(x) − S(x)·(c0·a(x) + c1·o(x))) = 0
/// with Q = (2^b·q + t − 2^(b−1))/m_b, and the optional ReLU zero-check.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ZkElementwiseProof {
    /// The sumcheck over the output variables.
    pub sumcheck: ZkSumcheckProof,
    /// q̇ and ṫ at its point.
    pub q_t: [EF; 2],
    /// ȧ (first operand) and ȯ (second operand) at the same point.
    pub operands: [EF; 2],
    /// For a block with a ReLU: Σ eq(τ, x)·a·(a − q) = 0 and ȧ, q̇ at its point.
    pub relu: Option<(ZkSumcheckProof, [EF; 2])>,
}

/// One dense or convolution block (`zk/dense.rs`, `zk/conv.rs`): Σ_{i,n,j} eq(τ, (i, n))·(D(i, n)/2^k − W(i, j)·x(j, n)) = 0 with
/// D = (2^b·q + t − 2^(b−1))/m_b − bias, and the optional ReLU zero-check.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ZkDenseProof {
    /// The sumcheck over the output variables, then the input variables.
    pub sumcheck: ZkSumcheckProof,
    /// q̇ and ṫ at the output part of the point.
    pub q_t: [EF; 2],
    /// ḃ at the row part of the point.
    pub bias: EF,
    /// Ẇ_p at (input part, row part) for each piece p of the kernel (`zk/weights.rs`).
    pub weights: Vec<EF>,
    /// ẋ at (input part, batch part).
    pub input: EF,
    /// For a block with a ReLU: Σ eq(τ, x)·a·(a − q) = 0 and ȧ, q̇ at its point.
    pub relu: Option<(ZkSumcheckProof, [EF; 2])>,
}

/// A zero-knowledge proof's body.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ZkProof {
    /// The epoch leaf whose weight commitment the proof opens (`crate::epoch`); None when it
    /// opens the published commitment itself (tests and single proofs of the low-level API).
    pub epoch: Option<crate::epoch::EpochRef>,
    /// The published input commitment, when the circuit's input is committed (part of the
    /// statement; never opened itself: `zk/input.rs`).
    pub input_commitment: Option<Commitment>,
    /// The input epoch leaf the proof opens, linked to `input_commitment` by the input's epoch
    /// certificate (`zk/input.rs`); present exactly when the input is committed.
    pub input_epoch: Option<crate::epoch::EpochRef>,
    /// Hiding commitment to the witness table: the witness's columns, every sumcheck's masking
    /// polynomials, and the columns' masks (`masked.rs`).
    pub witness_commitment: Commitment,
    /// Hiding commitment to the masked table of LogUp inverses (made after α).
    pub inverse_commitment: Commitment,
    /// The lookup argument.
    pub lookups: ZkLookupProof,
    /// Blocks from the last to the first.
    pub blocks: Vec<ZkBlockProof>,
    /// The witness claims batched into one point (`open.rs`), and the table's value there.
    pub witness_batch: (ZkSumcheckProof, EF),
    /// The same for the inverse commitment.
    pub inverse_batch: (ZkSumcheckProof, EF),
    /// The same for the weight commitment.
    pub weight_batch: (ZkSumcheckProof, EF),
    /// The same for the input commitment, when the input is committed.
    pub input_batch: Option<(ZkSumcheckProof, EF)>,
    /// Openings, in this order: witness (the batched point, then the witness batching's own
    /// mask values), inverses, weights, and the input commitment's.
    pub openings: Vec<OpeningProof>,
}
