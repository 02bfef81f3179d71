//! Soundness calculator: the probability that a false statement passes, per component of a
//! proof, computed from the parameters — no conjecture beyond the Johnson bound.
//!
//! # What is computed
//!
//! Every component gets a figure in bits, `−log2` of its error probability:
//!
//! * a sumcheck of `n` rounds of degree ≤ `d` over the challenge field `EF`: `n·d/|EF|`
//!   ([`sumcheck_bits`]);
//! * a random evaluation point (zero-checks, batching of claims): Schwartz–Zippel, `deg/|EF|`
//!   ([`point_bits`]);
//! * a LogUp argument: the identity `Σ 1/(α − v) = Σ m/(α − T)` is a rational function of `α`
//!   whose cleared numerator has degree below `lookups + table entries`, so a random `α` errs
//!   with probability `< (lookups + table)/|EF|` ([`logup_bits`]);
//! * each WHIR opening ([`whir_components`]): the round-by-round errors of the WHIR paper
//!   (Arnon–Chiesa–Fenzi–Yogev, eprint 2024/1586, Thm 5.2) at the Johnson radius
//!   `δ = 1 − √ρ − η`, `η = √ρ/20`: list size `L = 1/(2η√ρ)`, folding (mutual correlated
//!   agreement, Ben-Sasson–Carmon–Haböck–Kopparty–Saraf, eprint 2025/2055, Thm 1.5, *all*
//!   terms kept, not only the dominant one), out-of-domain samples, shift queries
//!   `(1 − δ)^t` plus the combination term, and the proof of work each phase grinds;
//! * in hiding mode, the HVZK-WHIR base case (eprint 2026/391, Construction 7.2), see below.
//!
//! The figure printed for a proof is the **minimum** over all components with the weakest
//! component's name: the round-by-round soundness error `ε` of the interactive protocol, which
//! bounds the Fiat–Shamir transform's soundness against an adversary making `Q` random-oracle
//! queries by `Q·ε` (Canetti et al. / Chiesa–Yogev). Grinding of `b` bits counts as `b` bits
//! (the random-oracle model of proof of work). The Merkle trees (Blake3, 256-bit digests)
//! bind with 128-bit collision resistance, above every figure here.
//!
//! # Hiding mode (why the bound is not vacuous)
//!
//! HVZK-WHIR's base case combines the terminal (source) oracle and every mask code with one
//! challenge γ; its analysis takes, for each code, either "the word is far from the code" (the
//! spot checks catch it) or "the word is within the code's decoding radius" (it is one of a list
//! of candidates), and a union bound over the *product* of all candidate lists. With every mask
//! code analysed at a Johnson radius that product exceeds `|EF| = 2^128` (`p3-security`'s
//! diagnostic reports it as vacuous). zkgrad therefore analyses the **mask codes at their
//! unique-decoding radius** `δ = (1 − ρ)/2`, where each list has one element, and sizes their
//! spot checks for that radius ([`ud_mask_queries`]; the count replaces `p3-whir`'s
//! Johnson-sized one, and the masks' randomness grows with it so the openings stay simulatable).
//! The product of lists is then the source code's paired list alone (Lemma 3.13 of 2026/391
//! for the interleaving), and the γ round keeps ~100+ bits ([`hiding_base_case`]). The mask
//! codes' far branch costs about one bit per spot check (UD radius ≈ 1/2), which is what the
//! extra mask queries pay for.
//!
//! The HVZK rounds before the base case (masked folding sumchecks, code switching with padded
//! OOD answers) are counted with the plain WHIR round errors at the same radii, as `p3-whir`
//! sizes them: the masks enter those rounds linearly, committed before the challenges, and the
//! codes they live in are checked in the base case above.

use p3_whir::{WhirConfig, ZkWhirConfig};

use crate::field::{EF, F};
use crate::transcript::Challenger;

/// log2 |EF| for EF = GF(p²), p = 2^64 − 2^32 + 1 (exact to f64 precision: 2·log2 p).
pub fn field_bits() -> f64 {
    2.0 * ((1u128 << 64) as f64 - (1u64 << 32) as f64 + 1.0).log2()
}

