//! The model commitment: all weights and biases packed into one multilinear polynomial and
//! committed with the PCS once, at compile time. Its digest — over the circuit digest and the
//! weight commitment — is the model's public identity: pinning it pins both the architecture
//! and the weights.
//!
//! Packing: block l contributes W_l (index out·2^k_in + in, so the input index is the low
//! variables; a dense block's input index follows its input's stored layout) and b_l, each
//! padded with zeros to a power of two. Pooling blocks contribute two empty 1-entry columns.
//! W_l is stored as aligned power-of-two pieces of its input slots when the inputs do not fill a
//! power of two ([`WeightColumns`]). The committed table holds every column with its mask
//! (`zk/masked.rs`), committed with hiding.

use serde::{Deserialize, Serialize};

use crate::circuit::{CircuitSpec, LayerKind, Weights};
use crate::error::Result;
use crate::field::F;
use crate::layout::{Layout, padded_column};
use crate::mle::log2_ceil;
use crate::pcs::{Commitment, Pcs, ProverData};
use crate::zk::link::LINK_VARS;
use crate::zk::masked::{ColumnMask, LiftPoint, MaskedLayout};

/// Public commitment to a model's weights.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ModelCommitment {
    /// The PCS commitment to the packed weight polynomial.
    pub pcs: Commitment,
    /// Variables of the packed weight polynomial.
    pub num_vars: usize,
    /// Digest of the public circuit the weights belong to.
    pub circuit: [u8; 32],
    /// Zero knowledge: each weight column's certified signed bit width (0: an empty column), what
    /// the verifier relies on to rule out wrap-around (`zk::range`); part of the digest.
    pub range_bits: Vec<u8>,
    /// Zero knowledge: the range certificate for `range_bits`, made when the weights were
    /// committed (not part of the digest: it is checked against it).
    pub range: Option<crate::zk::range::RangeCertificate>,
    /// The digest (circuit, weight commitment, bits) whose certificate has been checked, so a
    /// verifying key checks it once, not per proof; an edited copy has another digest.
    #[serde(skip)]
    checked: std::sync::OnceLock<[u8; 32]>,
    /// The epoch links (`crate::epoch`) already checked against this commitment.
    #[serde(skip)]
    links: LinkCache,
    /// The epoch leaves whose whole chain has been checked: their proofs need no certificate.
    #[serde(skip)]
    leaves: LinkCache,
}

/// Links checked so far, by (parent, child, path) digest: a verifier checks each link once.
#[derive(Debug, Default)]
struct LinkCache(std::sync::Mutex<std::collections::HashSet<[u8; 32]>>);

impl Clone for LinkCache {
    fn clone(&self) -> Self {
        Self(std::sync::Mutex::new(
            self.0.lock().unwrap_or_else(|e| e.into_inner()).clone(),
        ))
    }
}

/// Two commitments are equal when their identities (what the digest covers) are: the range
/// certificate is a proof about that identity, and two valid certificates are interchangeable.
impl PartialEq for ModelCommitment {
    fn eq(&self, other: &Self) -> bool {
        (&self.pcs, self.num_vars, self.circuit, &self.range_bits)
            == (&other.pcs, other.num_vars, other.circuit, &other.range_bits)
            && self.range.is_some() == other.range.is_some()
    }
}

impl ModelCommitment {
    fn new(
        pcs: Commitment,
        num_vars: usize,
        circuit: [u8; 32],
        range_bits: Vec<u8>,
        range: Option<crate::zk::range::RangeCertificate>,
    ) -> Self {
        Self {
            pcs,
            num_vars,
            circuit,
            range_bits,
            range,
            checked: std::sync::OnceLock::new(),
            links: LinkCache::default(),
            leaves: LinkCache::default(),
        }
    }

    fn leaf_key(&self, leaf: &crate::epoch::EpochRef) -> [u8; 32] {
        let mut h = blake3::Hasher::new();
        h.update(&self.digest());
        h.update(&leaf.commitment.digest());
        h.update(&leaf.path);
        *h.finalize().as_bytes()
    }

