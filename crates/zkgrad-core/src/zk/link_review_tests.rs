//! Hostile review of the epoch links (2026-12-07): zero knowledge over a whole tree of nodes
//! (every value a verifier sees from a root, its children, a grandchild level and the proofs of
//! the leaves, as affine functionals of the weights and of every node's masks), the capacity of
//! a link mask D, splicing of certificates, and hostile certificate bytes.

use p3_field::{BasedVectorSpace, PrimeCharacteristicRing};
use rand::{Rng, SeedableRng};

use super::*;
use crate::circuit::{CircuitSpec, Weights};
use crate::commit::{CommittedWeights, ModelCommitment};
use crate::epoch::{self, EpochCertificate, EpochNode, EpochRef, Epochs};
use crate::zk::budget::rank_test::rank_over;

/// The shared 6-4-2 MLP without its input.
fn model() -> (CircuitSpec, Weights) {
    let (spec, w, _) = super::super::test_model::mlp_6_4_2();
    (spec, w)
}

const SEED: [u8; 32] = [9; 32];

fn fresh(cw: &CommittedWeights) -> ModelCommitment {
    let cfg = bincode::config::standard();
    bincode::serde::decode_from_slice(
        &bincode::serde::encode_to_vec(&cw.commitment, cfg).unwrap(),
        cfg,
    )
    .unwrap()
    .0
}

/// The unknowns of a tree's transcripts: the weight entries (private, shared by every node),
/// then per node its random entries — its column masks A/B and its down-link mask D (a child's
/// up-link mask U is its parent's D: the same unknowns), and the root's own U.
struct Unknowns {
    layout: MaskedLayout,
    /// Per weight column: its first unknown.
    weight_start: Vec<usize>,
    private: usize,
    total: usize,
    /// Per node: (first unknown of its mask entries, of its D; its parent's node index).
    nodes: Vec<(usize, usize, Option<usize>)>,
    root_up: usize,
    mask_entries: usize,
    /// Variables of a proof opening's lift point (the table kind's lifted masks).
    lift: usize,
}

impl Unknowns {
    fn new(spec: &CircuitSpec) -> Self {
        let (up, _) = link_columns(spec);
        Self::of(weight_masked_layout(spec), up, crate::commit::M_LIFT)
    }

    /// Any linked table kind whose columns before the link mask U (at `up`, D right after it)
    /// are private, opened by proofs at lift points of `lift` variables.
    fn of(layout: MaskedLayout, up: usize, lift: usize) -> Self {
        let mut weight_start = Vec::new();
        let mut private = 0;
        for c in 0..up {
            weight_start.push(private);
            private += 1 << layout.col_vars(c);
        }
        let mask_entries = (layout.masked.len()..layout.layout.columns.len())
            .map(|c| 1usize << layout.layout.columns[c].1)
            .sum();
        Self {
            layout,
            weight_start,
            private,
            total: private + (1 << LINK_VARS),
            nodes: Vec::new(),
            root_up: private,
            mask_entries,
            lift,
        }
    }

    /// A node (the root when `parent` is None); returns its index.
    fn node(&mut self, parent: Option<usize>) -> usize {
        let masks = self.total;
        let d = masks + self.mask_entries;
        self.total = d + (1 << LINK_VARS);
        self.nodes.push((masks, d, parent));
        self.nodes.len() - 1
    }

    /// The unknown a node's table entry `x` holds (None: padding, always zero).
    fn unknown(&self, node: usize, x: usize) -> Option<usize> {
        let (masks, d, parent) = self.nodes[node];
        let (up, down) = (self.weight_start.len(), self.weight_start.len() + 1);
        let mut mask_offset = 0;
        for (c, &(off, k)) in self.layout.layout.columns.iter().enumerate() {
            let len = 1usize << k;
            let inside = (off..off + len).contains(&x);
            let j = x.wrapping_sub(off);
            match c {
                _ if c < up && inside => return Some(self.weight_start[c] + j),
                _ if c == up && inside => {
                    return Some(parent.map_or(self.root_up + j, |p| self.nodes[p].1 + j));
                }
                _ if c == down && inside => return Some(d + j),
                _ if c > down => {
                    if inside {
                        return Some(masks + mask_offset + j);
                    }
                    mask_offset += len;
                }
                _ => {}
            }
        }
        None
    }