/// One component of a proof and its soundness in bits (`−log2` of its error probability).
#[derive(Clone, Debug, PartialEq)]
pub struct Component {
    /// What it is, e.g. "WHIR opening of the weights (2^17): round 1 queries".
    pub name: String,
    /// Its soundness in bits (grinding included).
    pub bits: f64,
}

impl Component {
    /// A named component.
    pub fn new(name: impl Into<String>, bits: f64) -> Self {
        Self {
            name: name.into(),
            bits,
        }
    }
}

/// Which list-decoding regime a WHIR analysis uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Regime {
    /// Unique decoding, `δ = (1 − ρ)/2`, list size 1.
    Unique,
    /// Johnson bound (provable), `δ = 1 − √ρ − η` with `η = √ρ/(2m)`, `m ≥ 3`: list size
    /// `1/(2η√ρ) = m/ρ`, and BCSS25's proximity parameter is this `m`. `p3-whir`'s
    /// `JohnsonBound` is `m = 10` ([`JOHNSON`]); a smaller `m` trades a slightly smaller radius
    /// for shorter lists and a smaller proximity-gap error.
    Johnson {
        /// The proximity parameter m.
        m: u32,
    },
}

/// `p3-whir`'s Johnson-bound regime: `η = √ρ/20`.
pub const JOHNSON: Regime = Regime::Johnson { m: 10 };

/// The soundness of a whole proof: every component and the weakest.
#[derive(Clone, Debug)]
pub struct SoundnessReport {
    /// Every component with its bits.
    pub components: Vec<Component>,
}

impl SoundnessReport {
    /// The weakest component (the one the figure is the bits of).
    pub fn weakest(&self) -> Option<&Component> {
        self.components
            .iter()
            .min_by(|a, b| a.bits.total_cmp(&b.bits))
    }

    /// The soundness in bits: the minimum over components (round-by-round).
    pub fn bits(&self) -> f64 {
        self.weakest().map_or(f64::INFINITY, |c| c.bits)
    }

