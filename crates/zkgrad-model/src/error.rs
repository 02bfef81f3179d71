//! Typed errors of the model crate. Every variant about a node names the node and its op, so a
//! user can find the offending place in the ONNX graph the IR came from.

use std::fmt;

use thiserror::Error;
use zkgrad_core::ProofError;

/// Everything that can be wrong with an IR, its tensors, an input, or a compiled-model file.
///
/// Field names are uniform: `node` and `op` name the IR node, `tensor` a tensor, `expected`/`got`
/// the rule and the value found, `detail` a message from a lower layer (serde, zkgrad-core).
#[allow(missing_docs)]
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ModelError {
    /// The IR text is not valid JSON of the expected layout.
    #[error("invalid IR JSON: {detail}")]
    Json { detail: String },
    /// The IR was written for another format version.
    #[error("unsupported IR version {got} (this build reads version {expected})")]
    IrVersion { expected: u64, got: u64 },
    /// A node names an op this crate does not know.
    #[error(
        "node '{node}': unknown op '{op}' (known ops: dense, conv, maxpool, requant, relu, reshape)"
    )]
    UnknownOp { node: String, op: String },
    /// A node's attributes are missing, ill-typed or unknown.
    #[error("node '{node}' ({op}): bad attributes: {detail}")]
    Attribute {
        node: String,
        op: String,
        detail: String,
    },
    /// Two nodes share a name.
    #[error("node '{node}' ({op}): the node name is used twice")]
    DuplicateNode { node: String, op: String },
    /// A tensor name is produced twice (or shadows the graph input).
    #[error(
        "node '{node}' ({op}): output tensor '{tensor}' is already defined earlier in the graph"
    )]
    DuplicateTensor {
        node: String,
        op: String,
        tensor: String,
    },
    /// A node has the wrong number of inputs.
    #[error("node '{node}' ({op}): expected {expected} input(s), got {got}")]
    Arity {
        node: String,
        op: String,
        expected: usize,
        got: usize,
    },
    /// A node reads a tensor that is neither the graph input nor produced by an earlier node.
    #[error(
        "node '{node}' ({op}): input '{input}' is not the graph input and is not produced by an earlier node"
    )]
    DanglingInput {
        node: String,
        op: String,
        input: String,
    },
    /// A node refers to a constant tensor that was not supplied.
    #[error("node '{node}' ({op}): constant tensor '{tensor}' is missing")]
    MissingTensor {
        node: String,
        op: String,
        tensor: String,
    },
    /// A constant tensor has the wrong shape for the node that uses it.
    #[error("node '{node}' ({op}): tensor '{tensor}' has shape {got:?}, expected {expected}")]
    TensorShape {
        node: String,
        op: String,
        tensor: String,
        expected: String,
        got: Vec<usize>,
    },
    /// A constant tensor's data length does not match its shape.
    #[error("tensor '{tensor}': shape {shape:?} needs {expected} values, got {got}")]
    TensorData {
        tensor: String,
        shape: Vec<usize>,
        expected: usize,
        got: usize,
    },
    /// A weight or bias entry does not fit in an i32.
    #[error(
        "node '{node}' ({op}): tensor '{tensor}' has value {value} at flat index {index}, outside the i32 range"
    )]
    WeightRange {
        node: String,
        op: String,
        tensor: String,
        index: usize,
        value: i64,
    },
    /// A reshape changes the number of elements.
    #[error(
        "node '{node}' (reshape): shape {shape:?} has {got} elements but the input '{input}' has {expected}"
    )]
    ReshapeCount {
        node: String,
        input: String,
        shape: Vec<usize>,
        expected: usize,
        got: usize,
    },
    /// A conv or maxpool input that is not an image.
    #[error(
        "node '{node}' ({op}): input '{input}' has shape {got:?}, expected [1, C, H, W] or [C, H, W]"
    )]
    ImageShape {
        node: String,
        op: String,
        input: String,
        got: Vec<usize>,
    },
    /// A conv or maxpool stride of zero.
    #[error("node '{node}' ({op}): strides {got:?} must each be at least 1")]
    Stride {
        node: String,
        op: String,
        got: Vec<usize>,
    },
    /// A conv or maxpool window that is empty or larger than the (padded) input.
    #[error(
        "node '{node}' ({op}): kernel {kernel:?} does not fit the padded input {input:?} (each side must be 1..=the input's)"
    )]
    KernelSize {
        node: String,
        op: String,
        kernel: Vec<usize>,
        input: Vec<usize>,
    },
    /// A conv whose accumulator is not requantised by the very next node.
    #[error(
        "node '{node}' ({op}): must be followed directly by a requant node that reads its output '{tensor}'"
    )]
    MissingRequant {
        node: String,
        op: String,
        tensor: String,
    },
    /// A tensor shape has no elements.
    #[error("{place}: shape {shape:?} has no elements")]
    EmptyShape { place: String, shape: Vec<usize> },
    /// A requantisation shift outside the provable range.
    #[error("node '{node}' (requant): shift {got} is outside {min}..={max}")]
    RequantShift {
        node: String,
        got: i64,
        min: i64,
        max: i64,
    },
    /// A requantisation multiplier outside the provable range.
    #[error("node '{node}' (requant): multiplier {got} is outside {min}..={max}")]
    RequantMult {
        node: String,
        got: i64,
        min: i64,
        max: i64,
    },
    /// An op whose input comes from the wrong kind of node (the chain must be dense or conv → requant → optional relu).
    #[error(
        "node '{node}' ({op}): must directly follow a {required} node, but its input '{input}' comes from {found}"
    )]
    Placement {
        node: String,
        op: String,
        required: String,
        input: String,
        found: String,
    },
    /// The graph output is not produced by any node.
    #[error("graph output '{tensor}' is not produced by any node")]
    OutputNotProduced { tensor: String },
    /// The declared input/output shape disagrees with what the graph computes.
    #[error(
        "graph {which} '{tensor}' is declared with {declared} elements but the graph has {actual}"
    )]
    DeclaredShape {
        which: &'static str,
        tensor: String,
        declared: usize,
        actual: usize,
    },
    /// The graph has no dense layer, so there is nothing to prove.
    #[error("the graph has no dense layer: there is nothing to prove")]
    NoLayers,
    /// The graph output is not the last block's output: a block after it leads nowhere.
    #[error(
        "graph output '{output}' is not the output of the last computing node '{last}'; every \
         node must lead to the output"
    )]
    ChainEnd { output: String, last: String },
    /// An extra graph output is not the stored output of its own block before the last one.
    #[error(
        "graph output '{tensor}' must be the output of a computing node before the last one, and \
         not the same tensor as another output"
    )]
    ExtraOutput { tensor: String },
    /// The graph output is declared private (outputs are always public for now).
    #[error(
        "graph output '{tensor}' is declared private; outputs are public (the proof states them)"
    )]
    PrivateOutput { tensor: String },
    /// The graph is valid IR but cannot be lowered to the current proof system.
    #[error("node '{node}' ({op}) cannot be proved yet: {detail}")]
    Unsupported {
        node: String,
        op: String,
        detail: String,
    },
    /// The input vector has the wrong number of elements.
    #[error("input '{tensor}' must have {expected} elements, got {got}")]
    InputLength {
        tensor: String,
        expected: usize,
        got: usize,
    },
    /// An input value is outside the provable activation range.
    #[error("input '{tensor}' is out of range: {detail}")]
    InputRange { tensor: String, detail: String },
    /// An intermediate value is outside the provable range (names the producing node and tensor).
    #[error("node '{node}' ({op}) output '{tensor}' is out of range: {detail}")]
    ValueRange {
        node: String,
        op: String,
        tensor: String,
        detail: String,
    },
    /// Several problems, all found in one pass over the IR.
    #[error("{0}")]
    Invalid(Problems),
    /// A compiled-model or verifying-key file does not start with the expected magic bytes.
    #[error("not a zkgrad {what} file (bad magic bytes)")]
    BadMagic { what: &'static str },
    /// A compiled-model file from an incompatible format version.
    #[error(
        "unsupported {what} format version {got} (this build reads version {expected}): compile the model again with this zkgrad"
    )]
    FormatVersion {
        what: &'static str,
        expected: u16,
        got: u16,
    },
    /// A compiled-model file whose body cannot be decoded.
    #[error("malformed {what} file: {detail}")]
    Malformed { what: &'static str, detail: String },
    /// The weight commitment a model file stores is not the one this build computes from its
    /// weights and seed: the file was compiled by another zkgrad build, or edited.
    #[error(
        "the model file's weight commitment does not match the one this zkgrad computes from its weights (compiled by another zkgrad version, or edited): compile the model again"
    )]
    StaleCommitment,
    /// An error of the proof system that is not about the model's values (should not happen for a
    /// validated model; reported rather than hidden).
    #[error("proof system error: {0}")]
    Core(ProofError),
}