    /// Whether `leaf`'s chain to this commitment was checked before (by [`Self::mark_leaf`]).
    pub fn leaf_checked(&self, leaf: &crate::epoch::EpochRef) -> bool {
        let key = self.leaf_key(leaf);
        self.leaves
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&key)
    }

    /// Remembers that `leaf`'s chain to this commitment has been checked.
    pub(crate) fn mark_leaf(&self, leaf: &crate::epoch::EpochRef) {
        let key = self.leaf_key(leaf);
        self.leaves
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key);
    }

    /// Runs `check` for the link from `parent` to `node` unless it passed before for this
    /// commitment.
    pub fn check_link(
        &self,
        parent: &Commitment,
        node: &crate::epoch::EpochNode,
        check: impl FnOnce() -> Result<()>,
    ) -> Result<()> {
        let mut h = blake3::Hasher::new();
        h.update(&self.digest());
        h.update(&parent.digest());
        h.update(&node.commitment.digest());
        h.update(&node.path);
        let key = *h.finalize().as_bytes();
        let seen = |k| {
            self.links
                .0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .contains(k)
        };
        if seen(&key) {
            return Ok(());
        }
        check()?;
        self.links
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key);
        Ok(())
    }

    /// 32-byte digest: the model's public identity.
    pub fn digest(&self) -> [u8; 32] {
        let mut h = blake3::Hasher::new();
        h.update(b"zkgrad-model-commitment-v2");
        h.update(&self.circuit);
        h.update(&(self.num_vars as u64).to_le_bytes());
        h.update(&self.pcs.digest());
        if !self.range_bits.is_empty() {
            h.update(b"range-bits");
            h.update(&self.range_bits);
        }
        *h.finalize().as_bytes()
    }

    /// Zero knowledge: checks (once per commitment) that the range certificate proves every
    /// committed weight within `range_bits`, and that those bits rule out wrap-around.
    pub fn check_range(&self, spec: &CircuitSpec) -> Result<()> {
        if self.circuit != spec.digest() {
            return Err(crate::ProofError::Circuit(
                "the model commitment belongs to another circuit".into(),
            ));
        }
        let digest = self.digest();
        if self.checked.get() == Some(&digest) {
            return Ok(());
        }
        let cert = self.range.as_ref().ok_or_else(|| {
            crate::ProofError::Malformed(
                "the model commitment has no weight range certificate".into(),
            )
        })?;
        crate::zk::range::verify(spec, &self.pcs, &self.range_bits, cert)?;
        let _ = self.checked.set(digest);
        Ok(())
    }
}

/// One aligned power-of-two block of a weight matrix's input slots: slots `offset ..
/// offset + 2^log` of every row, stored as its own column (slot low variables, row high).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WeightPiece {
    /// Column index in the weight layout.
    pub col: usize,
    /// log2 of the slots the piece covers.
    pub log: usize,
    /// First slot it covers (a multiple of 2^log).
    pub offset: usize,
}

/// Where block l's weights live in the weight layout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WeightColumns {
    /// The kernel's pieces, largest first; together they cover every slot an input occupies.
    pub pieces: Vec<WeightPiece>,
    /// The bias column.
    pub bias: usize,
}

/// Block l's kernel pieces as (log, offset). The table does not commit the padding
/// of a matrix whose inputs fill a prefix of its slots that is not a power of two: 784 inputs are
/// pieces of 512, 256 and 16 slots instead of 1024 (the committed table is a power of two: this
/// keeps an MNIST MLP's weight table at 2^17). The prefix is rounded up to an
/// even length so every piece has a slot variable to carry its mask. Pooling has one empty piece.
fn piece_shapes(spec: &CircuitSpec, l: usize) -> Vec<(usize, usize)> {
    let layer = &spec.layers[l];
    let (ki, _) = weight_logs(spec, l);
    let (_, n_cols) = layer.weight_dims();
    let used = match layer.kind {
        LayerKind::Dense if n_cols > 0 => spec.layer_input_shape(l).slot(n_cols - 1) + 1,
        _ => n_cols,
    };
    let used = used + used % 2;
    if used == 0 || used >= 1 << ki {
        return vec![(ki, 0)];
    }
    let mut offset = 0;
    (1..ki)
        .rev()
        .filter(|&b| used & (1 << b) != 0)
        .map(|b| {
            offset += 1 << b;
            (b, offset - (1 << b))
        })
        .collect()
}

