//! Multilinear polynomial commitment: WHIR (`p3-whir`) over Goldilocks with Blake3 Merkle trees.
//!
//! # Conventions
//!
//! * A committed polynomial has `2^num_vars` base-field evaluations over the boolean hypercube.
//!   Bit `i` of the evaluation index is variable `i` (**little-endian**: `point[0]` is the lowest
//!   index bit). `p3-whir` / `p3-multilinear-util` use the opposite (big-endian) order, so every
//!   point is reversed before it reaches WHIR.
//! * **Padding.** WHIR needs a minimum size (the first fold and the query budget must fit, and the
//!   hiding code needs slack rows for its randomness). [`Pcs::new`] picks the smallest
//!   `padded_vars >= max(num_vars, PcsParams::min_num_vars)` that gives a valid configuration
//!   (`min_num_vars = 8`; hiding mode pads small polynomials to 12–13 variables). The evaluation
//!   table is extended with zeros to `2^padded_vars` entries, i.e. new *high* variables
//!   `x_num_vars .. x_{padded_vars-1}` are added and `f'(x) = f(x_0..x_{n-1}) · Π_{i>=n} (1 - x_i)`.
//!   A point `z` of length `num_vars` is opened as `z ‖ 0…0`, so `f'(z ‖ 0) = f(z)`. Callers never
//!   see the padding; `num_vars = 0` (a constant) works the same way.
//!
//! # Transcript binding
//!
//! `commit` needs no transcript (the weights are committed at compile time): WHIR's commit wants
//! a challenger, so a throw-away one is used and only the Merkle root is kept. The *caller*
//! absorbs [`Commitment::digest`] into its transcript before using the commitment. [`Pcs::open`]
//! and [`Pcs::verify`] then do, in the same order:
//!
//! 1. absorb the commitment digest (label `pcs.commitment`; the digest hashes a version tag, the
//!    parameter description, `num_vars`, the hiding flag and the Merkle root), then
//!    `num_vars` and the number of points (`pcs.shape`) and all points (`pcs.points`);
//! 2. hand the inner challenger to WHIR, which observes every claimed value (and, in hiding mode,
//!    the Merkle root and the points once more) before it samples its first challenge.
//!
//! So changing the commitment, a point, a value or any proof byte changes the challenges or fails
//! a check. The claimed values are not stored in the [`OpeningProof`]; the verifier gets them
//! from the caller.
//!
//! # Parameters and soundness
//!
//! Default ([`PcsParams::default`], per size [`PcsParams::for_size`]): 100 **provable** bits
//! under the Johnson bound. `p3-whir` lays out the rounds (folding schedule, per-round rates);
//! zkgrad then re-derives every count and grinding level itself ([`params`]'s
//! `provable_rounds`, the analysis of [`crate::security::whir_components`]): every oracle is
//! analysed at the Johnson radius `δ = 1 − √ρ − η` with `η = √ρ/6` (proximity parameter m = 3:
//! list size `3/ρ`, and the mutual-correlated-agreement error of Ben-Sasson–Carmon–Haböck–
//! Kopparty–Saraf, eprint 2025/2055, Thm 1.5, with all its terms), challenges in the 128-bit
//! extension `EF`, Blake3 as a random oracle, 12 bits of grinding before each query phase and
//! at most 12 for each folding round (16 for the first fold of 2^24+ tables). No conjecture
//! about list decoding up to capacity is used (it is refuted in general, ePrint 2025/2046).
//! Small tables (≤ 14 variables) fold all but 6 variables at once at rate 1/32 (1/64 from 13
//! variables); larger ones fold 5 variables per round from rate 1/4 (6 then 5 at 17, 7 then 5
//! at 18). A table committed once and opened many times (the weights, [`Pcs::for_reused`])
//! starts from [`PcsParams::for_reused_size`]: the same schedule with a rate step of 3 at 15–18
//! variables, which keeps its base case at a Johnson radius. Every size `0 ..= MAX_NUM_VARS` (28)
//! reaches 100 bits in both modes (unit test `security::tests::every_table_size_reaches_100_bits`).
//! `PcsParams { assumption: CapacityBound, .. }` keeps `p3-whir`'s own conjectured sizing for
//! comparisons only; proofs never use it (the proof header records the assumption and the
//! verifier rejects any other).
//!
//! # Hiding (zero-knowledge) mode
//!
//! `hiding = true` uses `p3-whir`'s HVZK-WHIR ([`HidingWhirPcs`], eprint 2026/391): the first
//! oracle is a randomised Reed–Solomon encoding, every sumcheck is masked, out-of-domain answers
//! are padded, and the base case is one-time padded. On top of that every Merkle leaf is salted
//! (`MerkleTreeHidingMmcs`, 2 Goldilocks salt elements = 128 bits per leaf), so unopened leaf
//! digests reveal nothing either. All commit randomness (encoding randomness, salts) is derived
//! from the caller's 32-byte seed with a seeded ChaCha-based `StdRng` (rand 0.10, pinned through
//! `Cargo.lock`), so `commit(evals, seed)` is reproducible. Opening randomness is derived from the
//! same secret seed *and* the current transcript state (a forked challenger), so two openings in
//! different transcripts never reuse masks, while the same opening in the same transcript is
//! reproducible. The guarantee is honest-verifier ZK as analysed in the HVZK-WHIR paper (the
//! transcript is Fiat–Shamir, so the verifier is honest by construction); only the opened values,
//! the sizes and the parameters are revealed. Whoever knows the seed can strip the masks: keep it
//! secret.
//!
//! **Hiding soundness.** `p3-security`'s diagnostic for the HVZK base case
//! (`ZkWhirConfig::hiding_base_case_security_report`) is vacuous over a 2^128 challenge field
//! when every code is analysed at a Johnson radius: its batching (γ) round multiplies the list
//! sizes of the source code and of every mask code. zkgrad instead analyses every mask code at
//! its unique-decoding radius (list size 1) and sizes the mask spot checks for it, and gives
//! the source the fewest spot checks for which the best provable analysis reaches the target
//! in both the query and the γ round (`params::with_ud_masks`, [`crate::security::BaseCase`]).
//! The price: HVZK openings are ~2.5× larger than under the old (conjectured) parameters,
//! mostly mask-code spot checks.

