//! Epochs: one published model digest for as many proofs as users make, the weights hidden in
//! every one.
//!
//! A hiding weight commitment hides a bounded number of openings K (its codeword's randomness
//! and its column masks: `zk::budget`). So proofs never open the published commitment (the
//! root): they open **leaf** commitments of a tree whose nodes all commit to the same weights,
//! each with fresh masks and fresh codeword randomness, and each linked to its parent by a
//! zero-knowledge link certificate (`zk/link.rs`) made once, when the node is first needed, and
//! shown unchanged to every verifier. Every node is opened at most K times:
//! - the root: its range certificate and one link per child (F = K − 1 children);
//! - an inner node: its own link and one per child;
//! - a leaf: its own link and F proofs.
//!
//! Which leaf serves proof n of a model: epoch e = n / F, and epochs fill the root's subtrees in
//! turn, subtree i being a complete F-ary tree of depth i ([`leaf_path`]). The first F proofs
//! use a leaf one link below the root, the next F² two links below, and so on: a proof's chain
//! grows with the logarithm of the proofs made (at F = 15: 4 links at 10^4 proofs, 6 at 10^6),
//! and the tree holds F·Σ_{i<F} F^i proofs, about 4.7·10^17 at F = 15.
//!
//! A verifier checks each link once ([`crate::commit::ModelCommitment`] remembers it): for a
//! stream of proofs the cost is one link per F proofs, plus the rare inner node.
//!
//! The tree, its certificates and their checks are generic over the linked table kind
//! ([`EpochSource`] for the owner, [`LinkedLayout`] for the verifier): a committed dataset's
//! epochs (`data::epochs`) are the same code over the dataset table, with their own fanout and
//! proofs per leaf.

use serde::{Deserialize, Serialize};

use crate::circuit::{CircuitSpec, Weights};
use crate::commit::{ModelCommitment, WeightTables, node_commit_seed, node_key, node_tables};
use crate::error::{ProofError, Result};
use crate::pcs::{Commitment, ProverData};
use crate::zk::link::{
    self, LINK_READS_PER_CHILD, LINK_VARS, LinkCertificate, LinkTable, LinkedLayout,
};

/// Which commitment a proof opens: the leaf at `path` of the model's epoch tree.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct EpochRef {
    /// Child indices from the root (the first is the root subtree's).
    pub path: Vec<u8>,
    /// The leaf's weight commitment.
    pub commitment: Commitment,
}

/// One node of the epoch tree: its commitment and the certificate linking it to its parent.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EpochNode {
    pub path: Vec<u8>,
    pub commitment: Commitment,
    pub link: LinkCertificate,
}

/// What a verifier needs, besides the verifying key, to check the proofs of one epoch: the
/// nodes from the root's child down to the leaf. Public; the same for every proof of the epoch.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EpochCertificate {
    pub nodes: Vec<EpochNode>,
}

/// Magic bytes of an encoded epoch certificate.
pub const MAGIC: &[u8; 4] = b"ZKGE";
/// Its format version.
pub const VERSION: u16 = 1;
/// Decoding refuses certificates larger than this.
pub const MAX_CERTIFICATE_BYTES: usize = 256 << 20;

impl EpochCertificate {
    /// The epoch number's leaf path (the last node's).
    pub fn leaf(&self) -> Option<&EpochNode> {
        self.nodes.last()
    }

    /// Versioned bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        CERTIFICATE_FORMAT.encode(self)
    }

    /// Decodes versioned bytes; every malformed input is a typed [`ProofError::Epoch`], and
    /// the memory taken is bounded by the byte count (`bounds::versioned`).
    pub fn from_bytes(b: &[u8]) -> Result<Self> {
        CERTIFICATE_FORMAT.decode(b).map_err(|e| match e {
            ProofError::BadVersion { expected, got } => ProofError::Epoch(format!(
                "unsupported epoch certificate version {got} (expected {expected})"
            )),
            ProofError::Malformed(m) => ProofError::Epoch(m),
            e => e,
        })
    }
}