/// Block l's kernel and bias columns in the weight layout (blocks in order, each its pieces
/// then its bias).
pub fn weight_columns(spec: &CircuitSpec, l: usize) -> WeightColumns {
    let first: usize = (0..l).map(|k| piece_shapes(spec, k).len() + 1).sum();
    let pieces: Vec<WeightPiece> = piece_shapes(spec, l)
        .into_iter()
        .enumerate()
        .map(|(i, (log, offset))| WeightPiece {
            col: first + i,
            log,
            offset,
        })
        .collect();
    WeightColumns {
        bias: first + pieces.len(),
        pieces,
    }
}

/// log2 of the padded weight matrix's column and row counts for block l. A dense block's
/// columns follow its input's stored layout (see [`crate::circuit::ActShape`]); pooling has none.
pub fn weight_logs(spec: &CircuitSpec, l: usize) -> (usize, usize) {
    let layer = &spec.layers[l];
    let (rows, cols) = layer.weight_dims();
    match layer.kind {
        // Rows as the block's output column (at least `MIN_COLUMN_VARS` variables).
        LayerKind::Dense => (
            spec.layer_input_shape(l).log_size(),
            layer.out_shape().log_size().max(log2_ceil(rows)),
        ),
        _ => (log2_ceil(cols), log2_ceil(rows)),
    }
}

/// The weight layout the verifier derives from the public circuit.
pub fn weight_layout(spec: &CircuitSpec) -> Layout {
    let logs: Vec<usize> = (0..spec.layers.len())
        .flat_map(|l| {
            let (_, ko) = weight_logs(spec, l);
            let mut logs: Vec<usize> = piece_shapes(spec, l)
                .into_iter()
                .map(|(log, _)| log + ko)
                .collect();
            logs.push(ko);
            logs
        })
        .collect();
    Layout::new(&logs)
}

/// The weight columns, each padded to its power-of-two size, in layout order.
pub fn weight_cols(spec: &CircuitSpec, w: &Weights) -> Vec<Vec<F>> {
    let mut cols = Vec::with_capacity(2 * spec.layers.len());
    for (l, (layer, lw)) in spec.layers.iter().zip(&w.layers).enumerate() {
        let (_, ko) = weight_logs(spec, l);
        let (_, n_cols) = layer.weight_dims();
        let shape = spec.layer_input_shape(l);
        let slot = |i: usize| {
            if layer.kind == LayerKind::Dense {
                shape.slot(i)
            } else {
                i
            }
        };
        let pieces = weight_columns(spec, l).pieces;
        let mut wcols: Vec<Vec<F>> = pieces
            .iter()
            .map(|p| vec![crate::field::from_i64(0); 1 << (p.log + ko)])
            .collect();
        if n_cols > 0 {
            for (o, row) in lw.weight.chunks_exact(n_cols).enumerate() {
                for (i, &v) in row.iter().enumerate() {
                    let s = slot(i);
                    let k = pieces
                        .iter()
                        .position(|p| s < p.offset + (1 << p.log))
                        .expect("the pieces cover every used slot");
                    wcols[k][(o << pieces[k].log) + s - pieces[k].offset] =
                        crate::field::from_i64(v);
                }
            }
        }
        cols.extend(wcols);
        cols.push(padded_column(&lw.bias, ko, 0));
    }
    cols
}

/// Variables of a lifted weight mask (`zk/masked.rs`, [`MaskedLayout::lifted`]): every
/// weight column has at least 2^M_LIFT mask dimensions across proofs — 2^M_LIFT / 2 openings,
/// each revealed value being two base-field functionals — however small the column (a 2-class
/// bias has 2^1 entries). 2^7 = 128 dimensions hide 64 openings, above the openings the
/// commitment's randomness is sized for ([`crate::zk::budget::WEIGHT_OPENINGS_CAP`]), so the
/// codeword, not the column masks, bounds the budget. Each column under 7 variables costs 2^7
/// table entries; 2^10 (tried) grew the [12,6,3] MLP's weight table from 2^8 to 2^13 entries and
/// its proof from 245 to 510 KB.
pub const M_LIFT: usize = 7;