    /// A revealed EF functional of `node`'s table (weights over its entries) as a row over
    /// every unknown.
    fn row(&self, node: usize, weights: &[EF]) -> Vec<EF> {
        let mut row = vec![EF::ZERO; self.total];
        for (x, &w) in weights.iter().enumerate() {
            if let Some(u) = self.unknown(node, x) {
                row[u] += w;
            }
        }
        row
    }

    fn terms_row(&self, node: usize, terms: &[Term]) -> Vec<EF> {
        let mut w = vec![EF::ZERO; 1 << self.layout.num_vars()];
        self.layout.add_weights(terms, EF::ONE, &mut w);
        self.row(node, &w)
    }
}

fn random_point(k: usize, rng: &mut impl Rng) -> Vec<EF> {
    (0..k).map(|_| crate::zk::random_ef(rng)).collect()
}

/// The link's challenges as its verifier draws them (from a transcript of its own per link).
fn link_challenges(layout: &MaskedLayout, n: u64) -> Challenges {
    let mut tr = crate::transcript::Transcript::new(b"zkgrad/review/link");
    tr.absorb_bytes("link", &n.to_le_bytes());
    Challenges::draw(layout, &mut tr)
}

/// What the tree reveals, as rows: `proof_openings` openings of a node like a proof's (one
/// masked claim per weight column at its own lift point, and the batching value T(ρ)), a link
/// (v on the parent's side; T(ρ) on each side).
struct Revealed<'a> {
    u: &'a Unknowns,
    rows: Vec<Vec<EF>>,
    rng: rand::rngs::StdRng,
    links: u64,
}

impl Revealed<'_> {
    fn batching(&mut self, node: usize) {
        let rho = random_point(self.u.layout.num_vars(), &mut self.rng);
        let row = self.u.row(node, &crate::mle::eq_table(&rho));
        self.rows.push(row);
    }

    fn proof_opening(&mut self, node: usize) {
        self.proof_reads(node, 1);
    }

    /// A proof's opening that reads each masked column at `reads` points (one lift point).
    fn proof_reads(&mut self, node: usize, reads: usize) {
        let l = &self.u.layout;
        let lift = LiftPoint::new(
            (0..self.u.lift)
                .map(|_| crate::zk::random_base(&mut self.rng))
                .collect(),
        );
        for c in (0..self.u.weight_start.len()).filter(|&c| l.masked[c]) {
            for _ in 0..reads {
                let z = random_point(l.col_vars(c), &mut self.rng);
                let row = self.u.terms_row(node, &l.terms(c, &z, &lift));
                self.rows.push(row);
            }
        }
        self.batching(node);
    }

    fn link(&mut self, parent: usize, child: usize) {
        let (up, down) = (self.u.weight_start.len(), self.u.weight_start.len() + 1);
        let ch = link_challenges(&self.u.layout, self.links);
        self.links += 1;
        let v_parent = self
            .u
            .terms_row(parent, &ch.functional(&self.u.layout, down));
        // The same functional on the child's side names the same unknowns: the link's claim.
        let v_child = self.u.terms_row(child, &ch.functional(&self.u.layout, up));
        assert_eq!(v_parent, v_child, "U of the child is D of the parent");
        self.rows.push(v_parent);
        self.batching(parent);
        self.batching(child);
    }
}

/// Rank over F of EF rows restricted to the unknowns in `cols` (two F rows per EF row).
fn f_rank(rows: &[Vec<EF>], cols: std::ops::Range<usize>) -> usize {
    let part = |w: &Vec<EF>, i: usize| -> Vec<F> {
        w[cols.clone()]
            .iter()
            .map(|x| x.as_basis_coefficients_slice()[i])
            .collect()
    };
    rank_over(rows.iter().flat_map(|w| [part(w, 0), part(w, 1)]).collect())
}

