//! The epoch link certificate: a zero-knowledge proof that two commitments of one masked table
//! kind, a node of an epoch tree and its parent (`crate::epoch`), hold the same columns. One
//! protocol for every table kind that carries the two link-mask columns ([`LinkedLayout`]): the
//! weight table (`commit::weight_masked_layout`) and the dataset table (`data::commit`).
//!
//! Every node's table has its kind's layout: the private columns W_c, each with the node's own
//! lifted masks, unmasked columns no claim reads (a dataset's filler), and two link masks, U
//! (shared with the parent) and D (shared with the children); a child's U is a copy of its
//! parent's D. After both
//! commitments and the link's own mask commitment are in the transcript, the verifier draws λ_c
//! per weight column, a point r, ζ and a point s, and the prover claims ONE value v for both:
//!
//!   v = Σ_c λ_c·W̃_c(r[..k_c]) + ζ·D̃(s)   on the parent's table,
//!   v = Σ_c λ_c·W̃'_c(r[..k_c]) + ζ·Ũ'(s)  on the child's.
//!
//! **Soundness.** The difference of the two right-hand sides is a polynomial in (λ, r, ζ, s). If
//! the child's column c differs from the parent's anywhere on the hypercube, its λ_c-coefficient
//! (W̃_c − W̃'_c)(r) is a non-zero multilinear polynomial, so the difference is a non-zero
//! polynomial of total degree at most 1 + max(k_c, LINK_VARS), zero at the random challenges
//! with probability at most that degree over |EF| = 2^128 (Schwartz–Zippel). A shift W' = W + c
//! by a constant is such a difference; so is any change to the padding inside a column. Each
//! claim is then proved like every opening of a masked table: a masked batching sumcheck
//! (`open.rs`) and one WHIR opening per table (their soundness is the inference proof's).
//!
//! **Zero knowledge.** v is the private linear combination plus ζ·D̃(s), where D is uniformly
//! random and used nowhere else but in the batching values T(ρ) of the two tables that hold it,
//! which each table's own column masks pay for (every opening of a table is counted against its
//! masks and its codeword budget, links included: `crate::epoch`). So D must hide the link
//! values of a node's children, two base-field functionals each; [`crate::epoch`] keeps even
//! [`LINK_READS_PER_CHILD`]·children + 2 (as if the two T(ρ) of each link read D alone)
//! below dim D = 2^[`LINK_VARS`]. The sumchecks' masks live in the link's own hiding table.

use p3_field::PrimeCharacteristicRing;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::masked::{LiftPoint, MaskedLayout, Term};
use super::masks::MaskPlan;
use super::open;
use super::sumcheck::{self as zksc, ZkSumcheckProof};
use crate::circuit::CircuitSpec;
use crate::commit::{WeightTables, link_columns, weight_masked_layout, weight_pcs};
use crate::error::{ProofError, Result};
use crate::field::{EF, F};
use crate::pcs::{Commitment, OpeningProof, Pcs, ProverData};
use crate::transcript::Transcript;

/// Variables of each link mask column: 2^7 = 128 base-field dimensions.
pub const LINK_VARS: usize = 7;
/// Base-field functionals one child's link reads on its parent's D, counted without relying on
/// any other mask: v (2), the parent's T(ρ) (2), the child's T(ρ) (2).
pub const LINK_READS_PER_CHILD: usize = 6;
/// Variables of the link mask table's spare random column, which randomises that table's own
/// batching value.
const SPARE_VARS: usize = 4;
const DOMAIN: &[u8] = b"zkgrad/epoch-link/v1";

/// The certificate's messages.
#[derive(Clone, Serialize, Deserialize)]
pub struct LinkCertificate {
    /// The link's sumcheck masks (hiding).
    pub mask_commitment: Commitment,
    /// The value both tables' functionals take.
    pub value: EF,
    /// Batchings of the parent's, the child's and the mask table: messages and T(ρ).
    pub batches: Vec<(ZkSumcheckProof, EF)>,
    /// Openings, in the same order.
    pub openings: Vec<OpeningProof>,
}

impl std::fmt::Debug for LinkCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LinkCertificate({} openings)", self.openings.len())
    }
}

/// What a link reads of a node: its whole committed table (columns, masks, link masks).
pub trait LinkTable {
    fn table(&self) -> Vec<F>;
}

impl LinkTable for WeightTables {
    fn table(&self) -> Vec<F> {
        WeightTables::table(self)
    }
}