/// The certificate's format: magic, version, the largest decoded.
const CERTIFICATE_FORMAT: crate::bounds::versioned::Format = crate::bounds::versioned::Format {
    magic: MAGIC,
    version: VERSION,
    max_bytes: MAX_CERTIFICATE_BYTES,
    what: "epoch certificate",
};

/// Children per node and proofs per leaf: the openings a weight commitment of `spec` hides,
/// less the one that links it to its parent (`zk::budget::weight_openings_budget`).
pub fn fanout(spec: &CircuitSpec) -> usize {
    crate::zk::budget::weight_openings_budget(spec)
}

/// The most children a node may have: each child's link reads [`LINK_READS_PER_CHILD`]
/// functionals of its parent's D (2^[`LINK_VARS`] entries), two more kept spare.
pub const MAX_FANOUT: usize = ((1 << LINK_VARS) - 2) / LINK_READS_PER_CHILD;

/// Refuses a fanout the tree cannot use: under 2 (no tree grows), or more children than the
/// link masks hide ([`LINK_READS_PER_CHILD`] functionals each, within 2^[`LINK_VARS`]).
fn check_fanout(fanout: usize) -> Result<()> {
    if fanout < 2 {
        return Err(ProofError::Epoch(format!(
            "this model's weight commitment hides {fanout} proof(s): too few to link epochs"
        )));
    }
    if LINK_READS_PER_CHILD * fanout + 2 > 1 << LINK_VARS {
        return Err(ProofError::Epoch(format!(
            "{fanout} children per epoch node exceed what the link masks hide"
        )));
    }
    Ok(())
}

/// The path of epoch `epoch`'s leaf: subtree i of the root (i = 0, 1, …) holds F^i leaves at
/// depth i + 1, so the path is [i] followed by the epoch's offset in that subtree as i base-F
/// digits, most significant first.
pub fn leaf_path(fanout: usize, epoch: u64) -> Result<Vec<u8>> {
    check_fanout(fanout)?;
    let f = fanout as u64;
    let mut first = 0u64;
    for i in 0..fanout {
        let size = f.checked_pow(i as u32).unwrap_or(u64::MAX);
        if epoch - first < size {
            let mut offset = epoch - first;
            let mut digits = vec![0u8; i];
            for d in digits.iter_mut().rev() {
                *d = (offset % f) as u8;
                offset /= f;
            }
            let mut path = vec![i as u8];
            path.extend(digits);
            return Ok(path);
        }
        first = first.saturating_add(size);
    }
    Err(ProofError::Epoch(format!(
        "epoch {epoch} is past the last epoch this epoch tree holds"
    )))
}

/// Checks that `path` is a leaf of the tree with `fanout` (what a verifier reads from a proof).
pub fn check_leaf(fanout: usize, path: &[u8]) -> Result<()> {
    check_fanout(fanout)?;
    let ok = match path.split_first() {
        Some((&i, digits)) => {
            (i as usize) < fanout
                && digits.len() == i as usize
                && digits.iter().all(|&d| (d as usize) < fanout)
        }
        None => false,
    };
    if ok {
        Ok(())
    } else {
        Err(ProofError::Epoch(format!(
            "the proof's epoch path {path:?} is not a leaf of this epoch tree"
        )))
    }
}

/// The owner's side of a linked table kind: what makes any node of its epoch tree, each node
/// deterministic given the owner's secret (so any node is made again on need).
pub trait EpochSource {
    /// A node's committed table.
    type Table: LinkTable;
    /// The kind's public layout, PCS and transcript context.
    fn linked(&self) -> Result<LinkedLayout>;
    /// The table of the node at `path` (the root, the published commitment, at the empty path).
    fn node_table(&self, path: &[u8]) -> Result<Self::Table>;
    /// The seed of that node's hiding commitment.
    fn commit_seed(&self, path: &[u8]) -> [u8; 32];
    /// The seed of the link from that node's parent to it.
    fn link_seed(&self, path: &[u8]) -> [u8; 32];
}

/// A model's weights as an [`EpochSource`].
pub struct WeightSource<'a> {
    pub spec: &'a CircuitSpec,
    pub w: &'a Weights,
    pub seed: [u8; 32],
}