/// The tree the test reveals: the root (range certificate and F links), a leaf child with F
/// proofs, an inner child with its link and F links of its own, two of whose leaves (the
/// grandchildren) carry F proofs each. The other children and grandchildren are left out: each
/// reveals, besides its link value (counted on its parent), only batching values that read its
/// own fresh masks, which no other row reads, so they cannot lower the rank of the rest.
fn tree_rows(spec: &CircuitSpec, extra_proofs: usize) -> (Unknowns, Vec<Vec<EF>>) {
    let f = epoch::fanout(spec);
    tree_rows_of(Unknowns::new(spec), f, f + extra_proofs)
}

/// [`tree_rows`] for any linked table kind: `f` children per node, `proofs` per leaf.
fn tree_rows_of(u: Unknowns, f: usize, proofs: usize) -> (Unknowns, Vec<Vec<EF>>) {
    tree_rows_reading(u, f, proofs, 1, true)
}

/// [`tree_rows_of`] with proofs that read each column at `reads` points, and the root opened
/// once like a proof (the weights' range certificate) or never (`root_opened`: a committed
/// input's or a dataset's published commitment).
fn tree_rows_reading(
    mut u: Unknowns,
    f: usize,
    proofs: usize,
    reads: usize,
    root_opened: bool,
) -> (Unknowns, Vec<Vec<EF>>) {
    let down = u.weight_start.len() + 1;
    let root = u.node(None);
    let leaf = u.node(Some(root));
    let inner = u.node(Some(root));
    let grand: Vec<usize> = (0..2).map(|_| u.node(Some(inner))).collect();
    let mut r = Revealed {
        u: &u,
        rows: Vec::new(),
        rng: rand::rngs::StdRng::seed_from_u64(17),
        links: 0,
    };
    if root_opened {
        r.proof_opening(root); // the range certificate
    }
    r.link(root, leaf);
    r.link(root, inner);
    for _ in 2..f {
        // The root's other children: their link values read the root's D.
        let ch = link_challenges(&r.u.layout, 1000 + r.links);
        r.links += 1;
        let row = r.u.terms_row(root, &ch.functional(&r.u.layout, down));
        r.rows.push(row);
        r.batching(root);
    }
    for _ in 0..proofs {
        r.proof_reads(leaf, reads);
    }
    for &g in &grand {
        r.link(inner, g);
        for _ in 0..proofs {
            r.proof_reads(g, reads);
        }
    }
    for _ in 2..f {
        let ch = link_challenges(&r.u.layout, 2000 + r.links);
        r.links += 1;
        let row = r.u.terms_row(inner, &ch.functional(&r.u.layout, down));
        r.rows.push(row);
        r.batching(inner);
    }
    let rows = r.rows;
    (u, rows)
}

/// Everything a verifier sees of a tree — link values, every batching value of every opening
/// of every node (each reading the node's U, its parent's D), every masked weight claim of
/// every proof — leaves the weights undetermined: restricted to the random unknowns (all
/// masks, D and U included) the functionals have the rank they have in full.
#[test]
fn review_a_whole_tree_reveals_nothing_of_the_weights() {
    let (spec, _) = model();
    let f = epoch::fanout(&spec);
    assert!(f >= 2, "fanout {f}");
    let (u, rows) = tree_rows(&spec, 0);
    // Full row rank on the random unknowns alone (so also in full): the revealed values are
    // uniform and independent, whatever the weights.
    let random = f_rank(&rows, u.private..u.total);
    assert_eq!(
        random,
        2 * rows.len(),
        "{} revealed values over {} unknowns ({} private)",
        rows.len(),
        u.total,
        u.private
    );
    // The test sees a leak where there is one: without the link masks (D and U read as
    // zeros, i.e. as known), the link values are functionals of the weights alone.
    let no_link_masks: Vec<Vec<EF>> = rows
        .iter()
        .map(|row| {
            let mut row = row.clone();
            for &(_, d, _) in &u.nodes {
                row[d..d + (1 << LINK_VARS)].fill(EF::ZERO);
            }
            row[u.root_up..u.root_up + (1 << LINK_VARS)].fill(EF::ZERO);
            row
        })
        .collect();
    assert!(
        f_rank(&no_link_masks, u.private..u.total) < f_rank(&no_link_masks, 0..u.total),
        "without D the link values would leak"
    );
}