/// The zero-knowledge weight table's layout: every weight column with its mask (`zk::masked`),
/// lifted to [`M_LIFT`] variables, as the table is opened by every proof of the model.
pub fn weight_masked_layout(spec: &CircuitSpec) -> MaskedLayout {
    let mut logs: Vec<usize> = weight_layout(spec)
        .columns
        .iter()
        .map(|&(_, k)| k)
        .collect();
    // A pooling block's empty kernel and bias (no variables, never claimed) carry no mask.
    let mut masked: Vec<bool> = logs.iter().map(|&k| k > 0).collect();
    // The two epoch-link masks (`zk/link.rs`): random columns, never claimed by a proof.
    logs.extend([LINK_VARS; 2]);
    masked.extend([false; 2]);
    MaskedLayout::lifted(&logs, &masked, M_LIFT)
}

/// The weight table's two link-mask columns (`zk/link.rs`): the one it shares with its parent
/// in the epoch tree, and the one it shares with its children.
pub fn link_columns(spec: &CircuitSpec) -> (usize, usize) {
    let n = weight_layout(spec).columns.len();
    (n, n + 1)
}

/// A key derived from the model's secret seed for one node of the epoch tree (`epoch.rs`;
/// the root's path is empty) and one purpose.
pub(crate) fn node_key(seed: &[u8; 32], purpose: &str, path: &[u8]) -> [u8; 32] {
    let mut h = blake3::Hasher::new_keyed(seed);
    h.update(purpose.as_bytes());
    h.update(&[0]);
    h.update(&(path.len() as u64).to_le_bytes());
    h.update(path);
    *h.finalize().as_bytes()
}

/// A node's link mask shared with its children (`purpose` "down"), or the root's unshared one
/// for its parent side (`purpose` "root-up").
fn link_mask(seed: &[u8; 32], purpose: &str, path: &[u8]) -> Vec<F> {
    use rand::SeedableRng;
    let mut rng = rand::rngs::StdRng::from_seed(node_key(seed, purpose, path));
    (0..1usize << LINK_VARS)
        .map(|_| crate::zk::random_base(&mut rng))
        .collect()
}

/// The PCS of `spec`'s weight table: its randomness hides the openings of the range certificate
/// and of the proofs the column masks allow ([`crate::zk::budget::weight_openings`]), or half as
/// many, and so on, where WHIR has no configuration for that many at this table size (64
/// openings of a 14-variable table, for one); `zk::budget::weight_openings_budget` reads the
/// openings back from the configuration.
pub fn weight_pcs(spec: &CircuitSpec) -> Result<Pcs> {
    let layout = weight_masked_layout(spec);
    reused_pcs(
        layout.num_vars(),
        crate::zk::budget::weight_openings(&layout),
    )
}

/// The PCS of a `num_vars`-variable table whose randomness hides `openings` openings, or the
/// largest of openings/2, openings/4, ... that WHIR has a configuration for.
pub(crate) fn reused_pcs(num_vars: usize, mut openings: usize) -> Result<Pcs> {
    loop {
        match Pcs::for_reused(num_vars, openings) {
            Err(_) if openings > 1 => openings /= 2,
            result => return result,
        }
    }
}

/// The zero-knowledge weight table's parts; deterministic given the seed.
pub struct WeightTables {
    pub layout: MaskedLayout,
    /// The weight columns.
    pub cols: Vec<Vec<F>>,
    /// Their masks, drawn from the seed.
    pub masks: Vec<ColumnMask>,
    /// The link masks: shared with the parent node, shared with the children ([`link_columns`]).
    pub link: [Vec<F>; 2],
}

impl WeightTables {
    /// The committed table.
    pub fn table(&self) -> Vec<F> {
        let mut cols: Vec<&[F]> = self.cols.iter().map(Vec::as_slice).collect();
        cols.extend(self.link.iter().map(Vec::as_slice));
        self.layout.table(&cols, &self.masks)
    }

    /// Each column's mask R on its whole hypercube for one opening's lift point (drawn by
    /// [`LiftPoint::draw`] from that opening's transcript).
    pub fn expanded_masks(&self, lift: &LiftPoint) -> Vec<Vec<F>> {
        self.layout.expand_all(&self.masks, lift)
    }
}

