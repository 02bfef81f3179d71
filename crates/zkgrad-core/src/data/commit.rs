//! The dataset commitment: features (row-major integers) and labels as masked columns of one
//! hiding table, committed once and opened by every property proof (and, later, attestations).
//!
//! Column f holds feature f over the rows (row index low, padded with zeros to 2^k rows,
//! k ≥ [`MIN_ROW_VARS`]); the label column follows. The masks are lifted ([`DATASET_LIFT`]) as the
//! weight table's (`commit::M_LIFT`), so every column hides at least 2^DATASET_LIFT base-field
//! functionals across openings however few rows it has; the PCS randomness is sized for the
//! openings those masks hide, at most [`DATASET_OPENINGS_CAP`] ([`DatasetCommitment::budget`]).

use p3_field::PrimeCharacteristicRing;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use crate::error::{ProofError, Result};
use crate::field::F;
use crate::mle::log2_ceil;
use crate::pcs::{Commitment, Pcs, ProverData};
use crate::zk::budget::{F_PER_VALUE, openings_budget};
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
        h.update(b"zkgrad-dataset-commitment-v1");
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

    /// Proofs this commitment serves with the data hidden: the openings both its codeword
    /// randomness and its column masks hide (each proof opens the table once).
    pub fn budget(&self) -> Result<usize> {
        let layout = self.layout();
        Ok(openings_budget(&self.pcs()?).min(column_openings(&layout)))
    }
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
fn table_layout(k: usize, columns: usize) -> MaskedLayout {
    let base = MaskedLayout::lifted(&vec![k; columns], &vec![true; columns], DATASET_LIFT);
    let reached = |layout: &MaskedLayout| {
        let want = column_openings(layout);
        table_pcs(layout).is_ok_and(|p| openings_budget(&p) >= want)
    };
    if reached(&base) {
        return base;
    }
    for filler in base.num_vars()..base.num_vars() + 6 {
        let mut logs = vec![k; columns];
        logs.push(filler);
        let mut masked = vec![true; columns];
        masked.push(false);
        let layout = MaskedLayout::lifted(&logs, &masked, DATASET_LIFT);
        if reached(&layout) {
            return layout;
        }
    }
    base
}

fn table_pcs(layout: &MaskedLayout) -> Result<Pcs> {
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
    /// Their masks (from the seed).
    pub masks: Vec<ColumnMask>,
    /// The table's layout.
    pub layout: MaskedLayout,
    seed: [u8; 32],
}

impl Dataset {
    /// The committed table.
    pub fn table(&self) -> Vec<F> {
        self.layout.table(&self.cols, &self.masks)
    }

    /// Each column's mask R on its hypercube at one opening's lift point.
    pub fn expanded_masks(&self, lift: &LiftPoint) -> Vec<Vec<F>> {
        self.layout.expand_all(&self.masks, lift)
    }

    /// Prover data for one opening (the table is encoded again: hiding data cannot be kept).
    pub fn prover_data(&self) -> Result<ProverData> {
        Ok(table_pcs(&self.layout)?
            .commit(self.table(), pcs_seed(&self.seed))
            .1)
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
    let layout = table_layout(k, cols.len());
    let mask_seed = *blake3::keyed_hash(&seed, b"zkgrad dataset masks").as_bytes();
    let masks = layout.draw(&mut rand::rngs::StdRng::from_seed(mask_seed));
    let pcs = table_pcs(&layout)?.commit(layout.table(&cols, &masks), pcs_seed(&seed));
    Ok(Dataset {
        commitment: DatasetCommitment {
            rows: rows as u64,
            features: n_features,
            labels: labels.is_some(),
            meta,
            pcs: pcs.0,
        },
        cols,
        masks,
        layout,
        seed,
    })
}

fn pcs_seed(seed: &[u8; 32]) -> [u8; 32] {
    *blake3::keyed_hash(seed, b"zkgrad dataset pcs").as_bytes()
}