/// A link mask D of 2^LINK_VARS base-field entries hides the link values of 64 children (two
/// functionals each) and no more: the bound is 2F ≤ 128, and `epoch::check_fanout`'s
/// 6F + 2 ≤ 128 (F ≤ 21) is conservative, not needed (the batching values that also read D
/// are paid for by each node's own column masks: the tree rank test above).
#[test]
fn review_one_link_mask_hides_64_link_values_not_65() {
    let (spec, _) = model();
    let mut u = Unknowns::new(&spec);
    let root = u.node(None);
    let (_, down) = link_columns(&spec);
    let rows = |n: u64| -> Vec<Vec<EF>> {
        (0..n)
            .map(|i| {
                u.terms_row(
                    root,
                    &link_challenges(&u.layout, i).functional(&u.layout, down),
                )
            })
            .collect()
    };
    let hidden = |rows: &[Vec<EF>]| f_rank(rows, u.private..u.total) == f_rank(rows, 0..u.total);
    assert!(hidden(&rows(64)));
    assert!(!hidden(&rows(65)));
}

/// One epoch certificate (epoch 1: path [1, 0], two links) and the leaf it names.
fn certificate(
    spec: &CircuitSpec,
    w: &Weights,
    cw: &CommittedWeights,
) -> (EpochCertificate, EpochRef) {
    let f = epoch::fanout(spec);
    let path = epoch::leaf_path(f, 1).unwrap();
    let cert = Epochs::default()
        .certificate(spec, w, SEED, &cw.commitment, &path)
        .unwrap();
    let leaf = EpochRef {
        path,
        commitment: cert.leaf().unwrap().commitment.clone(),
    };
    (cert, leaf)
}

/// Splicing: a valid link is valid only for its own (parent, child, path). A link made under
/// another parent (the node [0] as parent of [1, 0]'s commitment), a node moved to its
/// sibling's path, or a chain that reuses the cached first link with a foreign second one is
/// refused — the verifier's cache of checked links does not let a node through on its path
/// alone.
#[test]
fn review_spliced_chains_are_refused() {
    let (spec, w) = model();
    let cw = CommittedWeights::new(&spec, &w, SEED).unwrap();
    let (cert, leaf) = certificate(&spec, &w, &cw);
    let mc = fresh(&cw);
    epoch::verify_chain(&spec, &mc, &leaf, &cert).unwrap();
    let identity = cw.commitment.digest();
    // The owner's epoch-0 leaf [0] and its link, presented as the first node of [1, 0].
    let other = epoch::make_node(&spec, &w, SEED, &identity, &[0]).unwrap();
    let mut spliced = cert.clone();
    spliced.nodes[0] = EpochNode {
        path: vec![1],
        ..other.clone()
    };
    assert!(epoch::verify_chain(&spec, &mc, &leaf, &spliced).is_err());
    // [1, 1]'s node relabelled [1, 0] (the cache already holds the real [1] link).
    let sibling = epoch::make_node(&spec, &w, SEED, &identity, &[1, 1]).unwrap();
    let mut moved = cert.clone();
    moved.nodes[1] = EpochNode {
        path: vec![1, 0],
        ..sibling.clone()
    };
    let moved_leaf = EpochRef {
        path: vec![1, 0],
        commitment: sibling.commitment.clone(),
    };
    let e = epoch::verify_chain(&spec, &mc, &moved_leaf, &moved).unwrap_err();
    assert!(e.to_string().contains("epoch link"), "{e}");
    // A real link of [1, 0] but under [1]'s commitment swapped for [0]'s (another parent).
    let mut reparent = cert.clone();
    reparent.nodes[0].commitment = other.commitment.clone();
    assert!(epoch::verify_chain(&spec, &fresh(&cw), &leaf, &reparent).is_err());
    // Another model's root (same weights, another seed): none of the links hold.
    let cw2 = CommittedWeights::new(&spec, &w, [10; 32]).unwrap();
    assert!(epoch::verify_chain(&spec, &fresh(&cw2), &leaf, &cert).is_err());
}