/// The weight columns and their masks; deterministic given the seed.
pub fn weight_tables(spec: &CircuitSpec, w: &Weights, seed: [u8; 32]) -> Result<WeightTables> {
    node_tables(spec, w, seed, &[])
}

/// The weight table of the epoch-tree node at `path` (`epoch.rs`; the root, the published
/// commitment, at the empty path): the same weights, fresh column masks of its own, its
/// parent's down-link mask as its up-link mask, a fresh down-link mask. Deterministic given the
/// seed, so the owner recomputes any node from the model file.
pub fn node_tables(
    spec: &CircuitSpec,
    w: &Weights,
    seed: [u8; 32],
    path: &[u8],
) -> Result<WeightTables> {
    use rand::SeedableRng;
    spec.validate()?;
    spec.check_weights(w)?;
    let layout = weight_masked_layout(spec);
    let mask_seed = node_key(&seed, "zkgrad weight masks", path);
    let masks = layout.draw(&mut rand::rngs::StdRng::from_seed(mask_seed));
    let up = match path.split_last() {
        None => link_mask(&seed, "zkgrad link root-up", path),
        Some((_, parent)) => link_mask(&seed, "zkgrad link down", parent),
    };
    Ok(WeightTables {
        layout,
        cols: weight_cols(spec, w),
        masks,
        link: [up, link_mask(&seed, "zkgrad link down", path)],
    })
}

/// The seed of the node at `path`'s hiding commitment (the root's is the model seed).
pub(crate) fn node_commit_seed(seed: [u8; 32], path: &[u8]) -> [u8; 32] {
    if path.is_empty() {
        seed
    } else {
        node_key(&seed, "zkgrad node commitment", path)
    }
}

/// The range bits of every weight-layout column: the weight columns' ([`crate::zk::range::
/// choose_bits`], or `given`), and 0 for the link masks, which carry no range.
fn layout_bits(spec: &CircuitSpec, cols: &[Vec<F>], given: Option<Vec<u8>>) -> Result<Vec<u8>> {
    let mut bits = match given {
        Some(b) => b,
        None => crate::zk::range::choose_bits(spec, cols)?,
    };
    if bits.len() == cols.len() {
        bits.extend([0, 0]);
    }
    Ok(bits)
}

/// A zero-knowledge model commitment without its range certificate (the same digest: what a
/// prover needs for its transcript), and what opens it.
pub fn zk_commit_with_data(
    spec: &CircuitSpec,
    w: &Weights,
    seed: [u8; 32],
) -> Result<(ModelCommitment, ProverData)> {
    commit_weights(spec, w, seed, false)
}

/// The weight tables of `w`, their range bits and commitment; `certify` adds the certificate.
fn commit_weights(
    spec: &CircuitSpec,
    w: &Weights,
    seed: [u8; 32],
    certify: bool,
) -> Result<(ModelCommitment, ProverData)> {
    let tables = weight_tables(spec, w, seed)?;
    let bits = layout_bits(spec, &tables.cols, None)?;
    zk_commit_tables(spec, &tables, seed, bits, certify)
}

/// Commits to a zero-knowledge weight table (masks derived from the seed, so the owner can
/// recompute it) with its range bits; `certify` adds the range certificate.
fn zk_commit_tables(
    spec: &CircuitSpec,
    tables: &WeightTables,
    seed: [u8; 32],
    bits: Vec<u8>,
    certify: bool,
) -> Result<(ModelCommitment, ProverData)> {
    let (c, data) = weight_pcs(spec)?.commit(tables.table(), seed);
    let range = if certify {
        Some(crate::zk::range::prove(spec, tables, &c, &bits, seed)?)
    } else {
        None
    };
    Ok((
        ModelCommitment::new(c, weight_layout(spec).num_vars, spec.digest(), bits, range),
        data,
    ))
}

/// Commits to the weights; deterministic given the seed.
pub fn commit_model(spec: &CircuitSpec, w: &Weights, seed: [u8; 32]) -> Result<ModelCommitment> {
    Ok(commit_with_data(spec, w, seed)?.0)
}

/// Commits and keeps the prover data (the prover recomputes this from the weights and seed).
pub fn commit_with_data(
    spec: &CircuitSpec,
    w: &Weights,
    seed: [u8; 32],
) -> Result<(ModelCommitment, ProverData)> {
    commit_weights(spec, w, seed, true)
}

