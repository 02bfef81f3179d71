//! WHIR parameters: what is tunable, the default (100 bits under CapacityBound), and how the
//! per-round rates are chosen.

use p3_whir::{FoldingFactor, ProtocolParameters, SecurityAssumption};

use super::merkle::*;
// ---------------------------------------------------------------------------------------------
// Parameters.
// ---------------------------------------------------------------------------------------------

/// Tunable WHIR parameters. [`PcsParams::default`] is what [`Pcs::new`] uses; other values are
/// meant for benchmarking only (they change the commitment digest).
#[derive(Clone, Debug, PartialEq)]
pub struct PcsParams {
    /// Target security in bits, including `pow_bits` of grinding.
    pub security_level: usize,
    /// Grinding budget in bits (the largest PoW any phase may demand).
    pub pow_bits: usize,
    /// Proximity-gap / list-decoding assumption used to size the queries.
    pub assumption: SecurityAssumption,
    /// log2 of the inverse rate of the first Reed–Solomon codeword.
    pub starting_log_inv_rate: usize,
    /// Variables folded in the first WHIR round.
    pub first_folding_factor: usize,
    /// Variables folded in every later WHIR round.
    pub folding_factor: usize,
    /// Increase of the log inverse rate per WHIR round. `None` (default): automatic — the largest
    /// step in `folding_factor − 1 ..= 1` whose configuration meets the target within the PoW
    /// budget (a larger step means fewer queries in later rounds, i.e. smaller proofs, but more
    /// folding PoW; large polynomials need the smaller steps).
    pub rate_step: Option<usize>,
    /// Smallest polynomial (in variables) handed to WHIR; smaller ones are zero-padded.
    pub min_num_vars: usize,
    /// HVZK sumcheck mask length (hiding mode only).
    pub zk_ell: usize,
    /// log2 inverse rate of the HVZK mask codes (hiding mode only).
    pub zk_mask_log_inv_rate: usize,
    /// Johnson-bound proximity parameter m (η = √ρ/(2m), m ≥ 3) every oracle is analysed at
    /// ([`crate::security::Regime`]); `p3-whir`'s own JohnsonBound is m = 10. A small m gives
    /// shorter lists and a smaller proximity-gap error (less folding grinding) for a slightly
    /// smaller radius (a few more queries).
    pub johnson_m: u32,
    /// Openings the commitment must stay zero-knowledge for (hiding mode): the first oracle gets
    /// `openings ×` its spot checks of randomness per limb (HVZK-WHIR's budget rule), and its
    /// queries are sized for the lower rate that randomness leaves. 1 for a table committed and
    /// opened in the same proof.
    pub openings: usize,
}

impl Default for PcsParams {
    fn default() -> Self {
        Self {
            security_level: 100,
            pow_bits: 12,
            assumption: SecurityAssumption::JohnsonBound,
            starting_log_inv_rate: 1,
            first_folding_factor: 4,
            folding_factor: 4,
            rate_step: None,
            min_num_vars: 8,
            zk_ell: 8,
            zk_mask_log_inv_rate: 3,
            johnson_m: 3,
            openings: 1,
        }
    }
}

/// Hiding tables up to this many variables use the one-fold schedule of [`PcsParams::for_size`].
const ONE_FOLD_MAX_VARS: usize = 14;
/// Rate step of reused (weight) tables of 15–18 variables ([`PcsParams::for_reused_size`]).
const REUSED_RATE_STEP: usize = 3;
/// One-fold tables from this many variables start at rate 1/64 instead of 1/32.
const ONE_FOLD_LOW_RATE_VARS: usize = 13;
/// Variables left to WHIR's final message in the one-fold schedule.
const ONE_FOLD_FINAL_VARS: usize = 6;
/// Grinding allowed for the first fold beyond `pow_bits` (tables of 2^24 and more evaluations at
/// rate 1/4 need it: BCSS25's error grows with the codeword length).
pub(super) const MAX_FOLD_POW: usize = 16;