/// Hostile certificate bytes: flipped bytes, truncations and a forged depth decode to a typed
/// error or to a certificate whose chain check fails (or is the original), never a panic.
#[test]
fn review_hostile_certificate_bytes_never_panic() {
    let (spec, w) = model();
    let cw = CommittedWeights::new(&spec, &w, SEED).unwrap();
    let (cert, leaf) = certificate(&spec, &w, &cw);
    let bytes = cert.to_bytes();
    let original = bytes.clone();
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    let (mut decoded, mut rejected) = (0, 0);
    for i in 0..160 {
        let mut b = bytes.clone();
        if i % 4 == 3 {
            b.truncate(rng.random_range(0..bytes.len()));
        } else {
            for _ in 0..1 + i % 3 {
                let at = rng.random_range(0..b.len());
                b[at] ^= rng.random_range(1..=255u8);
            }
        }
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            match EpochCertificate::from_bytes(&b) {
                Err(e) => {
                    assert!(matches!(e, ProofError::Epoch(_)), "{e}");
                    Err(())
                }
                Ok(c) => Ok((
                    c.to_bytes() == original,
                    epoch::verify_chain(&spec, &fresh(&cw), &leaf, &c).is_ok(),
                )),
            }
        }));
        match outcome {
            Err(_) => panic!("mutation {i} panicked"),
            Ok(Err(())) => rejected += 1,
            Ok(Ok((same, ok))) => {
                decoded += 1;
                assert!(
                    !ok || same,
                    "mutation {i} verified with another certificate"
                );
            }
        }
    }
    assert!(
        rejected > 0 && decoded > 0,
        "{rejected} rejected, {decoded} decoded"
    );
    // A path as deep as the byte limit allows is refused before any link is checked.
    let deep = EpochRef {
        path: vec![14; 100_000],
        commitment: leaf.commitment.clone(),
    };
    let e = epoch::verify_chain(&spec, &fresh(&cw), &deep, &cert).unwrap_err();
    assert!(e.to_string().contains("not a leaf"), "{e}");
}

/// The verifier's link cache is keyed by the commitments and the path, not the circuit: before
/// `verify_chain` compared `mc`'s circuit with `spec`, a chain checked once under the model's
/// own circuit passed from the cache for another spec (here: the same layout, another
/// requantisation shift), whose layout the link never proved. Now it is refused by name.
#[test]
fn review_the_link_cache_answers_only_for_the_commitments_circuit() {
    let (spec, w) = model();
    let cw = CommittedWeights::new(&spec, &w, SEED).unwrap();
    let (cert, leaf) = certificate(&spec, &w, &cw);
    let mut other = spec.clone();
    other.layers[1].shift += 1;
    assert_ne!(other.digest(), spec.digest());
    let mc = fresh(&cw);
    epoch::verify_chain(&spec, &mc, &leaf, &cert).unwrap();
    let e = epoch::verify_chain(&other, &mc, &leaf, &cert).unwrap_err();
    assert!(e.to_string().contains("another circuit"), "{e}");
}

/// A certificate with a batching missing says so (it said "openings: expected 3, got 3").
#[test]
fn review_a_missing_batching_is_named() {
    let (spec, w) = model();
    let cw = CommittedWeights::new(&spec, &w, SEED).unwrap();
    let (mut cert, leaf) = certificate(&spec, &w, &cw);
    cert.nodes[1].link.batches.pop();
    let e = epoch::verify_chain(&spec, &fresh(&cw), &leaf, &cert)
        .unwrap_err()
        .to_string();
    assert!(e.contains("batchings") && e.contains('2'), "{e}");
}

/// The tree's depth as the documentation states it (SECURITY.md "Epochs", `epoch.rs`): at
/// F = 15, proof 10^4 sits 4 links below the root, proof 10^6 six, and the tree holds
/// F·Σ_{i<F} F^i ≈ 4.7·10^17 proofs (it said five links for 10^6 and 4·10^18).
#[test]
fn review_epoch_depths_as_documented() {
    let links = |proof: u64| epoch::leaf_path(15, proof / 15).unwrap().len();
    assert_eq!(links(10_000), 4);
    assert_eq!(links(1_000_000), 6);
    let total: u64 = 15 * (0..15u32).map(|i| 15u64.pow(i)).sum::<u64>();
    assert_eq!(total / 10u64.pow(16), 46);
    assert!(epoch::leaf_path(15, total / 15 - 1).is_ok());
    assert!(epoch::leaf_path(15, total / 15).is_err());
}