/// A hook that edits the weight columns before they are committed (tests of soundness only: a
/// dishonest model owner).
pub type WeightTamper<'a> = &'a dyn Fn(&CircuitSpec, &mut Vec<Vec<F>>);

/// The weight commitment together with the data that opens it: built once (the encoding is
/// most of the cost of a commitment), then reused by every proof. Hiding prover data cannot be
/// copied (`p3-whir`'s type is not `Clone`): the first proof takes it, later ones recompute it
/// from the kept tables.
pub struct CommittedWeights {
    /// The public commitment.
    pub commitment: ModelCommitment,
    data: std::sync::Mutex<Option<ProverData>>,
    /// The zero-knowledge weight table (columns and masks) the commitment holds.
    tables: Option<WeightTables>,
    seed: [u8; 32],
}

impl CommittedWeights {
    /// Commits to the weights; deterministic given the seed.
    pub fn new(spec: &CircuitSpec, w: &Weights, seed: [u8; 32]) -> Result<Self> {
        Self::from_tables(spec, weight_tables(spec, w, seed)?, seed, None)
    }

    /// Commits to a weight table whose columns a dishonest owner edited, certified for `bits`
    /// (default: what the edited values need) — soundness tests only.
    #[doc(hidden)]
    pub fn tampered(
        spec: &CircuitSpec,
        w: &Weights,
        seed: [u8; 32],
        tamper: WeightTamper,
        bits: Option<Vec<u8>>,
    ) -> Result<Self> {
        let mut tables = weight_tables(spec, w, seed)?;
        tamper(spec, &mut tables.cols);
        Self::from_tables(spec, tables, seed, bits)
    }

    /// Recomputes the prover's side of a stored commitment (a model file's) without proving a
    /// new range certificate: the table is committed again and its identity compared with
    /// `stored`, whose certificate is kept. None when the weights or seed do not give `stored`.
    pub fn reopen(
        spec: &CircuitSpec,
        w: &Weights,
        seed: [u8; 32],
        stored: &ModelCommitment,
    ) -> Result<Option<Self>> {
        if stored.range.is_none() {
            return Ok(None);
        }
        let tables = weight_tables(spec, w, seed)?;
        let (identity, data) =
            zk_commit_tables(spec, &tables, seed, stored.range_bits.clone(), false)?;
        let same = (
            &identity.pcs,
            identity.num_vars,
            identity.circuit,
            &identity.range_bits,
        ) == (
            &stored.pcs,
            stored.num_vars,
            stored.circuit,
            &stored.range_bits,
        );
        Ok(same.then(|| Self {
            commitment: stored.clone(),
            data: std::sync::Mutex::new(Some(data)),
            tables: Some(tables),
            seed,
        }))
    }

    fn from_tables(
        spec: &CircuitSpec,
        tables: WeightTables,
        seed: [u8; 32],
        bits: Option<Vec<u8>>,
    ) -> Result<Self> {
        let bits = layout_bits(spec, &tables.cols, bits)?;
        let (commitment, data) = zk_commit_tables(spec, &tables, seed, bits, true)?;
        Ok(Self {
            commitment,
            data: std::sync::Mutex::new(Some(data)),
            tables: Some(tables),
            seed,
        })
    }

    /// The zero-knowledge weight table behind the commitment (None for plain circuits).
    pub fn tables(&self) -> Option<&WeightTables> {
        self.tables.as_ref()
    }

    /// Prover data for one more opening: a copy, the kept data (once, in hiding mode), or a
    /// fresh commitment.
    pub fn data_for_opening(
        &self,
        spec: &CircuitSpec,
        w: &Weights,
        seed: [u8; 32],
    ) -> Result<ProverData> {
        let mut kept = self.data.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(d) = kept.as_ref().and_then(|d| d.try_clone()) {
            return Ok(d);
        }
        match (kept.take(), &self.tables) {
            (Some(d), _) => Ok(d),
            (None, Some(t)) => Ok(weight_pcs(spec)?.commit(t.table(), self.seed).1),
            (None, None) => Ok(commit_with_data(spec, w, seed)?.1),
        }
    }
}
