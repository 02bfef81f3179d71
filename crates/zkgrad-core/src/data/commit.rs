//! The dataset commitment: features (row-major integers) and labels as masked columns of one
//! hiding table, committed once and opened by every property proof (and, later, attestations).
//!
//! Column f holds feature f over the rows (row index low, padded with zeros to 2^k rows,
//! k ≥ [`MIN_ROW_VARS`]); the label column follows. The masks are lifted ([`DATASET_LIFT`]) as the
//! weight table's (`commit::M_LIFT`), so every column hides at least 2^DATASET_LIFT base-field
//! functionals across openings however few rows it has; the PCS randomness is sized for the
//! openings those masks hide, at most [`DATASET_OPENINGS_CAP`] ([`DatasetCommitment::budget`]).
//! Two unmasked link-mask columns U and D (`zk/link.rs`) follow, so the table is a node of an
//! epoch tree (`data/epochs.rs`): proofs open leaves linked to the published commitment, and
//! the published digest serves far more proofs than one commitment hides.

use p3_field::PrimeCharacteristicRing;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use crate::error::{ProofError, Result};
use crate::field::F;
use crate::mle::log2_ceil;
use crate::pcs::{Commitment, Pcs, ProverData};
use crate::zk::budget::{F_PER_VALUE, openings_budget};
use crate::zk::link::{LINK_VARS, LinkTable};
use crate::zk::masked::{ColumnMask, LiftPoint, MaskedLayout};

/// Every column has at least 2^3 rows (so its mask has room however few rows there are).
pub const MIN_ROW_VARS: usize = 3;
/// Variables of a lifted column mask: 2^8 dimensions, 128 openings of one value each.
pub const DATASET_LIFT: usize = 8;
/// Openings a dataset commitment's randomness is sized for, at most (the target: 100
/// property proofs and attestations per commitment).
pub const DATASET_OPENINGS_CAP: usize = 128;
/// The most rows and features a commitment takes (2^24 rows, 2^12 features).
const MAX_ROW_VARS: usize = 24;
const MAX_FEATURES: u32 = 1 << 12;

/// The public part of a dataset commitment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetCommitment {
    /// Rows (samples).
    pub rows: u64,
    /// Feature columns.
    pub features: u32,
    /// Whether a label column follows the features.
    pub labels: bool,
    /// The owner's metadata digest (scales, column names: hashed by the caller).
    pub meta: [u8; 32],
    /// The hiding PCS commitment to the table.
    pub pcs: Commitment,
}

impl DatasetCommitment {
    /// The dataset's public identity.
    pub fn digest(&self) -> [u8; 32] {
        let mut h = blake3::Hasher::new();
        // v2: the table carries the epoch link masks (v1 tables had none).
        h.update(b"zkgrad-dataset-commitment-v2");
        h.update(&self.rows.to_le_bytes());
        h.update(&self.features.to_le_bytes());
        h.update(&[self.labels as u8]);
        h.update(&self.meta);
        h.update(&self.pcs.digest());
        *h.finalize().as_bytes()
    }

    /// The public commitment as bytes (the Python side keeps them in `data.pub`).
    pub fn to_bytes(&self) -> Vec<u8> {
        bincode::serde::encode_to_vec(self, bincode::config::standard())
            .expect("commitments encode")
    }

    /// Decodes [`Self::to_bytes`]; a malformed or foreign input is a typed error.
    pub fn from_bytes(b: &[u8]) -> Result<Self> {
        let cfg = bincode::config::standard().with_limit::<4096>();
        match bincode::serde::decode_from_slice::<Self, _>(b, cfg) {
            Ok((c, used)) if used == b.len() => {
                c.check_shape()?;
                Ok(c)
            }
            _ => Err(ProofError::Malformed(
                "the dataset commitment does not decode".into(),
            )),
        }
    }

    /// Checks the shape is one a commitment can have (a verifier's first check on bytes).
    pub fn check_shape(&self) -> Result<()> {
        shape_ok(self.rows as usize, self.features, self.labels)
    }

    /// Variables of a column (the padded row count).
    pub fn row_vars(&self) -> usize {
        row_vars(self.rows as usize)
    }

    /// Columns: the features, then the labels.
    pub fn columns(&self) -> usize {
        self.features as usize + self.labels as usize
    }