    /// The line the command-line tools print.
    pub fn line(&self) -> String {
        let weakest = self.weakest().map_or("none", |c| c.name.as_str());
        format!(
            "soundness: {} bits, provable (Johnson bound); weakest: {weakest}",
            self.bits().floor()
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Algebraic components.
// ---------------------------------------------------------------------------------------------

/// `−log2(x / |EF|)` for an error numerator `x` (an event count times a degree).
fn over_field(x: f64) -> f64 {
    field_bits() - x.max(1.0).log2()
}

/// A sumcheck of `rounds` rounds, each of degree ≤ `degree`: error `rounds·degree/|EF|`.
pub fn sumcheck_bits(rounds: usize, degree: usize) -> f64 {
    over_field((rounds * degree) as f64)
}

/// A sumcheck with per-round degrees `degrees`: error `Σ d/|EF|`.
pub fn sumcheck_bits_of(degrees: &[usize]) -> f64 {
    over_field(degrees.iter().sum::<usize>() as f64)
}

/// A random point checking a polynomial identity of total degree `degree` (Schwartz–Zippel).
pub fn point_bits(degree: usize) -> f64 {
    over_field(degree as f64)
}

/// LogUp: a random α for `lookups` looked-up entries against `table` table entries.
pub fn logup_bits(lookups: usize, table: usize) -> f64 {
    over_field((lookups + table) as f64)
}

// ---------------------------------------------------------------------------------------------
// Reed–Solomon proximity (WHIR).
// ---------------------------------------------------------------------------------------------

impl Regime {
    /// `log2(1 − δ)` at log inverse rate `r` (a real number: a randomized code's rate
    /// `(M + t)/H` is rarely a power of two).
    pub fn log_one_minus_delta(self, r: f64) -> f64 {
        let rho = (-r).exp2();
        match self {
            Regime::Unique => ((1.0 + rho) / 2.0).log2(),
            // 1 − δ = √ρ + η = √ρ·(1 + 1/(2m)).
            Regime::Johnson { m } => (1.0 + 0.5 / m as f64).log2() - r / 2.0,
        }
    }

    /// `log2` of the list size at the regime's radius (`1/(2η√ρ) = m/ρ` for Johnson).
    pub fn list_bits(self, r: usize) -> f64 {
        match self {
            Regime::Unique => 0.0,
            Regime::Johnson { m } => r as f64 + (m as f64).log2(),
        }
    }

    /// Bits from `queries` spot checks at log inverse rate `r` (far branch: `(1 − δ)^t`).
    pub fn query_bits(self, r: f64, queries: usize) -> f64 {
        -(queries as f64) * self.log_one_minus_delta(r)
    }

    /// Mutual-correlated-agreement error, in bits, of combining `functions` words of the RS
    /// code with `2^log_degree` coefficients at log inverse rate `r` by powers of a random
    /// challenge. Unique decoding: `(k − 1)·n/|EF|`. Johnson: BCSS25 Thm 1.5 with proximity
    /// parameter `m`: `a = (2(m+½)⁵ + 3(m+½)γρ)/(3ρ^{3/2})·n + (m+½)/√ρ` exceptional
    /// challenges (γ < 1 bounded by 1), times `k − 1`.
    pub fn prox_gap_bits(self, log_degree: usize, r: usize, functions: usize) -> f64 {
        let n = ((log_degree + r) as f64).exp2();
        let k1 = functions.saturating_sub(1).max(1) as f64;
        match self {
            Regime::Unique => over_field(k1 * n),
            Regime::Johnson { m } => {
                let rho = (-(r as f64)).exp2();
                let mh = m as f64 + 0.5;
                let a = (2.0 * mh.powi(5) + 3.0 * mh * rho) / (3.0 * rho.powf(1.5)) * n
                    + mh / rho.sqrt();
                over_field(k1 * a)
            }
        }
    }

    /// Out-of-domain samples: `L²/2 · (2^log_degree/|EF|)^s` (STIR Lemma 4.5).
    pub fn ood_bits(self, log_degree: usize, r: usize, samples: usize) -> f64 {
        if self == Regime::Unique {
            return f64::INFINITY;
        }
        let s = samples as f64;
        s * field_bits() + 1.0 - 2.0 * self.list_bits(r) - s * log_degree as f64
    }

    /// One folding-sumcheck round: the degree-2 round polynomial against every word of the
    /// list, `2L/|EF|`.
    pub fn fold_sumcheck_bits(self, r: usize) -> f64 {
        field_bits() - (self.list_bits(r) + 1.0)
    }

    /// The shift round's random combination of `ood + queries` constraints over the list.
    pub fn combination_bits(self, r: usize, ood: usize, queries: usize) -> f64 {
        field_bits() - (((ood + queries) as f64).log2() + self.list_bits(r) + 1.0)
    }
}

/// Message rows `M` and codeword height `H` (per limb) of HVZK oracle `round` (oracle 0 is the
/// commitment, oracle `n_rounds` the base case's source), as `p3-whir` lays them out.
pub fn oracle_geometry(zk: &ZkWhirConfig<EF, F, Challenger>, round: usize) -> (usize, usize) {
    if round == 0 {
        let rows = 1usize << (zk.num_variables - zk.round_folding_factor(0));
        (rows, rows << zk.starting_log_inv_rate)
    } else {
        let prev = &zk.inner.round_parameters[round - 1];
        let rows = 1usize << (prev.num_variables - zk.round_folding_factor(round));
        (rows, rows * zk.inv_rate(round - 1))
    }
}

/// Log inverse rate of a randomized Reed–Solomon code: `M` message rows and `t` randomness rows
/// per limb in a codeword of height `H` form a code of dimension `M + t`, rate `(M + t)/H`.
/// Every proximity claim about the oracle is about that code, not the plain one of rate `M/H`.
pub fn randomized_rate(rows: usize, randomness: usize, height: usize) -> f64 {
    (height as f64).log2() - ((rows + randomness) as f64).log2()
}

/// [`randomized_rate`] of HVZK oracle `round` with its configured randomness.
pub fn randomized_log_inv_rate(zk: &ZkWhirConfig<EF, F, Challenger>, round: usize) -> f64 {
    let (rows, height) = oracle_geometry(zk, round);
    randomized_rate(rows, zk.oracle_randomness[round], height)
}

fn min2(a: f64, b: f64) -> f64 {
    a.min(b)
}

/// The round-by-round components of one WHIR opening analysed in regime `j` (every oracle at
/// the same Johnson radius), named after `label`.
/// `points` is the number of opened points (batched by powers of one challenge). In hiding
/// mode `zk` is the HVZK configuration (its `inner` is `whir`).
pub fn whir_components(
    label: &str,
    j: Regime,
    whir: &WhirConfig<EF, F, Challenger>,
    zk: Option<&ZkWhirConfig<EF, F, Challenger>>,
    points: usize,
) -> Vec<Component> {
    let mut out = Vec::new();
    let mut push =
        |phase: String, bits: f64| out.push(Component::new(format!("{label}: {phase}"), bits));
    // Batching the points' claims by powers of one challenge: degree points − 1.
    push("point batching".into(), point_bits(points.max(2) - 1));
    let mut nv = whir.num_variables;
    let mut rate = whir.starting_log_inv_rate;
    if zk.is_none() && whir.commitment_ood_samples > 0 {
        push(
            "commitment OOD".into(),
            j.ood_bits(nv, rate, whir.commitment_ood_samples),
        );
    }
    // Round 0's fold: one sumcheck round per folded variable, each against the first code.
    let fold0 = min2(j.prox_gap_bits(nv, rate, 2), j.fold_sumcheck_bits(rate));
    push(
        "fold 0".into(),
        fold0 + whir.starting_folding_pow_bits as f64,
    );
    nv -= whir.folding_schedule[0];
    for (i, rp) in whir.round_parameters.iter().enumerate() {
        let next = rp.log_inv_rate;
        push(
            format!("round {i} OOD"),
            j.ood_bits(nv, next, rp.ood_samples),
        );
        // Round i's spot checks test oracle i; in hiding mode its code holds t_i randomness rows
        // beside the message, so its rate (and radius) is that of the randomized code.
        let queried = match zk {
            Some(zk) => randomized_log_inv_rate(zk, i),
            None => rate as f64,
        };
        let shift = min2(
            j.query_bits(queried, rp.num_queries),
            j.combination_bits(next, rp.ood_samples, rp.num_queries),
        );
        push(format!("round {i} queries"), shift + rp.pow_bits as f64);
        let fold = min2(j.prox_gap_bits(nv, next, 2), j.fold_sumcheck_bits(next));
        push(format!("fold {}", i + 1), fold + rp.folding_pow_bits as f64);
        nv -= whir.folding_schedule[i + 1];
        rate = next;
    }
    match zk {
        None => {
            push(
                "final queries".into(),
                j.query_bits(rate as f64, whir.final_queries) + whir.final_pow_bits as f64,
            );
            if whir.final_sumcheck_rounds > 0 {
                push(
                    "final sumcheck".into(),
                    sumcheck_bits(1, 2) + whir.final_folding_pow_bits as f64,
                );
            }
        }
        Some(zk) => {
            for c in hiding_base_case(zk) {
                push(c.name, c.bits);
            }
        }
    }
    out
}

/// Mask spot checks that reach `target` bits at the unique-decoding radius of a mask code of
/// log inverse rate `mask_rate`, with `shared_pow` bits of grinding before them, plus a union
/// over the `2·rounds + 2` mask oracles (as `p3-whir` does).
pub fn ud_mask_queries(target: usize, mask_rate: usize, shared_pow: usize, rounds: usize) -> usize {
    let union = ((2 * rounds + 2) as f64).log2().ceil();
    let need = target as f64 + union - shared_pow as f64;
    (need / -Regime::Unique.log_one_minus_delta(mask_rate as f64))
        .ceil()
        .max(1.0) as usize
}

/// List size of the source code's old/fresh pair (interleaving 2) in `regime`: the better of
/// `L²` and Lemma 3.13 of eprint 2026/391 (`binom(b + r, r)·L^r`), as `p3-security` does.
fn paired_list_bits(regime: Regime, log_inv_rate: usize) -> f64 {
    let base = regime.list_bits(log_inv_rate);
    if regime == Regime::Unique {
        return 0.0;
    }
    let rho = (-(log_inv_rate as f64)).exp2();
    let one_minus_delta = regime.log_one_minus_delta(log_inv_rate as f64).exp2();
    let (delta, gap) = (1.0 - one_minus_delta, one_minus_delta - rho);
    let b = (delta / gap).ceil();
    let r = ((1.0 - rho) / gap).log2().ceil();
    let log_binom: f64 = (1..=r as usize)
        .map(|i| (b + i as f64).log2() - (i as f64).log2())
        .sum();
    (2.0 * base).min(log_binom + r * base)
}

/// The geometry of the HVZK base case that the analysis needs.
#[derive(Clone, Debug)]
pub struct BaseCase {
    /// Terminal (source) message length (coefficients).
    pub message: usize,
    /// Source spot checks.
    pub queries: usize,
    /// Source randomness per limb (the spot checks of every opening it must hide: `queries`
    /// for one opening, `B·queries` for a commitment opened `B` times).
    pub randomness: usize,
    /// Source codeword length.
    pub domain: usize,
    /// Grinding before the spot checks (shared by source and masks).
    pub pow_bits: usize,
    /// Each mask group: (message + randomness length, codeword length, width).
    pub masks: Vec<(usize, usize, usize)>,
    /// Spot checks per mask group.
    pub mask_queries: usize,
}

impl BaseCase {
    /// The geometry of `zk`'s base case.
    pub fn of(zk: &ZkWhirConfig<EF, F, Challenger>) -> Self {
        let fin = zk.final_round_config();
        let masks = zk
            .mask_groups()
            .iter()
            .map(|g| {
                (
                    g.shape.message_len + g.shape.randomness_len,
                    g.shape.domain_size,
                    g.width,
                )
            })
            .collect();
        Self {
            message: 1usize << fin.num_variables,
            queries: zk.final_queries,
            randomness: zk.oracle_randomness[zk.n_rounds()],
            domain: fin.domain_size >> fin.folding_factor,
            pow_bits: zk.final_pow_bits,
            masks,
            mask_queries: zk.mask_queries,
        }
    }

    /// The source code's analysis log inverse rate (its dyadic envelope's), 0 if none.
    fn source_rate(&self) -> (usize, usize) {
        let log_deg = (self.message + self.randomness).next_power_of_two().ilog2() as usize;
        (
            log_deg,
            (self.domain.ilog2() as usize).saturating_sub(log_deg),
        )
    }

    /// Query-round and γ-round bits with the source analysed in `source` and every mask code at
    /// its unique-decoding radius.
    pub fn bits(&self, source: Regime) -> (f64, f64) {
        let u = Regime::Unique;
        let (log_deg, rate) = self.source_rate();
        if rate == 0 {
            return (0.0, 0.0);
        }
        let mut query = source.query_bits(rate as f64, self.queries.min(self.domain));
        let mut mca_err = (-source.prox_gap_bits(log_deg, rate, 2)).exp2();
        let mut lanes = 2usize;
        for &(dim, domain, width) in &self.masks {
            let log_deg = dim.next_power_of_two().ilog2() as usize;
            let r = (domain.ilog2() as usize).saturating_sub(log_deg);
            if r == 0 {
                return (0.0, 0.0);
            }
            query = query.min(u.query_bits(r as f64, self.mask_queries.min(domain)));
            // An interleaved group of `width` words: the conservative factor `width`.
            mca_err += width as f64 * (-u.prox_gap_bits(log_deg, r, 2)).exp2();
            lanes += 2 * width;
        }
        // The combination is a polynomial of degree < lanes in γ over each tuple of candidates.
        let list_err =
            (paired_list_bits(source, rate) + (lanes as f64).log2() - field_bits()).exp2();
        (query + self.pow_bits as f64, -(mca_err + list_err).log2())
    }

    /// The best analysis: the source at the Johnson radius for the `m` in 3..=10 that gives the
    /// most bits, or at its unique-decoding radius if that is better. Returns the regime and
    /// (query, γ) bits.
    pub fn best(&self) -> (Regime, (f64, f64)) {
        let mut best = (Regime::Unique, self.bits(Regime::Unique));
        for m in 3..=10 {
            let r = Regime::Johnson { m };
            let b = self.bits(r);
            if b.0.min(b.1) > best.1.0.min(best.1.1) {
                best = (r, b);
            }
        }
        best
    }
}

/// The HVZK-WHIR base case (eprint 2026/391, Construction 7.2) with every mask code at its
/// unique-decoding radius and the source at the best provable radius ([`BaseCase::best`]):
/// the query round (the weakest far branch plus the shared grind) and the γ round (the codes'
/// MCA errors plus the product of candidate lists, times the combination's degree, over |EF|).
pub fn hiding_base_case(zk: &ZkWhirConfig<EF, F, Challenger>) -> Vec<Component> {
    let (regime, (query, gamma)) = BaseCase::of(zk).best();
    let at = match regime {
        Regime::Unique => "unique decoding".to_string(),
        Regime::Johnson { m } => format!("Johnson m = {m}"),
    };
    vec![
        Component::new(format!("HVZK base case queries ({at})"), query),
        Component::new(format!("HVZK base case combination ({at})"), gamma),
    ]
}

// ---------------------------------------------------------------------------------------------
// A whole proof.
// ---------------------------------------------------------------------------------------------

/// Names of the zero-knowledge sumchecks in the order `zk::verifier::schedules` lists them.
fn sumcheck_names(spec: &crate::circuit::CircuitSpec) -> Vec<String> {
    use crate::circuit::LayerKind;
    let mut names = vec!["LogUp sumcheck".to_string()];
    for l in (0..spec.layers.len()).rev() {
        match &spec.layers[l].kind {
            LayerKind::Dense => names.push(format!("layer {l} matrix-product sumcheck")),
            LayerKind::Conv(_) => names.push(format!("layer {l} convolution sumcheck")),
            LayerKind::MaxPool(_) => {
                names.push(format!("layer {l} pooling link sumcheck"));
                names.push(format!("layer {l} pooling product sumcheck"));
            }
            LayerKind::Elementwise(_) => names.push(format!("layer {l} elementwise sumcheck")),
            LayerKind::Unary(_) => {}
            LayerKind::MatMul(_) => names.push(format!("layer {l} activation-product sumcheck")),
        }
        if spec.layers[l].relu {
            names.push(format!("layer {l} ReLU zero-check sumcheck"));
        }
    }
    names.push("inverse batching sumcheck".into());
    names.push("weight batching sumcheck".into());
    if spec.committed_input {
        names.push("input batching sumcheck".into());
    }
    names.push("witness batching sumcheck".into());
    names
}

/// Every component of a zero-knowledge proof for `spec` at batch size `batch`: each sumcheck
/// (its round degrees, plus Libra's mask challenge), LogUp (α over every looked-up entry and
/// table entry, the zero-check point τ, the batching coefficients μ), each block's random
/// points, and each WHIR opening (witness, inverses, weights, committed input).
pub fn proof_report(
    spec: &crate::circuit::CircuitSpec,
    batch: usize,
) -> Result<SoundnessReport, crate::ProofError> {
    use crate::pcs::{MAX_POINTS, Pcs};
    use crate::witness::WitnessPlan;
    use crate::zk::verifier::WitnessTable;
    let plan = WitnessPlan::new(spec, batch);
    let table = WitnessTable::new(spec, &plan);
    let mut out = Vec::new();
    let names = sumcheck_names(spec);
    let schedules = &table.mask_plan.schedules;
    for (i, degrees) in schedules.iter().enumerate() {
        let name = if names.len() == schedules.len() {
            names[i].clone()
        } else {
            format!("sumcheck {i}")
        };
        let mut with_mask = degrees.clone();
        with_mask.push(1);
        out.push(Component::new(name, sumcheck_bits_of(&with_mask)));
    }
    // Challenges are sampled uniformly (rejection sampling of base-field elements, masked bits
    // of a power-of-two domain for query indices), so the transform adds no sampling bias; what
    // it relies on beyond the random oracle is Blake3's collision resistance (Merkle binding).
    out.push(Component::new(
        "Fiat–Shamir: Blake3 Merkle binding (collisions)",
        128.0,
    ));
    // A table block's row is a triple combined as a + β·b + β²·p: the identity cleared of
    // denominators is a polynomial in (α, β) of total degree ≤ 3 per term (Schwartz–Zippel),
    // so its terms count three times.
    let looked_up: usize = plan
        .lookups
        .iter()
        .map(|l| 1usize << l.log_len)
        .sum::<usize>()
        + plan
            .unary
            .iter()
            .map(|u| 3usize << u.log_len)
            .sum::<usize>();
    let tables: usize = (plan.tables.len() << plan.table_bits)
        + plan
            .unary
            .iter()
            .map(|u| 3usize << u.table_log)
            .sum::<usize>();
    out.push(Component::new(
        "LogUp challenge α",
        logup_bits(looked_up, tables),
    ));
    out.push(Component::new(
        "LogUp zero-check point τ",
        point_bits(crate::zk::lookup::num_vars(&plan)),
    ));
    out.push(Component::new("LogUp batching μ", point_bits(1)));
    for (l, bc) in plan.blocks.iter().enumerate() {
        let vars = bc.log_out + plan.log_batch + spec.layer_input_shape(l).log_size();
        out.push(Component::new(
            format!("layer {l} random points"),
            point_bits(2 * vars),
        ));
    }
    let mut open =
        |label: &str, pcs: Result<Pcs, crate::ProofError>| -> Result<(), crate::ProofError> {
            out.extend(pcs?.soundness_components(label, MAX_POINTS));
            Ok(())
        };
    open(
        &format!("WHIR witness (2^{})", table.layout.num_vars()),
        Pcs::try_new(table.layout.num_vars(), true),
    )?;
    let inv = crate::zk::lookup::inverse_layout(&plan).num_vars();
    open(&format!("WHIR inverses (2^{inv})"), Pcs::try_new(inv, true))?;
    let w = crate::commit::weight_masked_layout(spec).num_vars();
    open(
        &format!("WHIR weights (2^{w})"),
        crate::commit::weight_pcs(spec),
    )?;
    if spec.committed_input {
        let i = crate::zk::input::layout(&plan).num_vars();
        open(&format!("WHIR input (2^{i})"), crate::zk::input::pcs(&plan))?;
    }
    Ok(SoundnessReport { components: out })
}

#[cfg(test)]
mod tests {
    use super::*;
    use p3_whir::{FoldingFactor, ProtocolParameters, SecurityAssumption};

    #[test]
    fn algebraic_terms() {
        let fb = field_bits();
        assert!(fb < 128.0 && fb > 127.9999);
        assert!((sumcheck_bits(16, 2) - (fb - 5.0)).abs() < 1e-9);
        assert!(
            (logup_bits(1 << 20, 1 << 16) - (fb - ((1u64 << 20) as f64 + 65536.0).log2())).abs()
                < 1e-9
        );
        assert!((sumcheck_bits_of(&[7, 3, 3, 3]) - (fb - 4.0)).abs() < 1e-9);
    }

    #[test]
    fn johnson_terms_match_the_definitions() {
        let j = JOHNSON;
        // ρ = 1/4: √ρ = 1/2, η = 1/40, list 1/(2η√ρ) = 40.
        assert!((j.list_bits(2) - 40f64.log2()).abs() < 1e-9);
        assert!((j.log_one_minus_delta(2.0) - (0.5f64 + 0.025).log2()).abs() < 1e-9);
        // The full BCSS25 bound is slightly weaker than its dominant term alone.
        let dominant = field_bits() - (22.0 + (2.0 * 10.5f64.powi(5) / 3.0).log2() + 3.0);
        let full = j.prox_gap_bits(20, 2, 2);
        assert!(
            full < dominant && dominant - full < 1e-3,
            "{full} vs {dominant}"
        );
        assert!((Regime::Unique.log_one_minus_delta(1.0) - 0.75f64.log2()).abs() < 1e-12);
    }

    /// A `p3-whir` configuration at 100 bits under its JohnsonBound: every phase this module
    /// computes reaches the target within the rounding of the full (not only dominant)
    /// proximity-gap term, and the query phases match `p3-security`'s own arithmetic.
    #[test]
    fn matches_a_p3_whir_johnson_configuration() {
        let params = ProtocolParameters {
            starting_log_inv_rate: 2,
            round_log_inv_rates: Vec::new(),
            folding_factor: FoldingFactor::Constant(4),
            soundness_type: SecurityAssumption::JohnsonBound,
            security_level: 100,
            pow_bits: 30,
        };
        let cfg = WhirConfig::<EF, F, Challenger>::new(20, params).expect("valid");
        let comps = whir_components("t", JOHNSON, &cfg, None, 1);
        for c in &comps {
            assert!(c.bits > 99.99, "{} has {} bits", c.name, c.bits);
        }
        // Round 0's queries: the same count p3-security asks for, the same bits.
        let rp = &cfg.round_parameters[0];
        let ours = JOHNSON.query_bits(2.0, rp.num_queries);
        let theirs = SecurityAssumption::JohnsonBound.queries_error(2, rp.num_queries);
        assert!((ours - theirs).abs() < 1e-9);
        assert_eq!(
            rp.num_queries,
            SecurityAssumption::JohnsonBound.queries(70, 2)
        );
        // And the first fold's grinding closes the same gap p3-security computes.
        let p3_fold = SecurityAssumption::JohnsonBound.prox_gaps_error(20, 2, 128, 2);
        assert!((JOHNSON.prox_gap_bits(20, 2, 2) - p3_fold).abs() < 1e-3);
    }

    #[test]
    fn ud_mask_queries_reach_the_target() {
        let q = ud_mask_queries(100, 5, 20, 1);
        let bits = Regime::Unique.query_bits(5.0, q) + 20.0;
        assert!(bits >= 102.0 && bits < 103.5, "{bits}");
    }

    #[test]
    fn report_names_the_weakest() {
        let r = SoundnessReport {
            components: vec![Component::new("a", 120.0), Component::new("b", 101.7)],
        };
        assert_eq!(
            r.line(),
            "soundness: 101 bits, provable (Johnson bound); weakest: b"
        );
    }

    /// Every weight-table size, committed for 16 openings (an epoch's), reaches 100 provable
    /// bits with randomness for all 16 openings' spot checks, and the 15–18-variable tables get
    /// their preferred rate step (not the automatic fallback).
    #[test]
    fn every_reused_table_size_reaches_100_bits() {
        for n in 0..=crate::pcs::MAX_NUM_VARS {
            let pcs = match crate::pcs::Pcs::for_reused(n, 16) {
                Ok(pcs) => pcs,
                // Larger tables may hide fewer openings (`commit::reused_pcs` halves them;
                // `zk::budget` tests that every size keeps at least half the cap).
                Err(_) if n > 20 => continue,
                Err(e) => panic!("{n} vars: {e}"),
            };
            let bits = pcs.soundness_bits(crate::pcs::MAX_POINTS);
            assert!(bits >= 100.0, "{n} vars: {bits} ({})", pcs.config_summary());
            let (queries, randomness) = pcs.first_oracle_exposure().unwrap();
            assert!(
                randomness >= 16 * queries,
                "{n} vars: {}",
                pcs.config_summary()
            );
            if (15..=18).contains(&n) {
                assert_eq!(pcs.params().rate_step, Some(3), "{n} vars");
            }
        }
    }

    /// Every table size the prover uses, hiding or not, reaches 100 provable bits.
    #[test]
    fn every_table_size_reaches_100_bits() {
        for hiding in [true, false] {
            for n in 0..=crate::pcs::MAX_NUM_VARS {
                let pcs =
                    crate::pcs::Pcs::try_new(n, hiding).unwrap_or_else(|e| panic!("{n} vars: {e}"));
                let comps = pcs.soundness_components("t", crate::pcs::MAX_POINTS);
                let weakest = comps
                    .iter()
                    .min_by(|a, b| a.bits.total_cmp(&b.bits))
                    .unwrap();
                assert!(
                    weakest.bits >= 100.0,
                    "{n} vars, hiding {hiding}: {} at {}",
                    weakest.name,
                    weakest.bits
                );
            }
        }
    }
}
