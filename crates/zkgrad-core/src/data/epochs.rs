//! Epochs of a committed dataset: one published digest for ≥ 10^4 property proofs (and
//! attestations), the rows hidden in every one — the weight epochs' tree (`crate::epoch`) and
//! link certificate (`zk/link.rs`) over the dataset table.
//!
//! The published commitment (the root) hides K = [`DatasetCommitment::budget`] openings (128
//! for the tables zkgrad is used with). Proofs never open it: proof n opens the leaf of epoch
//! n / (K − 1), a fresh commitment to the same columns with fresh masks, linked to the root by a
//! chain of zero-knowledge link certificates. Each node is opened at most K times:
//! - the root by its children's links (F = min(K − 1, [`MAX_FANOUT`]) children);
//! - an inner node by its own link and its children's;
//! - a leaf by its own link and K − 1 proofs ([`proofs_per_epoch`]).
//!
//! Unlike the weight tree, a leaf serves more proofs (K − 1 = 127) than a node has children (the
//! link mask D of 2^7 entries bounds those to 21): at K = 128 the first 127 proofs open a leaf
//! one link below the root, the next 21·127 two links below, and so on: proof 10^4 opens a leaf
//! three links below the root, proof 10^6 four (`epoch_tests.rs`).

use crate::epoch::{self, EpochCertificate, EpochRef, EpochSource, Epochs, MAX_FANOUT};
use crate::error::{ProofError, Result};
use crate::pcs::ProverData;
use crate::zk::link::LinkedLayout;

use super::commit::{Dataset, DatasetCommitment, DatasetNode};

/// Proofs one epoch's leaf serves: the openings a commitment hides, less its link.
pub fn proofs_per_epoch(c: &DatasetCommitment) -> Result<usize> {
    Ok(c.budget()?.saturating_sub(1))
}

/// Children per node of the dataset's epoch tree.
pub fn fanout(c: &DatasetCommitment) -> Result<usize> {
    fanout_of(c.budget()?)
}

/// The fanout of a tree whose commitments hide `budget` openings each.
fn fanout_of(budget: usize) -> Result<usize> {
    let f = budget.saturating_sub(1).min(MAX_FANOUT);
    if f < 2 {
        return Err(ProofError::Epoch(format!(
            "this dataset's commitment hides {budget} opening(s): too few to link epochs"
        )));
    }
    Ok(f)
}

/// The leaf path proof number `number` (0 for the first) of the dataset opens.
pub fn leaf_for_proof(c: &DatasetCommitment, number: u64) -> Result<Vec<u8>> {
    let per = proofs_per_epoch(c)? as u64;
    epoch::leaf_path(fanout(c)?, number / per.max(1))
}

/// Proofs the whole tree serves (saturating): K − 1 per leaf, F^i leaves in subtree i < F.
pub fn capacity(c: &DatasetCommitment) -> Result<u64> {
    let f = fanout(c)? as u64;
    let leaves = (0..f as u32).fold(0u64, |s, i| s.saturating_add(f.saturating_pow(i)));
    Ok(leaves.saturating_mul(proofs_per_epoch(c)? as u64))
}

/// The dataset table as a linked table kind (`zk/link.rs`): its layout, PCS, and the shape and
/// identity the link's transcript binds.
pub fn linked(c: &DatasetCommitment) -> Result<LinkedLayout> {
    let (up, down) = c.link_columns();
    let mut shape = blake3::Hasher::new();
    shape.update(b"zkgrad-dataset-shape");
    shape.update(&c.rows.to_le_bytes());
    shape.update(&c.features.to_le_bytes());
    shape.update(&[c.labels as u8]);
    shape.update(&c.meta);
    Ok(LinkedLayout {
        layout: c.layout(),
        up,
        down,
        pcs: c.pcs()?,
        shape: ("dataset-shape", *shape.finalize().as_bytes()),
        identity_label: "dataset-identity",
        what: "dataset",
    })
}

/// Checks that `cert` links the leaf `leaf` (what a proof opens) to the published dataset
/// commitment `c`; every failure names the epoch or the link. What a verifier runs before it
/// opens `leaf.commitment` with `c.pcs()` (property proofs, attestations).
pub fn verify_leaf(c: &DatasetCommitment, leaf: &EpochRef, cert: &EpochCertificate) -> Result<()> {
    c.check_shape()?;
    let ll = linked(c)?;
    let identity = c.digest();
    epoch::verify_chain_with(
        &ll,
        &identity,
        &c.pcs,
        fanout_of(super::commit::budget_of(&ll.layout, &ll.pcs))?,
        leaf,
        cert,
        |parent, node, check| {
            // Each certificate node is checked once per process. The key covers the dataset
            // digest, which fixes the layout, the PCS and the root (all derived from it), the
            // two commitments, the path and the link's own bytes (so an edited copy of a link
            // checked before is checked again, not waved through).
            let mut h = blake3::Hasher::new();
            h.update(&identity);
            h.update(&parent.digest());
            h.update(&node.commitment.digest());
            h.update(&node.path);
            h.update(
                &bincode::serde::encode_to_vec(&node.link, bincode::config::standard())
                    .map_err(|e| ProofError::Epoch(format!("a link does not encode ({e})")))?,
            );
            let key = *h.finalize().as_bytes();
            let seen = || CHECKED_LINKS.lock().unwrap_or_else(|e| e.into_inner());
            if seen().contains(&key) {
                return Ok(());
            }
            check()?;
            let mut set = seen();
            if set.len() >= MAX_CACHED_LINKS {
                set.clear();
            }
            set.insert(key);
            Ok(())
        },
    )
}