impl EpochSource for WeightSource<'_> {
    type Table = WeightTables;
    fn linked(&self) -> Result<LinkedLayout> {
        LinkedLayout::weights(self.spec)
    }
    fn node_table(&self, path: &[u8]) -> Result<WeightTables> {
        node_tables(self.spec, self.w, self.seed, path)
    }
    fn commit_seed(&self, path: &[u8]) -> [u8; 32] {
        node_commit_seed(self.seed, path)
    }
    fn link_seed(&self, path: &[u8]) -> [u8; 32] {
        node_key(&self.seed, "zkgrad link", path)
    }
}

/// The table, commitment and opening data of `src`'s node at `path`.
pub fn commit_node_of<S: EpochSource>(
    src: &S,
    ll: &LinkedLayout,
    path: &[u8],
) -> Result<(S::Table, Commitment, ProverData)> {
    let table = src.node_table(path)?;
    let (c, data) = ll.pcs.commit(table.table(), src.commit_seed(path));
    Ok((table, c, data))
}

/// The tables, commitment and opening data of the node at `path` (the root at the empty path:
/// the published commitment).
pub fn commit_node(
    spec: &CircuitSpec,
    w: &Weights,
    seed: [u8; 32],
    path: &[u8],
) -> Result<(WeightTables, Commitment, ProverData)> {
    let src = WeightSource { spec, w, seed };
    commit_node_of(&src, &src.linked()?, path)
}

/// Makes the node at `path` (not the root) and its link to its parent, for the model whose
/// published identity is `identity`.
pub fn make_node(
    spec: &CircuitSpec,
    w: &Weights,
    seed: [u8; 32],
    identity: &[u8; 32],
    path: &[u8],
) -> Result<EpochNode> {
    let src = WeightSource { spec, w, seed };
    make_node_of(&src, &src.linked()?, identity, path)
}

/// [`make_node`] for any [`EpochSource`].
pub fn make_node_of<S: EpochSource>(
    src: &S,
    ll: &LinkedLayout,
    identity: &[u8; 32],
    path: &[u8],
) -> Result<EpochNode> {
    let (_, parent_path) = path
        .split_last()
        .ok_or_else(|| ProofError::Epoch("the root has no link".into()))?;
    let (_, parent, _) = commit_node_of(src, ll, parent_path)?;
    make_node_under(src, ll, identity, &parent, path, None)
}

/// [`make_node_of`] under a parent whose commitment is known (no commitment made for it: its
/// codeword is made once, for its opening). `child`: the node's own commitment when the caller
/// has just made it (`commit_node_of` on the same source and path: the same seed, so the same
/// root), which is then not made again.
fn make_node_under<S: EpochSource>(
    src: &S,
    ll: &LinkedLayout,
    identity: &[u8; 32],
    pc: &Commitment,
    path: &[u8],
    child: Option<&Commitment>,
) -> Result<EpochNode> {
    let parent_path = &path[..path.len().saturating_sub(1)];
    // Each codeword is dropped once its root is known and made again for its opening: the
    // link holds one at a time (an 18.9M-parameter model's is gigabytes).
    let pt = src.node_table(parent_path)?;
    let (ct, cc) = match child {
        Some(c) => (src.node_table(path)?, c.clone()),
        None => {
            let (ct, cc, _) = commit_node_of(src, ll, path)?;
            (ct, cc)
        }
    };
    let pc = pc.clone();
    let reopen =
        |table: &S::Table, at: &[u8]| Ok(ll.pcs.commit(table.table(), src.commit_seed(at)).1);
    let (parent_data, child_data) = (|| reopen(&pt, parent_path), || reopen(&ct, path));
    let link = link::prove_linked(
        ll,
        identity,
        path,
        link::Side {
            tables: &pt,
            commitment: &pc,
            data: &parent_data,
        },
        link::Side {
            tables: &ct,
            commitment: &cc,
            data: &child_data,
        },
        src.link_seed(path),
    )?;
    Ok(EpochNode {
        path: path.to_vec(),
        commitment: cc,
        link,
    })
}