/// The public description of a linked table kind: its masked layout with the two link-mask
/// columns, the PCS its nodes are committed with, and what the link's transcript absorbs before
/// the commitments (the kind's public shape and identity, under labels of its own).
pub struct LinkedLayout {
    pub layout: MaskedLayout,
    /// The link-mask columns: shared with the parent, shared with the children.
    pub up: usize,
    pub down: usize,
    pub pcs: Pcs,
    /// (label, digest) of the public shape: ("circuit", the circuit digest) for weights.
    pub shape: (&'static str, [u8; 32]),
    /// The label the published identity is absorbed under ("model-identity" for weights).
    pub identity_label: &'static str,
    /// What the columns are, for errors ("weights").
    pub what: &'static str,
}

impl LinkedLayout {
    /// The weight table of `spec` (the transcript is the one of certificate version 1).
    pub fn weights(spec: &CircuitSpec) -> Result<Self> {
        let (up, down) = link_columns(spec);
        Ok(Self {
            layout: weight_masked_layout(spec),
            up,
            down,
            pcs: weight_pcs(spec)?,
            shape: ("circuit", spec.digest()),
            identity_label: "model-identity",
            what: "weights",
        })
    }
}

/// One side of a link: a node's table, the commitment to it, and what makes the data
/// that opens it (the commitment again, deterministically: the codeword is made when its
/// opening is, so a link holds one codeword at a time, not two).
pub struct Side<'a> {
    pub tables: &'a dyn LinkTable,
    pub commitment: &'a Commitment,
    pub data: &'a dyn Fn() -> Result<ProverData>,
}

/// The link's own table: every batching sumcheck's masks and a spare random column.
struct MaskTable {
    plan: MaskPlan,
    layout: MaskedLayout,
}

impl MaskTable {
    /// Its own batching has a round per variable of this very table: grow to a fixed point.
    fn new(weight_vars: usize) -> Self {
        let mut tv = 1;
        loop {
            let plan = MaskPlan::new(vec![
                open::schedule(weight_vars),
                open::schedule(weight_vars),
                open::schedule(tv),
            ]);
            let mut logs = plan.logs.clone();
            logs.push(SPARE_VARS);
            let layout = MaskedLayout::new(&logs, &vec![false; logs.len()]);
            if layout.num_vars() <= tv {
                return Self { plan, layout };
            }
            tv = layout.num_vars();
        }
    }
}

/// The verifier's challenges.
struct Challenges {
    lambdas: Vec<(usize, EF)>,
    r: Vec<EF>,
    zeta: EF,
    s: Vec<EF>,
}

impl Challenges {
    fn draw(layout: &MaskedLayout, tr: &mut Transcript) -> Self {
        let cols: Vec<usize> = (0..layout.masked.len())
            .filter(|&c| layout.masked[c])
            .collect();
        let lambdas = cols
            .iter()
            .map(|&c| (c, tr.challenge("link-lambda")))
            .collect();
        let k = cols.iter().map(|&c| layout.col_vars(c)).max().unwrap_or(0);
        Self {
            lambdas,
            r: tr.challenge_point("link-r", k),
            zeta: tr.challenge("link-zeta"),
            s: tr.challenge_point("link-s", LINK_VARS),
        }
    }

    /// The linked functional on a table whose shared link mask is column `link`.
    fn functional(&self, layout: &MaskedLayout, link: usize) -> Vec<Term> {
        let mut terms: Vec<Term> = self
            .lambdas
            .iter()
            .map(|&(c, weight)| Term::Point {
                col: c,
                point: self.r[..layout.col_vars(c)].to_vec(),
                weight,
            })
            .collect();
        terms.push(Term::Point {
            col: link,
            point: self.s.clone(),
            weight: self.zeta,
        });
        terms
    }
}

fn start(
    ll: &LinkedLayout,
    identity: &[u8; 32],
    path: &[u8],
    parent: &Commitment,
    child: &Commitment,
) -> Transcript {
    let mut tr = Transcript::new(DOMAIN);
    tr.absorb_bytes(ll.shape.0, &ll.shape.1);
    tr.absorb_bytes(ll.identity_label, identity);
    tr.absorb_bytes("path", path);
    tr.absorb_bytes("parent-commitment", &parent.digest());
    tr.absorb_bytes("child-commitment", &child.digest());
    tr
}

/// Σ_x T(x)·W(x) for the functional's weights W.
fn value_of(layout: &MaskedLayout, table: &[F], terms: &[Term]) -> EF {
    let mut w = vec![EF::ZERO; table.len()];
    layout.add_weights(terms, EF::ONE, &mut w);
    table.iter().zip(&w).map(|(&t, &x)| x * t).sum()
}