impl PcsParams {
    /// The parameters proofs use for a polynomial in `num_vars` variables: 100 provable bits
    /// under the Johnson bound (m = 3), 12 bits of grinding before each query phase.
    ///
    /// Measured with `cargo run --release -p zkgrad-core --example pcs_tuning -- <vars>` (grid
    /// of fold 4–10 × starting rate 2^-2..2^-5, hiding, one point, two shared cores):
    /// * ≤ 14 variables (the witness, inverse, mask and input tables of most models): fold all
    ///   but 6 variables at once at rate 1/32, so WHIR has no second round (no second oracle,
    ///   no second set of HVZK masks): 74 KiB at 10 variables, 103 KiB at 12, 184 KiB at 14,
    ///   against 75–260 KiB for the other one-fold or multi-round schedules. From 13 variables
    ///   at rate 1/64 (issue 13, 2026-12-07): 39 spot checks instead of 49, 114 instead of
    ///   125 KiB at 13 variables and 161 instead of 180 KiB at 14, for ~4 and ~11 ms more
    ///   commit (at 12 variables only 5 KiB less, at 11 3 KiB: not worth the commit).
    /// * 15 and more: fold 5 variables per round at rate 1/4 (rate 1/2 needs ~300 queries per
    ///   round at the Johnson radius; 1/8 and lower cost 2–4× the commit time for ≤ 15% less
    ///   proof): at 16 variables 241 KiB (fold 6 at 1/32: 261 KiB), at 18 372 KiB (fold 6 at
    ///   1/16: 333 KiB for 3× the commit), at 20 429 KiB (fold 5 at 1/8: 358 KiB, 2× commit).
    ///   At 17 variables fold 6 (two rounds instead of three, so fewer mask codes): 276 KiB
    ///   against 333 KiB; and then fold 5 (issue 13, `TUNE_GRID2="6 2 12 3 8 0 5"`): the
    ///   base case's source leaves are 2^5 EF symbols instead of 2^6, 255 KiB against 280 KiB
    ///   with the same commit and a faster opening. At 18 variables fold 7 then 5 (one round
    ///   instead of two): 321 KiB against 337 KiB; at 15 fold 4 then 5: 203 KiB against 226
    ///   KiB, for ~6 ms more opening.
    /// * HVZK mask codes at rate 1/8 (their spot checks are sized at the unique-decoding radius,
    ///   ~0.83 bits each): 10% smaller than 1/32 at 17 variables, 2% at 14.
    ///
    /// Non-hiding tables use the same schedules.
    pub fn for_size(num_vars: usize, hiding: bool) -> Self {
        let _ = hiding;
        let base = Self::default();
        if num_vars <= ONE_FOLD_MAX_VARS {
            let first = num_vars
                .saturating_sub(ONE_FOLD_FINAL_VARS)
                .max(base.folding_factor);
            return Self {
                starting_log_inv_rate: if num_vars >= ONE_FOLD_LOW_RATE_VARS {
                    6
                } else {
                    5
                },
                first_folding_factor: first,
                ..base
            };
        }
        // 15–18 variables: fold all but 11 first, then 5, so one WHIR round leaves the base
        // case its 6 variables (fold 5 throughout needs a second round at 17 and 18, and at 15
        // leaves the base case 5 variables behind a bigger first oracle).
        let first = match num_vars {
            15..=18 => num_vars - 11,
            _ => 5,
        };
        Self {
            first_folding_factor: first,
            folding_factor: 5,
            starting_log_inv_rate: 2,
            ..base
        }
    }