/// Links of dataset epoch trees checked in this process (a stream of proofs checks each link
/// once, as a model's verifying key does).
static CHECKED_LINKS: std::sync::LazyLock<std::sync::Mutex<std::collections::HashSet<[u8; 32]>>> =
    std::sync::LazyLock::new(Default::default);
/// The cache forgets everything past this many links (32 bytes each).
const MAX_CACHED_LINKS: usize = 1 << 16;

/// The owner's dataset as an [`EpochSource`].
struct Source<'a>(&'a Dataset);

impl<'a> EpochSource for Source<'a> {
    type Table = DatasetNode<'a>;
    fn linked(&self) -> Result<LinkedLayout> {
        linked(&self.0.commitment)
    }
    fn node_table(&self, path: &[u8]) -> Result<DatasetNode<'a>> {
        Ok(self.0.node(path))
    }
    fn commit_seed(&self, path: &[u8]) -> [u8; 32] {
        self.0.node(path).commit_seed()
    }
    fn link_seed(&self, path: &[u8]) -> [u8; 32] {
        self.0.link_seed(path)
    }
}

/// An epoch leaf of the dataset, ready to be opened by a proof: the node (its table, masks,
/// prover data) and the public reference a proof carries.
pub struct DatasetLeaf<'a> {
    pub node: DatasetNode<'a>,
    pub epoch: EpochRef,
    /// The encoding made for the commitment, kept for the first opening (hiding data is
    /// consumed by its opening; later ones encode again).
    data: std::sync::Mutex<Option<ProverData>>,
}

impl DatasetLeaf<'_> {
    /// Prover data for one opening of the leaf, checked against its commitment.
    pub fn prover_data(&self) -> Result<ProverData> {
        let kept = self.data.lock().unwrap_or_else(|e| e.into_inner()).take();
        let data = match kept {
            Some(d) => d,
            None => self.node.prover_data()?,
        };
        if data.commitment() != &self.epoch.commitment {
            return Err(ProofError::Epoch(
                "the dataset's epoch leaf no longer gives its commitment".into(),
            ));
        }
        Ok(data)
    }
}

impl Dataset {
    /// The leaf at `path` (one encoding of its table, for its commitment). Refuses a path that
    /// is not a leaf of the dataset's tree: proofs never open the published commitment.
    pub fn leaf(&self, path: &[u8]) -> Result<DatasetLeaf<'_>> {
        epoch::check_leaf(fanout(&self.commitment)?, path)?;
        let src = Source(self);
        let (node, commitment, data) = epoch::commit_node_of(&src, &src.linked()?, path)?;
        Ok(DatasetLeaf {
            epoch: EpochRef {
                path: path.to_vec(),
                commitment,
            },
            node,
            data: std::sync::Mutex::new(Some(data)),
        })
    }

    /// The certificate linking the leaf at `path` to the published commitment, made with the
    /// nodes `epochs` already holds (and kept there).
    pub fn certificate(&self, epochs: &Epochs, path: &[u8]) -> Result<EpochCertificate> {
        self.certificate_of_leaf(epochs, path, None)
    }

    /// [`Self::certificate`] with the leaf's commitment already made (by [`Self::leaf`]).
    fn certificate_of_leaf(
        &self,
        epochs: &Epochs,
        path: &[u8],
        leaf: Option<&crate::pcs::Commitment>,
    ) -> Result<EpochCertificate> {
        let c = &self.commitment;
        epoch::check_leaf(fanout(c)?, path)?;
        let src = Source(self);
        epochs.certificate_of_leaf(&src, &src.linked()?, &c.digest(), &c.pcs, path, leaf)
    }
}

impl Dataset {
    /// What proof `number` of the dataset's digest opens: its epoch leaf and the certificate
    /// linking that leaf to the published commitment — the one call a proof over the dataset
    /// (a property proof, an attestation) makes before it opens the table. `known` is a
    /// certificate the owner made earlier (its nodes are reused, not made again); a stale or
    /// foreign one is detected (the chain is checked) and the certificate made afresh.
    pub fn open_epoch(
        &self,
        number: u64,
        known: Option<&EpochCertificate>,
    ) -> Result<(DatasetLeaf<'_>, EpochCertificate)> {
        self.open_leaf(&leaf_for_proof(&self.commitment, number)?, known)
    }

    /// [`Self::open_epoch`] for the leaf at `path` (a committed input numbers its proofs by
    /// its own rule: `zk::input::leaf_for_proof`).
    pub fn open_leaf(
        &self,
        path: &[u8],
        known: Option<&EpochCertificate>,
    ) -> Result<(DatasetLeaf<'_>, EpochCertificate)> {
        let path = path.to_vec();
        let nodes = Epochs::default();
        if let Some(k) = known {
            nodes.remember(k);
        }
        // The leaf first: its commitment (one encoding of its table, kept for the proof's
        // opening) is the child of its link when the link is made here.
        let leaf = self.leaf(&path)?;
        let at = Some(&leaf.epoch.commitment);
        let mut cert = self.certificate_of_leaf(&nodes, &path, at)?;
        if known.is_some() && verify_leaf(&self.commitment, &leaf.epoch, &cert).is_err() {
            cert = self.certificate_of_leaf(&Epochs::default(), &path, at)?;
        }
        Ok((leaf, cert))
    }
}

#[cfg(test)]
#[path = "epoch_tests.rs"]
mod tests;