    /// The table's layout, from the public shape.
    pub fn layout(&self) -> MaskedLayout {
        table_layout(self.row_vars(), self.columns())
    }

    /// The table's PCS (its randomness sized for [`column_openings`] openings).
    pub fn pcs(&self) -> Result<Pcs> {
        table_pcs(&self.layout())
    }

    /// Openings one commitment of this table (the published one, or any epoch node) hides:
    /// the openings both its codeword randomness and its column masks hide. A leaf of the epoch
    /// tree spends one on its link and serves the others to proofs
    /// ([`super::epochs::proofs_per_epoch`]).
    pub fn budget(&self) -> Result<usize> {
        let layout = self.layout();
        Ok(budget_of(&layout, &table_pcs(&layout)?))
    }

    /// The two link-mask columns (`zk/link.rs`): shared with the parent, with the children.
    pub fn link_columns(&self) -> (usize, usize) {
        let n = self.layout().masked.len();
        (n - 2, n - 1)
    }
}

/// Openings a commitment of `layout` with `pcs` hides ([`DatasetCommitment::budget`]).
pub(crate) fn budget_of(layout: &MaskedLayout, pcs: &Pcs) -> usize {
    openings_budget(pcs).min(column_openings(layout))
}

/// Openings whose revealed values the column masks hide: each opening reveals one value per
/// column (two base-field functionals) and one batching value over the table (as
/// `zk::budget::column_openings`, with the dataset's cap).
pub fn column_openings(layout: &MaskedLayout) -> usize {
    let dims: Vec<usize> = (0..layout.masked.len())
        .filter(|&c| layout.masked[c])
        .map(|c| layout.mask_dim(c))
        .collect();
    let smallest = dims.iter().copied().min().unwrap_or(0);
    let total: usize = dims.iter().sum();
    (smallest / F_PER_VALUE)
        .min(total / (F_PER_VALUE * (dims.len() + 1)))
        .clamp(1, DATASET_OPENINGS_CAP)
}

fn row_vars(rows: usize) -> usize {
    log2_ceil(rows).max(MIN_ROW_VARS)
}

/// The table's layout: the columns with lifted masks and, for a small table whose codeword
/// could not carry randomness for the openings its masks hide, an unmasked filler column that
/// grows it (never read by any claim: what it holds proves nothing).
/// The two link-mask columns come last, after the filler (none is masked or claimed). Kept per
/// shape: choosing the filler configures the PCS several times, and a verifier of a stream of
/// proofs (and of their epoch links) asks for the layout of one shape again and again.
fn table_layout(k: usize, columns: usize) -> MaskedLayout {
    type Known = std::collections::HashMap<(usize, usize), MaskedLayout>;
    static KNOWN: std::sync::LazyLock<std::sync::Mutex<Known>> =
        std::sync::LazyLock::new(Default::default);
    let known = || KNOWN.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(layout) = known().get(&(k, columns)) {
        return layout.clone();
    }
    let layout = choose_table_layout(k, columns);
    let mut map = known();
    if map.len() >= 256 {
        map.clear();
    }
    map.insert((k, columns), layout.clone());
    layout
}

fn choose_table_layout(k: usize, columns: usize) -> MaskedLayout {
    let make = |filler: Option<usize>| {
        let mut logs = vec![k; columns];
        let mut masked = vec![true; columns];
        logs.extend(filler);
        masked.extend(filler.map(|_| false));
        logs.extend([LINK_VARS; 2]);
        masked.extend([false; 2]);
        MaskedLayout::lifted(&logs, &masked, DATASET_LIFT)
    };
    let base = make(None);
    let reached = |layout: &MaskedLayout| {
        let want = column_openings(layout);
        table_pcs(layout).is_ok_and(|p| openings_budget(&p) >= want)
    };
    if reached(&base) {
        return base;
    }
    for filler in base.num_vars()..base.num_vars() + 6 {
        let layout = make(Some(filler));
        if reached(&layout) {
            return layout;
        }
    }
    base
}

pub(crate) fn table_pcs(layout: &MaskedLayout) -> Result<Pcs> {
    crate::commit::reused_pcs(layout.num_vars(), column_openings(layout))
}