    /// The base parameters of a table committed once and opened many times (the weights;
    /// [`super::Pcs::for_reused`] lowers the starting rate until the randomness for every
    /// opening fits): [`PcsParams::for_size`]'s schedule with a rate step of 3 at 15–18
    /// variables (falling back to the automatic step where 3 has no configuration).
    ///
    /// In hiding mode the weight table is committed again for every proof (`p3-whir`'s hiding
    /// prover data cannot be copied), so a longer codeword costs every proof its commit time:
    /// the starting rate stays. The automatic step (the largest valid) drops the one WHIR
    /// round's rate to 2^-7 and leaves the base case's source ~91 spot checks at the
    /// unique-decoding radius; step 3 keeps the source at a Johnson radius with 39–49.
    /// Measured with `TUNE_OPENINGS=16 pcs_tuning <vars>` (hiding, 16 openings, one point):
    /// 239 instead of 287 KiB at 15 variables, 260 instead of 312 at 16, 293 instead of 340 at
    /// 17 (fold 6 then 5; 389 KiB with the former fold 6 then 6), 350 instead of 415 at 18,
    /// with the same commit and a faster opening (fewer source leaves of 2^5 EF symbols). At
    /// 20 variables the automatic step is already 3; step 2 (410 instead of 449 KiB) doubled
    /// the opening time.
    pub fn for_reused_size(num_vars: usize) -> Self {
        let base = Self::for_size(num_vars, true);
        match num_vars {
            15..=18 => Self {
                rate_step: Some(REUSED_RATE_STEP),
                ..base
            },
            _ => base,
        }
    }

    pub(super) fn folding(&self) -> FoldingFactor {
        FoldingFactor::ConstantFromSecondRound(self.first_folding_factor, self.folding_factor)
    }

    /// Candidate rate steps, in order of preference.
    pub(super) fn rate_steps(&self) -> Vec<usize> {
        match self.rate_step {
            Some(step) => vec![step],
            None => (1..self.folding_factor.max(2)).rev().collect(),
        }
    }

    pub(super) fn protocol(&self, num_vars: usize, step: usize) -> ProtocolParameters {
        let folding = self.folding();
        let round_log_inv_rates = match folding.compute_number_of_rounds(num_vars) {
            Ok((rounds, _)) => (1..=rounds)
                .map(|i| self.starting_log_inv_rate + i * step)
                .collect(),
            Err(_) => Vec::new(),
        };
        ProtocolParameters {
            starting_log_inv_rate: self.starting_log_inv_rate,
            round_log_inv_rates,
            folding_factor: folding,
            soundness_type: self.assumption,
            security_level: self.security_level,
            // Under the Johnson bound every count and grinding level is re-derived by
            // [`provable_rounds`]; p3-whir's own (m = 10) sizing only lays out the rounds, so its
            // grinding budget must not reject a layout ours accepts.
            pow_bits: if self.provable() {
                P3_LAYOUT_POW
            } else {
                self.pow_bits
            },
        }
    }

    /// Whether the parameters are the provable (Johnson-bound) ones zkgrad re-derives.
    pub fn provable(&self) -> bool {
        self.assumption == SecurityAssumption::JohnsonBound
    }

    /// The regime the analysis uses.
    pub fn regime(&self) -> crate::security::Regime {
        crate::security::Regime::Johnson {
            m: self.johnson_m.max(3),
        }
    }

    /// Canonical byte description, hashed into the commitment digest.
    pub(super) fn describe(&self) -> Vec<u8> {
        let assumption = match self.assumption {
            SecurityAssumption::UniqueDecoding => 0u64,
            SecurityAssumption::JohnsonBound => 1,
            SecurityAssumption::CapacityBound => 2,
        };
        [
            self.security_level as u64,
            self.pow_bits as u64,
            assumption,
            self.starting_log_inv_rate as u64,
            self.first_folding_factor as u64,
            self.folding_factor as u64,
            self.rate_step.map_or(u64::MAX, |s| s as u64),
            self.min_num_vars as u64,
            self.zk_ell as u64,
            self.zk_mask_log_inv_rate as u64,
            u64::from(self.johnson_m),
            SALT_ELEMS as u64,
            self.openings as u64,
        ]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect()
    }
}