/// Checks that `cert` links `leaf`'s commitment to the model commitment `mc` (whose range
/// certificate the caller checks), each link once per `mc`.
pub fn verify_chain(
    spec: &CircuitSpec,
    mc: &ModelCommitment,
    leaf: &EpochRef,
    cert: &EpochCertificate,
) -> Result<()> {
    check_leaf(fanout(spec), &leaf.path)?;
    // The link cache answers by commitments and path, not circuit: a link checked under `mc`'s
    // own circuit must not pass for another spec's layout.
    if mc.circuit != spec.digest() {
        return Err(ProofError::Circuit(
            "the model commitment belongs to another circuit".into(),
        ));
    }
    let ll = LinkedLayout::weights(spec)?;
    verify_chain_with(
        &ll,
        &mc.digest(),
        &mc.pcs,
        fanout(spec),
        leaf,
        cert,
        |parent, node, check| mc.check_link(parent, node, check),
    )
}

/// Checks that `cert` links `leaf`'s commitment to the published commitment `root` of the
/// linked table kind `ll` whose identity is `identity`, in a tree of `fanout` children per
/// node; `check_link(parent, node, check)` runs `check` (or answers from a cache of links
/// checked before under the same identity).
pub fn verify_chain_with(
    ll: &LinkedLayout,
    identity: &[u8; 32],
    root: &Commitment,
    fanout: usize,
    leaf: &EpochRef,
    cert: &EpochCertificate,
    check_link: impl Fn(&Commitment, &EpochNode, &dyn Fn() -> Result<()>) -> Result<()>,
) -> Result<()> {
    check_leaf(fanout, &leaf.path)?;
    if cert.nodes.len() != leaf.path.len() {
        return Err(ProofError::Epoch(format!(
            "the epoch certificate has {} nodes; the proof's epoch {:?} needs {}",
            cert.nodes.len(),
            leaf.path,
            leaf.path.len()
        )));
    }
    let mut parent = root;
    for (depth, node) in cert.nodes.iter().enumerate() {
        if node.path != leaf.path[..=depth] {
            return Err(ProofError::Epoch(format!(
                "the epoch certificate's node {depth} is {:?}, not on the path to the proof's epoch {:?}",
                node.path, leaf.path
            )));
        }
        check_link(parent, node, &|| {
            link::verify_linked(
                ll,
                identity,
                &node.path,
                parent,
                &node.commitment,
                &node.link,
            )
        })?;
        parent = &node.commitment;
    }
    if *parent != leaf.commitment {
        return Err(ProofError::Epoch(format!(
            "the epoch certificate for {:?} ends at another commitment than the proof opens",
            leaf.path
        )));
    }
    Ok(())
}

/// The owner's side of the tree: the nodes made so far (made on first need, kept).
#[derive(Debug, Default)]
pub struct Epochs {
    nodes: std::sync::Mutex<std::collections::BTreeMap<Vec<u8>, EpochNode>>,
}

impl Epochs {
    /// The certificate of the leaf at `leaf` under the published commitment `mc`, making every
    /// missing node on its path.
    pub fn certificate(
        &self,
        spec: &CircuitSpec,
        w: &Weights,
        seed: [u8; 32],
        mc: &ModelCommitment,
        leaf: &[u8],
    ) -> Result<EpochCertificate> {
        let src = WeightSource { spec, w, seed };
        self.certificate_of(&src, &src.linked()?, &mc.digest(), &mc.pcs, leaf)
    }

    /// [`Self::certificate`] for any [`EpochSource`] whose published commitment is `root` and
    /// identity `identity`.
    pub fn certificate_of<S: EpochSource>(
        &self,
        src: &S,
        ll: &LinkedLayout,
        identity: &[u8; 32],
        root: &Commitment,
        leaf: &[u8],
    ) -> Result<EpochCertificate> {
        self.certificate_of_leaf(src, ll, identity, root, leaf, None)
    }