fn shape_ok(rows: usize, features: u32, labels: bool) -> Result<()> {
    if rows == 0 || log2_ceil(rows) > MAX_ROW_VARS {
        return Err(ProofError::Circuit(format!(
            "a dataset of {rows} rows: between 1 and 2^{MAX_ROW_VARS} are supported"
        )));
    }
    if (features == 0 && !labels) || features > MAX_FEATURES {
        return Err(ProofError::Circuit(format!(
            "a dataset of {features} features: between 1 and {MAX_FEATURES} are supported"
        )));
    }
    Ok(())
}

/// The owner's side: the columns, their masks, and the seed that derives the commitment.
pub struct Dataset {
    /// The public commitment.
    pub commitment: DatasetCommitment,
    /// The columns (features, then labels), each padded to 2^k rows.
    pub cols: Vec<Vec<F>>,
    /// Their masks in the published commitment (from the seed).
    pub masks: Vec<ColumnMask>,
    /// The table's layout.
    pub layout: MaskedLayout,
    seed: [u8; 32],
}

/// One commitment of the dataset's epoch tree (`data/epochs.rs`; the published one at the
/// empty path): the same columns, the node's own masks and link masks. What a proof opens.
pub struct DatasetNode<'a> {
    pub ds: &'a Dataset,
    /// Child indices from the root.
    pub path: Vec<u8>,
    /// The node's column masks.
    pub masks: Vec<ColumnMask>,
    /// Its link masks: shared with the parent, with the children.
    pub link: [Vec<F>; 2],
}

impl DatasetNode<'_> {
    /// The committed table.
    pub fn table(&self) -> Vec<F> {
        let ds = self.ds;
        let mut cols: Vec<&[F]> = ds.cols.iter().map(Vec::as_slice).collect();
        // A filler column (never read) sits between the data and the link masks: zeros.
        let filler = ds.layout.masked.len() - 2 - cols.len();
        let zeros: Vec<Vec<F>> = (0..filler)
            .map(|i| vec![F::ZERO; 1 << ds.layout.col_vars(cols.len() + i)])
            .collect();
        cols.extend(zeros.iter().map(Vec::as_slice));
        cols.extend(self.link.iter().map(Vec::as_slice));
        ds.layout.table(&cols, &self.masks)
    }

    /// Each column's mask R on its hypercube at one opening's lift point.
    pub fn expanded_masks(&self, lift: &LiftPoint) -> Vec<Vec<F>> {
        self.ds.layout.expand_all(&self.masks, lift)
    }

    /// The seed of this node's hiding commitment (the root's is the published one's).
    pub(crate) fn commit_seed(&self) -> [u8; 32] {
        if self.path.is_empty() {
            pcs_seed(&self.ds.seed)
        } else {
            crate::commit::node_key(&self.ds.seed, "zkgrad dataset node commitment", &self.path)
        }
    }

    /// Prover data for one opening (the table is encoded again: hiding data cannot be kept).
    pub fn prover_data(&self) -> Result<ProverData> {
        Ok(table_pcs(&self.ds.layout)?
            .commit(self.table(), self.commit_seed())
            .1)
    }
}

impl LinkTable for DatasetNode<'_> {
    fn table(&self) -> Vec<F> {
        DatasetNode::table(self)
    }
}

impl Dataset {
    /// The node at `path` of the dataset's epoch tree (the published commitment at the empty
    /// path): fresh masks per node, deterministic given the seed.
    pub fn node(&self, path: &[u8]) -> DatasetNode<'_> {
        let masks = if path.is_empty() {
            self.masks.clone()
        } else {
            let key = crate::commit::node_key(&self.seed, "zkgrad dataset masks", path);
            self.layout.draw(&mut rand::rngs::StdRng::from_seed(key))
        };
        let up = match path.split_last() {
            None => link_mask(&self.seed, "zkgrad dataset link root-up", path),
            Some((_, parent)) => link_mask(&self.seed, "zkgrad dataset link down", parent),
        };
        DatasetNode {
            ds: self,
            path: path.to_vec(),
            masks,
            link: [up, link_mask(&self.seed, "zkgrad dataset link down", path)],
        }
    }

    /// The published table.
    pub fn table(&self) -> Vec<F> {
        self.node(&[]).table()
    }

    /// Commits again to `cols` as they are now (tests of a dishonest owner who edits the
    /// table, e.g. its padding rows, before committing).
    #[doc(hidden)]
    pub fn recommit(mut self) -> Result<Self> {
        let pcs = table_pcs(&self.layout)?;
        self.commitment.pcs = pcs.commit(self.table(), pcs_seed(&self.seed)).0;
        Ok(self)
    }

    /// The rows' label values (None without labels).
    pub fn labels(&self) -> Option<&[F]> {
        self.commitment
            .labels
            .then(|| self.cols[self.commitment.features as usize].as_slice())
    }

    /// The key of the link that makes the node at `path` (`zk/link.rs`).
    pub(crate) fn link_seed(&self, path: &[u8]) -> [u8; 32] {
        crate::commit::node_key(&self.seed, "zkgrad dataset link", path)
    }
}