mod merkle;
mod params;

use std::panic::{AssertUnwindSafe, catch_unwind};

use p3_challenger::{CanObserve, CanSample};
use p3_commit::MultilinearPcs;
use p3_field::{PrimeCharacteristicRing, PrimeField64};
use p3_matrix::dense::RowMajorMatrix;
use p3_multilinear_util::point::Point;
use p3_multilinear_util::poly::Poly;
use p3_sumcheck::layout::{Layout, Table};
use p3_sumcheck::{OpeningBatch, OpeningProtocol, PrescribedPointPcs, TableShape, TableSpec};
use p3_symmetric::MerkleCap;
use p3_whir::{
    HidingWhirProverData, WhirConfig, WhirProof, WhirProverData, ZkParameters, ZkWhirConfig,
    ZkWhirProof,
};
use rand_p3::SeedableRng;
use rand_p3::rngs::StdRng;
use serde::{Deserialize, Serialize};

use crate::error::ProofError;
use crate::field::{EF, F};
use crate::transcript::{Challenger, Transcript};

use merkle::*;
pub use params::PcsParams;

// ---------------------------------------------------------------------------------------------
// Public types.
// ---------------------------------------------------------------------------------------------

/// Public commitment to one multilinear polynomial.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Commitment {
    /// Number of variables of the committed polynomial (before internal padding).
    pub num_vars: u32,
    /// Whether the commitment was made in hiding (zero-knowledge) mode.
    pub hiding: bool,
    /// Merkle root of the first WHIR codeword.
    pub root: [u8; 32],
    /// Hash of the PCS parameters the commitment was made with.
    pub params: [u8; 32],
}

impl Commitment {
    /// Binding digest of the commitment: version tag, parameters, shape, hiding flag and root.
    /// Absorb this into the transcript before relying on the commitment.
    pub fn digest(&self) -> [u8; 32] {
        let mut h = blake3::Hasher::new();
        h.update(&(DIGEST_TAG.len() as u64).to_le_bytes());
        h.update(DIGEST_TAG);
        h.update(&self.params);
        h.update(&u64::from(self.num_vars).to_le_bytes());
        h.update(&[u8::from(self.hiding)]);
        h.update(&self.root);
        *h.finalize().as_bytes()
    }

    fn cap(&self) -> Root {
        MerkleCap::new(vec![self.root])
    }
}

enum DataInner {
    Plain(WhirProverData<F, EF, PlainMmcs, PlainLayout>),
    Hiding {
        data: HidingWhirProverData<F, EF, HidingMmcs>,
        seed: [u8; 32],
    },
}