/// Proves that `child` (the node at `path`) holds `parent`'s weights, for the model whose
/// published identity is `identity`; `seed` fixes the link's own randomness.
pub fn prove(
    spec: &CircuitSpec,
    identity: &[u8; 32],
    path: &[u8],
    parent: Side<'_>,
    child: Side<'_>,
    seed: [u8; 32],
) -> Result<LinkCertificate> {
    prove_linked(
        &LinkedLayout::weights(spec)?,
        identity,
        path,
        parent,
        child,
        seed,
    )
}

/// [`prove`] for any linked table kind `ll`: `child` holds `parent`'s private columns.
pub fn prove_linked(
    ll: &LinkedLayout,
    identity: &[u8; 32],
    path: &[u8],
    parent: Side<'_>,
    child: Side<'_>,
    seed: [u8; 32],
) -> Result<LinkCertificate> {
    let wl = &ll.layout;
    let (up, down) = (ll.up, ll.down);
    let mut rng = rand::rngs::StdRng::from_seed(seed);
    let mut tr = start(ll, identity, path, parent.commitment, child.commitment);
    let mt = MaskTable::new(wl.num_vars());
    let masks: Vec<Vec<Vec<EF>>> = mt
        .plan
        .schedules
        .iter()
        .map(|s| zksc::random_masks(s, &mut rng))
        .collect();
    let mut cols = mt.plan.columns(&masks);
    cols.push(
        (0..1usize << SPARE_VARS)
            .map(|_| super::random_base(&mut rng))
            .collect(),
    );
    let (mask_table, _) = mt.layout.masked_table(&cols, &mut rng);
    let mask_pcs = Pcs::new(mt.layout.num_vars(), true);
    let (mask_commitment, mask_data) = mask_pcs.commit(mask_table.clone(), rng.random());
    tr.absorb_bytes("link-mask-commitment", &mask_commitment.digest());
    let ch = Challenges::draw(wl, &mut tr);
    let sides = [(parent, down), (child, up)];
    let tables: Vec<Vec<F>> = sides.iter().map(|(s, _)| s.tables.table()).collect();
    let functionals: Vec<Vec<Term>> = sides
        .iter()
        .map(|&(_, link)| ch.functional(wl, link))
        .collect();
    let value = value_of(wl, &tables[0], &functionals[0]);
    if value_of(wl, &tables[1], &functionals[1]) != value && !dishonest::ON.get() {
        return Err(ProofError::Epoch(format!(
            "the epoch node {path:?} holds other {} or link masks than its parent",
            ll.what
        )));
    }
    tr.absorb_ext("link-value", &[value]);
    let mut masks = masks.into_iter();
    let mut batches = Vec::with_capacity(3);
    let mut rhos = Vec::with_capacity(2);
    let mut mask_claims = Vec::new();
    for (s, label) in ["link-open-parent", "link-open-child"]
        .into_iter()
        .enumerate()
    {
        let g = masks.next().expect("three schedules");
        let schedule = mt.plan.schedules[s].clone();
        let start = |tr: &mut Transcript| zksc::Prover::start(g, schedule, label, tr);
        let claims = [(functionals[s].clone(), value)];
        let (proof, rho, t) =
            open::prove_functionals_with(&mut tr, label, wl, &tables[s], &claims, start);
        mask_claims.extend(mt.plan.claims(s, &rho, &proof.mask_evals)?);
        batches.push((proof, t));
        rhos.push(rho);
    }
    let label = "link-open-masks";
    let g = masks.next().expect("three schedules");
    let schedule = mt.plan.schedules[2].clone();
    let start = |tr: &mut Transcript| zksc::Prover::start(g, schedule, label, tr);
    let none = LiftPoint::none();
    let (proof, rho_m, t) = open::prove_with(
        &mut tr,
        label,
        (&mt.layout, &none),
        &mask_table,
        &mask_claims,
        start,
    );
    let own = mt.plan.claims(2, &rho_m, &proof.mask_evals)?;
    batches.push((proof, t));
    let mut mask_points = vec![rho_m];
    mask_points.extend(own.iter().map(|(c, z, _)| {
        mt.layout
            .point(*c, z)
            .expect("the link's mask columns are unmasked")
    }));
    let pcs = &ll.pcs;
    let [(parent, _), (child, _)] = sides;
    let mut openings = Vec::with_capacity(3);
    for (side, rho) in [parent, child].into_iter().zip(rhos) {
        let data = (side.data)()?;
        if data.commitment() != side.commitment {
            return Err(ProofError::Epoch(
                "an epoch node's table no longer gives its commitment".into(),
            ));
        }
        openings.push(pcs.open(data, &[rho], &mut tr).1);
    }
    openings.push(mask_pcs.open(mask_data, &mask_points, &mut tr).1);
    Ok(LinkCertificate {
        mask_commitment,
        value,
        batches,
        openings,
    })
}