/// A node's link mask shared with its children (`purpose` "... down"), or the root's unshared
/// one on its parent side.
fn link_mask(seed: &[u8; 32], purpose: &str, path: &[u8]) -> Vec<F> {
    let mut rng = rand::rngs::StdRng::from_seed(crate::commit::node_key(seed, purpose, path));
    (0..1usize << LINK_VARS)
        .map(|_| crate::zk::random_base(&mut rng))
        .collect()
}

/// Commits to `features` (row-major, `rows`×`n_features`) and optional `labels` (one per row);
/// deterministic given `seed` (keep it secret: it derives the masks). `meta` is the caller's
/// digest of the public metadata.
pub fn commit(
    features: &[i64],
    rows: usize,
    n_features: usize,
    labels: Option<&[i64]>,
    meta: [u8; 32],
    seed: [u8; 32],
) -> Result<Dataset> {
    let n_features =
        u32::try_from(n_features).map_err(|_| ProofError::Circuit("too many features".into()))?;
    shape_ok(rows, n_features, labels.is_some())?;
    if features.len() != rows * n_features as usize {
        return Err(ProofError::Shape {
            what: "dataset features (rows × features)",
            expected: rows * n_features as usize,
            got: features.len(),
        });
    }
    if let Some(y) = labels.filter(|y| y.len() != rows) {
        return Err(ProofError::Shape {
            what: "dataset labels (one per row)",
            expected: rows,
            got: y.len(),
        });
    }
    let k = row_vars(rows);
    let nf = n_features as usize;
    let mut cols: Vec<Vec<F>> = (0..nf)
        .map(|f| {
            let mut c = vec![F::ZERO; 1 << k];
            for (r, v) in c.iter_mut().zip(features.iter().skip(f).step_by(nf)) {
                *r = crate::field::from_i64(*v);
            }
            c
        })
        .collect();
    if let Some(y) = labels {
        cols.push(crate::layout::padded_column(y, k, 0));
    }
    commit_columns(cols, rows, labels.is_some(), meta, seed)
}

/// [`commit`] of columns already in the field, each of 2^k entries for k = the row variables
/// of `rows` (the last is the labels when `labels`): the committed input's one column
/// (`zk::input`) is such a table.
pub(crate) fn commit_columns(
    cols: Vec<Vec<F>>,
    rows: usize,
    labels: bool,
    meta: [u8; 32],
    seed: [u8; 32],
) -> Result<Dataset> {
    let n_features = u32::try_from(cols.len() - usize::from(labels))
        .map_err(|_| ProofError::Circuit("too many features".into()))?;
    shape_ok(rows, n_features, labels)?;
    let k = row_vars(rows);
    if let Some(c) = cols.iter().find(|c| c.len() != 1 << k) {
        return Err(ProofError::Shape {
            what: "dataset column entries",
            expected: 1 << k,
            got: c.len(),
        });
    }
    let layout = table_layout(k, cols.len());
    let mask_seed = *blake3::keyed_hash(&seed, b"zkgrad dataset masks").as_bytes();
    let masks = layout.draw(&mut rand::rngs::StdRng::from_seed(mask_seed));
    let mut ds = Dataset {
        commitment: DatasetCommitment {
            rows: rows as u64,
            features: n_features,
            labels,
            meta,
            // Set below, from the table (which needs the dataset's seed and layout).
            pcs: Commitment {
                num_vars: 0,
                hiding: true,
                root: [0; 32],
                params: [0; 32],
            },
        },
        cols,
        masks,
        layout,
        seed,
    };
    ds.commitment.pcs = table_pcs(&ds.layout)?.commit(ds.table(), pcs_seed(&seed)).0;
    Ok(ds)
}

fn pcs_seed(seed: &[u8; 32]) -> [u8; 32] {
    *blake3::keyed_hash(seed, b"zkgrad dataset pcs").as_bytes()
}