/// Re-sizes the HVZK base case for a provable bound (see [`crate::security`], "Hiding mode").
///
/// * The shared grinding before the base case's spot checks is raised to the PoW budget
///   (cheap at ≤ 20 bits; each bit saves spot checks).
/// * Every mask code is analysed at its unique-decoding radius (list size 1, so the product of
///   candidate lists stays small), with the spot-check count that radius needs
///   ([`crate::security::ud_mask_queries`]); `p3-whir` sizes them for the Johnson radius.
/// * The source (last oracle) gets the fewest spot checks for which the best provable analysis
///   ([`crate::security::BaseCase::best`]) reaches the target in both the query and the γ round.
///
/// * Every oracle's spot checks are sized for its **randomized** code: M message rows and t
///   randomness rows per limb in a codeword of height H are a Reed–Solomon code of rate
///   (M + t)/H, not M/H. `p3-whir` re-sizes only the base case for this; an oracle analysed at
///   M/H would claim a radius its code does not have (at 17 variables, ~5 bits short in round 0
///   and more in round 1, where t is comparable to M).
///
/// Each code's randomness length is its spot-check count times the openings it must hide
/// ([`PcsParams::openings`] for the first oracle, 1 for the fresh ones), so every opened
/// position stays simulatable; the mask shapes and the last oracle's randomness follow. Fails
/// if an oracle has no room for that randomness.
pub(super) fn with_ud_masks(
    mut cfg: p3_whir::ZkWhirConfig<
        crate::field::EF,
        crate::field::F,
        crate::transcript::Challenger,
    >,
    params: &PcsParams,
) -> Result<
    p3_whir::ZkWhirConfig<crate::field::EF, crate::field::F, crate::transcript::Challenger>,
    String,
> {
    use crate::security::{BaseCase, oracle_geometry, randomized_rate};
    use p3_whir::pcs::zk::MaskCodeShape;
    provable_rounds(&mut cfg.inner, params)?;
    cfg.final_pow_bits = params.pow_bits;
    let rounds = cfg.n_rounds();
    let regime = params.regime();
    let target = params.security_level as f64;
    // Oracle 0 is the commitment, opened `openings` times; every later oracle is fresh.
    let openings_of = |i: usize| if i == 0 { params.openings.max(1) } else { 1 };
    // Oracle i < rounds is opened by round i's spot checks: its randomness covers them, and the
    // spot checks are sized for the randomized code's rate (M + t)/H — a fixed point, since t
    // grows with the spot checks.
    for i in 0..rounds {
        let (rows, height) = oracle_geometry(&cfg, i);
        let b = openings_of(i);
        let mut q = cfg.inner.round_parameters[i].num_queries;
        loop {
            let t = b * q;
            if rows + t > height {
                return Err(format!(
                    "oracle {i} has no room for {t} randomness rows ({rows} message rows, height {height})"
                ));
            }
            let need = queries_for(
                regime,
                target,
                params.pow_bits,
                randomized_rate(rows, t, height),
            );
            if need <= q {
                break;
            }
            q = need;
        }
        let rp = &mut cfg.inner.round_parameters[i];
        let next_rate = rp.log_inv_rate;
        let shift = regime
            .query_bits(randomized_rate(rows, b * q, height), q)
            .min(regime.combination_bits(next_rate, rp.ood_samples, q));
        rp.num_queries = q;
        rp.pow_bits = pow_for(target, shift);
        if rp.pow_bits > params.pow_bits {
            return Err(format!(
                "round {i} needs {} bits of grinding, over the {}-bit budget",
                rp.pow_bits, params.pow_bits
            ));
        }
        cfg.oracle_randomness[i] = b * q;
    }
    let q = crate::security::ud_mask_queries(
        cfg.security_level,
        params.zk_mask_log_inv_rate,
        cfg.final_pow_bits,
        rounds,
    );
    cfg.mask_queries = q;
    cfg.sumcheck_mask = MaskCodeShape::new(params.zk_ell, q, params.zk_mask_log_inv_rate);
    cfg.switch_masks = (0..rounds)
        .map(|j| {
            let len = cfg.oracle_randomness[j] + cfg.inner.round_parameters[j].ood_samples;
            MaskCodeShape::new(len, q, params.zk_mask_log_inv_rate)
        })
        .collect();
    // The last oracle's message rows and codeword height bound its randomness.
    let (rows, height) = oracle_geometry(&cfg, rounds);
    let b = openings_of(rounds);
    let mut base = BaseCase::of(&cfg);
    let found = (1..=(height - rows) / b).find(|&t| {
        base.queries = t;
        base.randomness = b * t;
        let (_, (query, gamma)) = base.best();
        query >= target && gamma >= target
    });
    let t = found.ok_or_else(|| {
        format!("the HVZK base case cannot reach {target} bits within the last oracle's slack")
    })?;
    cfg.final_queries = t;
    cfg.oracle_randomness[rounds] = b * t;
    Ok(cfg)
}