/// Prover-side data kept between `commit` and `open` (the codeword and its Merkle tree).
pub struct ProverData {
    commitment: Commitment,
    inner: DataInner,
}

impl ProverData {
    /// The commitment this data opens.
    pub fn commitment(&self) -> &Commitment {
        &self.commitment
    }

    /// A copy for another opening of the same commitment (e.g. the weights, once per proof),
    /// without re-encoding. Only the non-hiding data can be copied (`p3-whir`'s hiding prover
    /// data is not `Clone`); in hiding mode recompute it with `commit(evals, seed)` instead.
    pub fn try_clone(&self) -> Option<ProverData> {
        match &self.inner {
            DataInner::Plain(d) => Some(ProverData {
                commitment: self.commitment.clone(),
                inner: DataInner::Plain(d.clone()),
            }),
            DataInner::Hiding { .. } => None,
        }
    }
}

impl std::fmt::Debug for ProverData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProverData")
            .field("commitment", &self.commitment)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Serialize, Deserialize)]
enum ProofBody {
    Plain(WhirProof<F, EF, PlainMmcs>),
    Hiding(ZkWhirProof<F, EF, HidingMmcs>),
}

/// One WHIR opening proof for several points of one commitment. The claimed values are *not*
/// stored here: the verifier receives them separately (they are bound by the transcript).
#[derive(Clone, Serialize, Deserialize)]
pub struct OpeningProof {
    body: ProofBody,
}

impl std::fmt::Debug for OpeningProof {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mode = match &self.body {
            ProofBody::Plain(p) => format!("plain WHIR, {} rounds", p.rounds.len()),
            ProofBody::Hiding(p) => format!("HVZK-WHIR, {} rounds", p.rounds.len()),
        };
        f.debug_struct("OpeningProof")
            .field("mode", &mode)
            .finish_non_exhaustive()
    }
}

impl OpeningProof {
    /// Size in bytes with the bincode 2 `standard()` configuration.
    pub fn size_bytes(&self) -> usize {
        encoded_len(self)
    }

    /// Encoded size of each part of the proof (for `--verbose` reports and tuning).
    pub fn size_breakdown(&self) -> Vec<(String, usize)> {
        let mut out = Vec::new();
        match &self.body {
            ProofBody::Plain(p) => {
                out.push(("initial sumcheck".into(), encoded_len(&p.initial_sumcheck)));
                for (i, r) in p.rounds.iter().enumerate() {
                    out.push((format!("round {i} queries"), encoded_len(&r.openings)));
                    out.push((
                        format!("round {i} other"),
                        encoded_len(r) - encoded_len(&r.openings),
                    ));
                }
                out.push(("final queries".into(), encoded_len(&p.final_openings)));
                out.push(("final poly".into(), encoded_len(&p.final_poly)));
                out.push(("final sumcheck".into(), encoded_len(&p.final_sumcheck)));
            }
            ProofBody::Hiding(p) => {
                out.push(("sumchecks".into(), encoded_len(&p.sumchecks)));
                out.push((
                    "mask commitments".into(),
                    encoded_len(&p.sumcheck_mask_commitments),
                ));
                for (i, r) in p.rounds.iter().enumerate() {
                    out.push((format!("round {i} queries"), encoded_len(&r.openings)));
                    out.push((
                        format!("round {i} other"),
                        encoded_len(r) - encoded_len(&r.openings),
                    ));
                }
                let b = &p.base_case;
                out.push((
                    "base case source queries".into(),
                    encoded_len(&b.source_openings),
                ));
                out.push((
                    "base case fresh queries".into(),
                    encoded_len(&b.fresh_main_openings),
                ));
                out.push((
                    "base case mask queries".into(),
                    encoded_len(&b.mask_openings),
                ));
                out.push((
                    "base case blinded message".into(),
                    encoded_len(&b.blinded_message),
                ));
                out.push((
                    "base case blinded masks".into(),
                    encoded_len(&b.blinded_masks),
                ));
                out.push((
                    "base case blinded randomness".into(),
                    encoded_len(&b.blinded_randomness),
                ));
            }
        }
        out
    }
}

fn encoded_len<T: Serialize>(v: &T) -> usize {
    bincode::serde::encode_to_vec(v, bincode::config::standard()).map_or(0, |v| v.len())
}