    /// [`Self::certificate_of`] when the caller has already committed the leaf itself
    /// (`commit_node_of` on `src` at `leaf`): its commitment is not made again for the leaf's
    /// link.
    pub fn certificate_of_leaf<S: EpochSource>(
        &self,
        src: &S,
        ll: &LinkedLayout,
        identity: &[u8; 32],
        root: &Commitment,
        leaf: &[u8],
        leaf_commitment: Option<&Commitment>,
    ) -> Result<EpochCertificate> {
        let mut nodes: Vec<EpochNode> = Vec::with_capacity(leaf.len());
        for depth in 1..=leaf.len() {
            let path = &leaf[..depth];
            let known = self.lock().get(path).cloned();
            let node = match known {
                Some(n) => n,
                None => {
                    let parent = nodes.last().map_or(root, |n| &n.commitment);
                    let child = leaf_commitment.filter(|_| depth == leaf.len());
                    let n = make_node_under(src, ll, identity, parent, path, child)?;
                    self.lock().insert(path.to_vec(), n.clone());
                    n
                }
            };
            nodes.push(node);
        }
        Ok(EpochCertificate { nodes })
    }

    /// Keeps the nodes of a certificate made before (the owner's own, e.g. from an earlier
    /// process), so the leaves under them are made without making those nodes again.
    pub fn remember(&self, cert: &EpochCertificate) {
        let mut nodes = self.lock();
        for n in &cert.nodes {
            nodes.entry(n.path.clone()).or_insert_with(|| n.clone());
        }
    }

    /// Takes the nodes of a certificate made earlier (the owner's stored copy, so that a new
    /// process does not make them again: two commitments and a link each), once it checks
    /// against the published commitment `mc` like any verifier's copy.
    pub fn adopt(
        &self,
        spec: &CircuitSpec,
        mc: &ModelCommitment,
        cert: &EpochCertificate,
    ) -> Result<()> {
        let leaf = cert
            .leaf()
            .ok_or_else(|| ProofError::Epoch("the epoch certificate has no nodes".into()))?;
        let leaf = EpochRef {
            path: leaf.path.clone(),
            commitment: leaf.commitment.clone(),
        };
        verify_chain(spec, mc, &leaf, cert)?;
        self.remember(cert);
        Ok(())
    }

    /// How many nodes are made or adopted so far.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no node is made or adopted yet.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::BTreeMap<Vec<u8>, EpochNode>> {
        self.nodes.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaves_fill_subtrees_of_growing_depth() {
        assert_eq!(leaf_path(15, 0).unwrap(), vec![0]);
        assert_eq!(leaf_path(15, 1).unwrap(), vec![1, 0]);
        assert_eq!(leaf_path(15, 15).unwrap(), vec![1, 14]);
        assert_eq!(leaf_path(15, 16).unwrap(), vec![2, 0, 0]);
        assert_eq!(leaf_path(15, 16 + 15).unwrap(), vec![2, 1, 0]);
        // 10^6 proofs at 15 per leaf: epoch 66,666 sits six links below the root.
        let p = leaf_path(15, 1_000_000 / 15).unwrap();
        assert_eq!(p.len(), 6, "{p:?}");
        // Every path is distinct and a leaf.
        let mut seen = std::collections::HashSet::new();
        for e in 0..5000 {
            let p = leaf_path(15, e).unwrap();
            check_leaf(15, &p).unwrap();
            assert!(seen.insert(p));
        }
        // No leaf is an ancestor of another.
        for p in &seen {
            for q in &seen {
                assert!(p == q || !q.starts_with(p), "{p:?} is above {q:?}");
            }
        }
        // The tree ends; a small fanout ends soon, with a sentence.
        assert_eq!(leaf_path(2, 2).unwrap(), vec![1, 1]);
        let e = leaf_path(2, 3).unwrap_err().to_string();
        assert!(e.contains("past the last epoch"), "{e}");
        assert!(leaf_path(1, 0).is_err());
    }

    #[test]
    fn verifier_refuses_paths_that_are_not_leaves() {
        for bad in [vec![], vec![1], vec![0, 0], vec![15], vec![2, 0, 15]] {
            assert!(check_leaf(15, &bad).is_err(), "{bad:?}");
        }
        assert!(check_leaf(15, &[2, 14, 3]).is_ok());
    }
}