/// Grinding budget handed to p3-whir when zkgrad re-derives the rounds itself.
const P3_LAYOUT_POW: usize = 60;

/// Grinding that lifts `bits` to `target` (whole bits, rounded up).
fn pow_for(target: f64, bits: f64) -> usize {
    (target - bits).max(0.0).ceil() as usize
}

/// Spot checks at log inverse rate `rate` that reach `target` with `pow` bits of grinding.
fn queries_for(regime: crate::security::Regime, target: f64, pow: usize, rate: f64) -> usize {
    ((target - pow as f64) / -regime.log_one_minus_delta(rate))
        .ceil()
        .max(1.0) as usize
}

/// Re-derives every count and grinding level of a WHIR layout under the Johnson bound at the
/// parameters' proximity parameter m (the analysis of [`crate::security::whir_components`]):
/// out-of-domain samples, spot checks (with `pow_bits` of grinding before each query phase) and
/// folding grinding. Fails if a phase would need more grinding than `pow_bits`.
pub(super) fn provable_rounds(
    whir: &mut p3_whir::WhirConfig<
        crate::field::EF,
        crate::field::F,
        crate::transcript::Challenger,
    >,
    params: &PcsParams,
) -> Result<(), String> {
    let regime = params.regime();
    let target = params.security_level as f64;
    let budget = params.pow_bits;
    let ood = |log_deg: usize, rate: usize| {
        (1..64)
            .find(|&s| regime.ood_bits(log_deg, rate, s) >= target)
            .unwrap_or(64)
    };
    let fold_pow = |log_deg: usize, rate: usize| {
        pow_for(
            target,
            regime
                .prox_gap_bits(log_deg, rate, 2)
                .min(regime.fold_sumcheck_bits(rate)),
        )
    };
    let mut nv = whir.num_variables;
    let mut rate = whir.params.starting_log_inv_rate;
    whir.commitment_ood_samples = ood(nv, rate);
    whir.starting_folding_pow_bits = fold_pow(nv, rate);
    nv -= whir.folding_schedule[0];
    for i in 0..whir.round_parameters.len() {
        let next = whir.round_parameters[i].log_inv_rate;
        let s = ood(nv, next);
        let q = queries_for(regime, target, budget, rate as f64);
        let shift = regime
            .query_bits(rate as f64, q)
            .min(regime.combination_bits(next, s, q));
        let rp = &mut whir.round_parameters[i];
        rp.ood_samples = s;
        rp.num_queries = q;
        rp.pow_bits = pow_for(target, shift);
        rp.folding_pow_bits = fold_pow(nv, next);
        nv -= whir.folding_schedule[i + 1];
        rate = next;
    }
    whir.final_queries = queries_for(regime, target, budget, rate as f64);
    whir.final_pow_bits = pow_for(target, regime.query_bits(rate as f64, whir.final_queries));
    whir.final_folding_pow_bits = pow_for(target, crate::security::sumcheck_bits(1, 2));
    // Grinding costs ~1 µs per try (2^16 tries ≈ 80 ms): every phase stays within the budget
    // except the first fold of the largest tables, which may grind up to MAX_FOLD_POW.
    let later = whir
        .round_parameters
        .iter()
        .map(|r| r.pow_bits.max(r.folding_pow_bits));
    let worst = later
        .chain([whir.final_pow_bits, whir.final_folding_pow_bits])
        .max()
        .unwrap_or(0);
    if worst > budget || whir.starting_folding_pow_bits > budget.max(MAX_FOLD_POW) {
        return Err(format!(
            "a phase needs {} bits of grinding, over the {budget}-bit budget ({MAX_FOLD_POW} for the first fold)",
            worst.max(whir.starting_folding_pow_bits)
        ));
    }
    Ok(())
}