enum Engine {
    Plain(PlainWhir),
    Hiding(ZkWhirConfig<EF, F, Challenger>),
}

/// A WHIR polynomial commitment scheme fixed for one polynomial size.
///
/// Multilinear convention: the polynomial has `2^num_vars` evaluations over the boolean
/// hypercube, and bit `i` of the evaluation index is variable `i` (little-endian: `point[0]` is
/// the lowest index bit). See the module documentation for padding, binding and hiding.
pub struct Pcs {
    num_vars: usize,
    padded_vars: usize,
    hiding: bool,
    params: PcsParams,
    params_hash: [u8; 32],
    dft: Dft,
    engine: Engine,
}

impl std::fmt::Debug for Pcs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pcs")
            .field("num_vars", &self.num_vars)
            .field("padded_vars", &self.padded_vars)
            .field("hiding", &self.hiding)
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

/// Largest supported number of variables (larger tables need more first-fold grinding than
/// allowed; memory would be the next limit).
pub const MAX_NUM_VARS: usize = 28;

/// How far [`Pcs::for_reused`] may lower the starting rate (2^-8 below the default's).
const MAX_EXTRA_RATE: usize = 8;

/// Largest number of points one opening may carry (enters [`Pcs::soundness_bits`]).
pub const MAX_POINTS: usize = 1 << 20;