/// A list of validation problems, displayed one per line.
#[derive(Debug, Clone, PartialEq)]
pub struct Problems(pub Vec<ModelError>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        write!(
            f,
            "invalid IR ({n} problem{}):",
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.0 {
            write!(f, "\n  - {p}")?;
        }
        Ok(())
    }
}

impl ModelError {
    /// The individual problems: the list for [`ModelError::Invalid`], else just this error.
    pub fn problems(&self) -> Vec<&ModelError> {
        match self {
            ModelError::Invalid(p) => p.0.iter().collect(),
            e => vec![e],
        }
    }

    /// Wraps a list of problems: `Ok` when empty.
    pub fn collect(problems: Vec<ModelError>) -> Result<()> {
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ModelError::Invalid(Problems(problems)))
        }
    }
}

/// Result alias for this crate.
pub type Result<T> = core::result::Result<T, ModelError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_are_listed_one_per_line() {
        let e = ModelError::Invalid(Problems(vec![
            ModelError::OutputNotProduced {
                tensor: "logits".into(),
            },
            ModelError::RequantShift {
                node: "/rq".into(),
                got: 0,
                min: 1,
                max: 16,
            },
        ]));
        let s = e.to_string();
        assert!(s.starts_with("invalid IR (2 problems):"), "{s}");
        assert!(s.contains("\n  - graph output 'logits'"), "{s}");
        assert!(s.contains("\n  - node '/rq' (requant): shift 0"), "{s}");
        assert_eq!(e.problems().len(), 2);
    }

    #[test]
    fn empty_problem_list_is_ok() {
        assert!(ModelError::collect(vec![]).is_ok());
    }
}