/// The same tree over a committed dataset's table (`data/epochs.rs`): the root with its F
/// links, a leaf serving its K − 1 proofs (each revealing one masked value per column at its own
/// lift point and a batching value), an inner node and two leaves under it: every value stays
/// undetermined by the rows.
#[test]
fn review_a_dataset_tree_reveals_nothing_of_the_rows() {
    // One 8-row column: its lifted mask (2^8 dimensions) hides 64 openings (wider tables 128),
    // small enough for the rank computation.
    let ds = crate::data::commit(&[3i64; 8], 8, 1, None, [0; 32], [4; 32]).unwrap();
    let c = &ds.commitment;
    let (up, _) = c.link_columns();
    let f = crate::data::epochs::fanout(c).unwrap();
    let per = crate::data::epochs::proofs_per_epoch(c).unwrap();
    assert_eq!((f, per), (21, 63));
    let unknowns = || Unknowns::of(c.layout(), up, crate::data::commit::DATASET_LIFT);
    let (u, rows) = tree_rows_of(unknowns(), f, per);
    assert_eq!(
        f_rank(&rows, u.private..u.total),
        2 * rows.len(),
        "{} revealed values over {} unknowns ({} private)",
        rows.len(),
        u.total,
        u.private
    );
    // The test sees a leak where there is one: with the leaf's column masks read as known
    // (zeros), its proofs' values are functionals of the rows alone.
    let (masks, _, _) = u.nodes[1];
    let unmasked: Vec<Vec<EF>> = rows
        .iter()
        .map(|row| {
            let mut row = row.clone();
            row[masks..masks + u.mask_entries].fill(EF::ZERO);
            row
        })
        .collect();
    assert!(
        f_rank(&unmasked, u.private..u.total) < f_rank(&unmasked, 0..u.total),
        "without the leaf's masks its proofs would leak"
    );
}

/// A committed input over many proofs (`zk/input.rs`): the input table's tree — the published
/// commitment (never opened by a proof), a leaf with its epoch's proofs, an inner node and two
/// grandchild leaves with theirs, every proof reading the input column at
/// `input::INPUT_READS_PER_PROOF` points at its own lift point — reveals functionals of full
/// rank on the random unknowns alone: the input values stay undetermined over the 3·P proofs
/// (and the 10^4 of a deeper tree: every other node reads fresh masks). One more proof per leaf
/// than `input::proofs_per_epoch` allows and the values are no longer hidden by this count
/// (the bound is what the rank needs, with the links' values).
#[test]
fn review_many_proofs_over_one_committed_input_leave_its_values_undetermined() {
    use crate::zk::input::{INPUT_READS_PER_PROOF, proofs_per_epoch};
    let (mut spec, _) = model();
    spec.committed_input = true;
    let plan = crate::witness::WitnessPlan::new(&spec, 1);
    let layout = crate::zk::input::layout(&plan);
    let up = layout.masked.len() - 2;
    let per = proofs_per_epoch(&spec, 1).unwrap();
    let root = crate::zk::input::public(
        &spec,
        1,
        &crate::zk::input::commit_input(&spec, &[vec![0; 6]], [1; 32]).unwrap(),
    );
    let f = crate::data::epochs::fanout(&root).unwrap();
    let unknowns = || Unknowns::of(layout.clone(), up, crate::data::commit::DATASET_LIFT);
    let (u, rows) = tree_rows_reading(unknowns(), f, per, INPUT_READS_PER_PROOF, false);
    let random = f_rank(&rows, u.private..u.total);
    assert_eq!(
        random,
        2 * rows.len(),
        "{} revealed values ({per} proofs per leaf, {f} children) over {} unknowns ({} of the input)",
        rows.len(),
        u.total,
        u.private
    );
    assert!(3 * per >= 60, "{per} proofs per input epoch");
    // Past the mask space: a leaf whose proofs reveal more functionals than its column mask has
    // dimensions determines its input (the rank on the random unknowns falls short).
    let dim = layout.mask_dim(0);
    let too_many = dim / (2 * INPUT_READS_PER_PROOF) + 1;
    let (u, rows) = tree_rows_reading(unknowns(), f, too_many, INPUT_READS_PER_PROOF, false);
    assert!(f_rank(&rows, u.private..u.total) < 2 * rows.len());
}