/// Checks that `child` (the node at `path`) holds the weights `parent` holds; every failure
/// names the link.
pub fn verify(
    spec: &CircuitSpec,
    identity: &[u8; 32],
    path: &[u8],
    parent: &Commitment,
    child: &Commitment,
    cert: &LinkCertificate,
) -> Result<()> {
    verify_linked(
        &LinkedLayout::weights(spec)?,
        identity,
        path,
        parent,
        child,
        cert,
    )
}

/// [`verify`] for any linked table kind `ll`.
pub fn verify_linked(
    ll: &LinkedLayout,
    identity: &[u8; 32],
    path: &[u8],
    parent: &Commitment,
    child: &Commitment,
    cert: &LinkCertificate,
) -> Result<()> {
    verify_inner(ll, identity, path, parent, child, cert).map_err(|e| match e {
        e @ ProofError::Circuit(_) => e,
        e => ProofError::Pcs(format!(
            "the epoch link to node {path:?} fails, so its commitment is not proved to hold the published {} ({e})",
            ll.what
        )),
    })
}

fn verify_inner(
    ll: &LinkedLayout,
    identity: &[u8; 32],
    path: &[u8],
    parent: &Commitment,
    child: &Commitment,
    cert: &LinkCertificate,
) -> Result<()> {
    for (what, got) in [
        ("link certificate batchings", cert.batches.len()),
        ("link certificate openings", cert.openings.len()),
    ] {
        if got != 3 {
            return Err(ProofError::Shape {
                what,
                expected: 3,
                got,
            });
        }
    }
    let wl = &ll.layout;
    let (up, down) = (ll.up, ll.down);
    let mut tr = start(ll, identity, path, parent, child);
    let mt = MaskTable::new(wl.num_vars());
    tr.absorb_bytes("link-mask-commitment", &cert.mask_commitment.digest());
    let ch = Challenges::draw(wl, &mut tr);
    tr.absorb_ext("link-value", &[cert.value]);
    let mut rhos = Vec::with_capacity(2);
    let mut mask_claims = Vec::new();
    for (s, (label, link)) in [("link-open-parent", down), ("link-open-child", up)]
        .into_iter()
        .enumerate()
    {
        let (proof, t) = &cert.batches[s];
        let claims = [(ch.functional(wl, link), cert.value)];
        let rho = open::verify_functionals_with(
            &mt.plan.schedules[s],
            &mut tr,
            label,
            wl,
            &claims,
            proof,
            *t,
        )?;
        mask_claims.extend(mt.plan.claims(s, &rho, &proof.mask_evals)?);
        rhos.push(rho);
    }
    let (proof, t_m) = &cert.batches[2];
    let rho_m = open::verify_with(
        &mt.plan.schedules[2],
        &mut tr,
        "link-open-masks",
        (&mt.layout, &LiftPoint::none()),
        &mask_claims,
        proof,
        *t_m,
    )?;
    let mut mask_points = vec![(rho_m.clone(), *t_m)];
    for (c, z, v) in mt.plan.claims(2, &rho_m, &proof.mask_evals)? {
        let p = mt
            .layout
            .point(c, &z)
            .ok_or_else(|| ProofError::Malformed("a link mask column is masked".into()))?;
        mask_points.push((p, v));
    }
    for (s, c) in [parent, child].into_iter().enumerate() {
        ll.pcs.verify(
            c,
            &[rhos[s].clone()],
            &[cert.batches[s].1],
            &cert.openings[s],
            &mut tr,
        )?;
    }
    let (points, values): (Vec<Vec<EF>>, Vec<EF>) = mask_points.into_iter().unzip();
    Pcs::try_new(mt.layout.num_vars(), true)?.verify(
        &cert.mask_commitment,
        &points,
        &values,
        &cert.openings[2],
        &mut tr,
    )
}

/// Tests of a dishonest owner: while set, [`prove`] claims the parent's value for a child that
/// holds other weights instead of refusing.
pub(crate) mod dishonest {
    thread_local! {
        pub(crate) static ON: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
}

#[cfg(test)]
#[path = "link_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "link_review_tests.rs"]
mod review_tests;