impl Pcs {
    /// PCS for polynomials in `num_vars` variables (`0 ..= MAX_NUM_VARS`), with the parameters
    /// proofs use ([`PcsParams::for_size`]).
    ///
    /// # Panics
    /// If `num_vars > MAX_NUM_VARS` (use [`Pcs::try_new`] to get an error instead).
    pub fn new(num_vars: usize, hiding: bool) -> Self {
        Self::try_new(num_vars, hiding).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Pcs::new`] but returns an error for unsupported sizes.
    pub fn try_new(num_vars: usize, hiding: bool) -> Result<Self, ProofError> {
        Self::with_params(num_vars, hiding, PcsParams::for_size(num_vars, hiding))
    }

    /// PCS for a table committed once and opened `openings` times (the weights): the first
    /// oracle carries randomness for that many openings ([`PcsParams::openings`]). From
    /// [`PcsParams::for_reused_size`], the starting rate is lowered, one step at a time, until
    /// the randomness fits without padding the table to more variables (padding would cost
    /// every opening; a lower rate costs the commitment, made once).
    pub fn for_reused(num_vars: usize, openings: usize) -> Result<Self, ProofError> {
        Self::for_reused_with(num_vars, openings, PcsParams::for_reused_size(num_vars))
    }

    /// [`Pcs::for_reused`] from other base parameters (tuning: `examples/pcs_tuning.rs`).
    pub fn for_reused_with(
        num_vars: usize,
        openings: usize,
        base: PcsParams,
    ) -> Result<Self, ProofError> {
        // A preferred rate step falls back to the automatic one at the same rate.
        let with_step = |params: PcsParams, padded: std::ops::RangeInclusive<usize>| {
            let fallback = params.rate_step.map(|_| PcsParams {
                rate_step: None,
                ..params.clone()
            });
            Self::with_params_in(num_vars, true, params, padded.clone()).or_else(|e| match fallback
            {
                Some(automatic) => Self::with_params_in(num_vars, true, automatic, padded),
                None => Err(e),
            })
        };
        if openings <= 1 {
            let start = num_vars
                .max(base.min_num_vars)
                .max(base.first_folding_factor);
            return with_step(base, start..=(start + 12).min(MAX_NUM_VARS + 8));
        }
        let unpadded = Self::try_new(num_vars, true)?.padded_vars;
        for extra in 0..=MAX_EXTRA_RATE {
            let params = PcsParams {
                openings,
                starting_log_inv_rate: base.starting_log_inv_rate + extra,
                ..base.clone()
            };
            if let Ok(pcs) = with_step(params, unpadded..=unpadded) {
                return Ok(pcs);
            }
        }
        Err(ProofError::Pcs(format!(
            "no valid WHIR configuration hides {openings} openings of a table of {num_vars} variables"
        )))
    }

    /// PCS with explicit parameters (benchmarking; the default is what proofs use).
    pub fn with_params(
        num_vars: usize,
        hiding: bool,
        params: PcsParams,
    ) -> Result<Self, ProofError> {
        let start = num_vars
            .max(params.min_num_vars)
            .max(params.first_folding_factor);
        // The smallest padded size that yields a valid configuration. Larger sizes only ever add
        // slack, so a few steps suffice for sane parameters.
        Self::with_params_in(
            num_vars,
            hiding,
            params,
            start..=(start + 12).min(MAX_NUM_VARS + 8),
        )
    }

    /// [`Pcs::with_params`] trying the given padded sizes, smallest first; for each, the
    /// largest rate step that gives a valid configuration.
    fn with_params_in(
        num_vars: usize,
        hiding: bool,
        params: PcsParams,
        padded_sizes: std::ops::RangeInclusive<usize>,
    ) -> Result<Self, ProofError> {
        if num_vars > MAX_NUM_VARS {
            return Err(ProofError::Pcs(format!(
                "polynomial with {num_vars} variables exceeds the supported maximum {MAX_NUM_VARS}"
            )));
        }
        let params_hash = *blake3::hash(&params.describe()).as_bytes();
        let mut last_err = String::new();
        for padded_vars in padded_sizes {
            for step in params.rate_steps() {
                let protocol = params.protocol(padded_vars, step);
                let engine = if hiding {
                    let zk = ZkParameters {
                        ell_zk: params.zk_ell,
                        mask_log_inv_rate: params.zk_mask_log_inv_rate,
                    };
                    match ZkWhirConfig::<EF, F, Challenger>::new(padded_vars, protocol, zk) {
                        // The provable base-case sizing; the conjectured regime keeps p3-whir's.
                        Ok(cfg)
                            if params.assumption == p3_whir::SecurityAssumption::CapacityBound =>
                        {
                            Engine::Hiding(cfg)
                        }
                        Ok(cfg) => match params::with_ud_masks(cfg, &params) {
                            Ok(cfg) => Engine::Hiding(cfg),
                            Err(e) => {
                                last_err = e;
                                continue;
                            }
                        },
                        Err(e) => {
                            last_err = e.to_string();
                            continue;
                        }
                    }
                } else {
                    match WhirConfig::<EF, F, Challenger>::new(padded_vars, protocol) {
                        Ok(mut cfg) => {
                            if params.provable() {
                                if let Err(e) = params::provable_rounds(&mut cfg, &params) {
                                    last_err = e;
                                    continue;
                                }
                            }
                            Engine::Plain(PlainWhir::new(cfg, Dft::default(), plain_mmcs()))
                        }
                        Err(e) => {
                            last_err = e.to_string();
                            continue;
                        }
                    }
                };
                return Ok(Self {
                    num_vars,
                    padded_vars,
                    hiding,
                    params,
                    params_hash,
                    dft: Dft::default(),
                    engine,
                });
            }
        }
        Err(ProofError::Pcs(format!(
            "no valid WHIR configuration for {num_vars} variables (hiding = {hiding}): {last_err}"
        )))
    }

    /// Number of variables of the committed polynomials.
    pub fn num_vars(&self) -> usize {
        self.num_vars
    }

    /// Number of variables WHIR actually runs on (after zero-padding small polynomials).
    pub fn padded_num_vars(&self) -> usize {
        self.padded_vars
    }

    /// One-line description of the derived WHIR schedule (for `--verbose` output).
    pub fn config_summary(&self) -> String {
        let whir = match &self.engine {
            Engine::Plain(w) => &w.config,
            Engine::Hiding(c) => &c.inner,
        };
        let rounds: Vec<String> = whir
            .round_parameters
            .iter()
            .map(|r| {
                format!(
                    "{}q/rate 2^-{}/pow {}+{}",
                    r.num_queries, r.log_inv_rate, r.pow_bits, r.folding_pow_bits
                )
            })
            .collect();
        let (final_q, final_pow) = match &self.engine {
            Engine::Plain(w) => (w.config.final_queries, w.config.final_pow_bits),
            Engine::Hiding(c) => (c.final_queries, c.final_pow_bits),
        };
        let mut s = format!(
            "WHIR{} {:?} {} bits (pow budget {}), vars {} (padded {}), start rate 2^-{}, folding {:?}, rounds [{}], final {}q/pow {}",
            if self.hiding { " (HVZK)" } else { "" },
            self.params.assumption,
            self.params.security_level,
            self.params.pow_bits,
            self.num_vars,
            self.padded_vars,
            self.params.starting_log_inv_rate,
            whir.folding_schedule,
            rounds.join(", "),
            final_q,
            final_pow,
        );
        if let Engine::Hiding(c) = &self.engine {
            s += &format!(
                ", mask queries {}, randomness {:?}",
                c.mask_queries, c.oracle_randomness
            );
        }
        s
    }

    /// What one opening reveals of the committed (first) codeword, against the randomness that
    /// hides it, in hiding mode: `(spot checks per opening, randomness coefficients per limb)`.
    /// HVZK-WHIR's budget rule: an opening is simulatable while the leaves opened on the oracle,
    /// over all openings ever made of it, number at most its randomness (`zk/budget.rs`).
    pub fn first_oracle_exposure(&self) -> Option<(usize, usize)> {
        match &self.engine {
            Engine::Plain(_) => None,
            Engine::Hiding(c) => {
                let queries = c
                    .inner
                    .round_parameters
                    .first()
                    .map_or(c.final_queries, |r| r.num_queries);
                Some((queries, c.oracle_randomness.first().copied().unwrap_or(0)))
            }
        }
    }

    /// Whether this PCS is in hiding (zero-knowledge) mode.
    pub fn hiding(&self) -> bool {
        self.hiding
    }

    /// Parameters in use.
    pub fn params(&self) -> &PcsParams {
        &self.params
    }

    /// Soundness of one opening of `points` points, in bits: the weakest of its round-by-round
    /// components under the Johnson bound ([`crate::security::whir_components`]).
    pub fn soundness_bits(&self, points: usize) -> f64 {
        self.soundness_components("WHIR", points)
            .iter()
            .map(|c| c.bits)
            .fold(f64::INFINITY, f64::min)
    }

    /// The round-by-round soundness components of one opening of `points` points (Johnson
    /// bound, grinding included), each named `"{label}: <phase>"`.
    pub fn soundness_components(
        &self,
        label: &str,
        points: usize,
    ) -> Vec<crate::security::Component> {
        match &self.engine {
            Engine::Plain(w) => crate::security::whir_components(
                label,
                self.params.regime(),
                &w.config,
                None,
                points,
            ),
            Engine::Hiding(c) => crate::security::whir_components(
                label,
                self.params.regime(),
                &c.inner,
                Some(c),
                points,
            ),
        }
    }

    fn new_commitment(&self, root: [u8; 32]) -> Commitment {
        Commitment {
            num_vars: self.num_vars as u32,
            hiding: self.hiding,
            root,
            params: self.params_hash,
        }
    }

    /// Commits to `evals` (`2^num_vars` values, little-endian index convention).
    ///
    /// Deterministic given `(evals, seed)`: all randomness (hiding encoding randomness and
    /// Merkle salts) is derived from `seed`, so the owner can recompute the same commitment
    /// and prover data later. In non-hiding mode the seed is ignored.
    ///
    /// # Panics
    /// If `evals.len() != 2^num_vars`.
    pub fn commit(&self, mut evals: Vec<F>, seed: [u8; 32]) -> (Commitment, ProverData) {
        assert_eq!(
            evals.len(),
            1usize << self.num_vars,
            "pcs: expected 2^{} evaluations, got {}",
            self.num_vars,
            evals.len()
        );
        // Zero-padding adds high variables (see module docs).
        evals.resize(1usize << self.padded_vars, F::ZERO);
        let mut scratch = scratch_challenger();
        match &self.engine {
            Engine::Plain(whir) => {
                let table = Table::new(RowMajorMatrix::new(evals, 1usize << self.padded_vars));
                let witness =
                    PlainLayout::new_witness(vec![table], whir.config.round_folding_factor(0));
                let (cap, data) =
                    MultilinearPcs::<EF, Challenger>::commit(whir, witness, &mut scratch);
                let commitment = self.new_commitment(cap.roots()[0]);
                (
                    commitment.clone(),
                    ProverData {
                        commitment,
                        inner: DataInner::Plain(data),
                    },
                )
            }
            Engine::Hiding(cfg) => {
                let pcs = HidingWhir::new(
                    cfg.clone(),
                    self.dft.clone(),
                    hiding_mmcs(derive_rng(&seed, "commit.salts", &[])),
                    derive_rng(&seed, "commit.encoding", &[]),
                );
                let (cap, data) = pcs.commit(Poly::new(evals), &mut scratch);
                let commitment = self.new_commitment(cap.roots()[0]);
                (
                    commitment.clone(),
                    ProverData {
                        commitment,
                        inner: DataInner::Hiding { data, seed },
                    },
                )
            }
        }
    }

    /// Converts a little-endian point of `num_vars` coordinates to WHIR's big-endian point over
    /// the padded variables.
    fn whir_point(&self, point: &[EF]) -> Point<EF> {
        let mut coords: Vec<EF> = point.to_vec();
        coords.resize(self.padded_vars, EF::ZERO);
        coords.reverse();
        Point::new(coords)
    }

    fn plain_protocol(&self, num_points: usize) -> OpeningProtocol {
        OpeningProtocol::new(vec![TableSpec::new(
            TableShape::new(self.padded_vars, 1),
            vec![OpeningBatch::new(vec![0], Vec::new()); num_points],
        )])
    }

    /// Absorbs what both sides bind before WHIR runs: the commitment digest and the points.
    fn bind(&self, commitment: &Commitment, points: &[Vec<EF>], transcript: &mut Transcript) {
        transcript.absorb_bytes("pcs.commitment", &commitment.digest());
        transcript.absorb_u64s("pcs.shape", &[self.num_vars as u64, points.len() as u64]);
        let flat: Vec<EF> = points.iter().flatten().copied().collect();
        transcript.absorb_ext("pcs.points", &flat);
    }

    /// Opens the committed polynomial at every point in `points` (each of length `num_vars`,
    /// little-endian) with one proof. Returns the evaluations and the proof.
    ///
    /// # Panics
    /// If `points` is empty, a point has the wrong length, or the data belongs to another mode.
    pub fn open(
        &self,
        data: ProverData,
        points: &[Vec<EF>],
        transcript: &mut Transcript,
    ) -> (Vec<EF>, OpeningProof) {
        assert!(!points.is_empty(), "pcs: open needs at least one point");
        assert!(
            points.len() <= MAX_POINTS,
            "pcs: more than {MAX_POINTS} points"
        );
        for p in points {
            assert_eq!(
                p.len(),
                self.num_vars,
                "pcs: point has {} coordinates, expected {}",
                p.len(),
                self.num_vars
            );
        }
        assert_eq!(
            data.commitment.num_vars as usize, self.num_vars,
            "pcs: prover data of another size"
        );
        self.bind(&data.commitment, points, transcript);
        let whir_points: Vec<Point<EF>> = points.iter().map(|p| self.whir_point(p)).collect();
        match (&self.engine, data.inner) {
            (Engine::Plain(whir), DataInner::Plain(d)) => {
                let protocol = self.plain_protocol(points.len());
                let proof = PrescribedPointPcs::<EF, Challenger>::open_at(
                    whir,
                    d,
                    &protocol,
                    &whir_points,
                    transcript.challenger_mut(),
                );
                let values = proof.evals.iter().map(|b| b.current()[0]).collect();
                (
                    values,
                    OpeningProof {
                        body: ProofBody::Plain(proof.whir),
                    },
                )
            }
            (Engine::Hiding(cfg), DataInner::Hiding { data: d, seed }) => {
                // Opening randomness: secret seed + a fork of the transcript (not advanced).
                let mut fork = transcript.challenger_mut().clone();
                let nonce: [F; 4] = core::array::from_fn(|_| fork.sample());
                let mut ctx: Vec<u8> = nonce
                    .iter()
                    .flat_map(|x| x.as_canonical_u64().to_le_bytes())
                    .collect();
                ctx.extend_from_slice(&data.commitment.root);
                let pcs = HidingWhir::new(
                    cfg.clone(),
                    self.dft.clone(),
                    hiding_mmcs(derive_rng(&seed, "open.salts", &ctx)),
                    derive_rng(&seed, "open.masks", &ctx),
                );
                // The hiding verifier observes the root itself; mirror it here.
                transcript.challenger_mut().observe(data.commitment.cap());
                let mut proof = MultilinearPcs::<EF, Challenger>::open(
                    &pcs,
                    d,
                    whir_points,
                    transcript.challenger_mut(),
                );
                let values = std::mem::take(&mut proof.evals);
                (
                    values,
                    OpeningProof {
                        body: ProofBody::Hiding(proof),
                    },
                )
            }
            _ => panic!("pcs: prover data was made in the other (hiding / non-hiding) mode"),
        }
    }

    /// Verifies that the committed polynomial takes `values[i]` at `points[i]`.
    ///
    /// Never panics on any proof contents: every rejection is `Err(ProofError::Pcs(..))`.
    pub fn verify(
        &self,
        commitment: &Commitment,
        points: &[Vec<EF>],
        values: &[EF],
        proof: &OpeningProof,
        transcript: &mut Transcript,
    ) -> Result<(), ProofError> {
        let reject = |msg: String| Err(ProofError::Pcs(msg));
        if commitment.num_vars as usize != self.num_vars {
            return reject(format!(
                "commitment is for {} variables, expected {}",
                commitment.num_vars, self.num_vars
            ));
        }
        if commitment.hiding != self.hiding {
            return reject("commitment hiding mode differs from the verifier's".into());
        }
        if commitment.params != self.params_hash {
            return reject("commitment was made with other PCS parameters".into());
        }
        if points.is_empty() || points.len() > MAX_POINTS {
            return reject(format!(
                "{} opening points (allowed: 1 ..= {MAX_POINTS})",
                points.len()
            ));
        }
        if points.len() != values.len() {
            return reject(format!(
                "{} points but {} values",
                points.len(),
                values.len()
            ));
        }
        if let Some(p) = points.iter().find(|p| p.len() != self.num_vars) {
            return reject(format!(
                "point has {} coordinates, expected {}",
                p.len(),
                self.num_vars
            ));
        }
        self.check_shape(&proof.body)?;
        self.bind(commitment, points, transcript);
        let whir_points: Vec<Point<EF>> = points.iter().map(|p| self.whir_point(p)).collect();
        let cap = commitment.cap();

        let result = catch_unwind(AssertUnwindSafe(|| -> Result<(), String> {
            match (&self.engine, &proof.body) {
                (Engine::Plain(whir), ProofBody::Plain(wp)) => {
                    let protocol = self.plain_protocol(points.len());
                    let full = p3_whir::PcsProof {
                        whir: wp.clone(),
                        evals: values
                            .iter()
                            .map(|&v| OpeningBatch::new(vec![v], Vec::new()))
                            .collect(),
                    };
                    PrescribedPointPcs::<EF, Challenger>::verify_at(
                        whir,
                        &cap,
                        &full,
                        &protocol,
                        &whir_points,
                        transcript.challenger_mut(),
                    )
                    .map(|_| ())
                    .map_err(|e| format!("WHIR: {e}"))
                }
                (Engine::Hiding(cfg), ProofBody::Hiding(zp)) => {
                    let pcs = HidingWhir::new(
                        cfg.clone(),
                        self.dft.clone(),
                        hiding_mmcs(StdRng::from_seed([0; 32])),
                        StdRng::from_seed([0; 32]),
                    );
                    let mut full = zp.clone();
                    full.evals = values.to_vec();
                    MultilinearPcs::<EF, Challenger>::verify(
                        &pcs,
                        &cap,
                        &full,
                        transcript.challenger_mut(),
                        whir_points,
                    )
                    .map_err(|e| format!("HVZK-WHIR: {e}"))
                }
                _ => Err("proof mode (hiding / non-hiding) differs from the verifier's".into()),
            }
        }));
        match result {
            Ok(Ok(())) => Ok(()),
            Ok(Err(msg)) => Err(ProofError::Pcs(msg)),
            Err(_) => Err(ProofError::Pcs(
                "malformed proof (verifier check panicked)".into(),
            )),
        }
    }

    /// Cheap structural checks that p3 types cannot express (a deserialised Merkle cap may hold
    /// any number of roots; we commit with one root).
    fn check_shape(&self, body: &ProofBody) -> Result<(), ProofError> {
        let one_root = |c: &Root| c.num_roots() == 1;
        let ok = match body {
            ProofBody::Plain(p) => p
                .rounds
                .iter()
                .all(|r| r.commitment.as_ref().is_none_or(one_root)),
            ProofBody::Hiding(p) => {
                p.sumcheck_mask_commitments.iter().all(one_root)
                    && p.rounds
                        .iter()
                        .all(|r| one_root(&r.commitment) && one_root(&r.mask_commitment))
                    && one_root(&p.base_case.fresh_main_commitment)
                    && p.base_case.fresh_mask_commitments.iter().all(one_root)
                    && p.evals.is_empty()
            }
        };
        if ok {
            Ok(())
        } else {
            Err(ProofError::Pcs(
                "malformed proof: bad Merkle commitment shape".into(),
            ))
        }
    }
}
