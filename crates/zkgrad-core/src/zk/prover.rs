//! The prover. Transcript order (mirrored by `verifier.rs`): statement (`crate::statement`); witness
//! commitment (columns and sumcheck masks); α; inverse commitment; the lookup sumcheck; the output
//! point; each block from the last to the first; the inverse, weight, (committed input's) and
//! witness batchings; then the openings (witness, inverses, weights, and a committed input's).

use rand::{Rng, SeedableRng};

use super::masked::{LiftPoint, split_ext};
use super::masks::MaskPlan;
use super::proof::{ZkBlockProof, ZkProof};
use super::sumcheck::{self as zksc, ZkSumcheckProof};
use super::verifier::{Claims, WitnessTable, take_input_claims};
use super::{conv, dense, elementwise, input, lookup, matmul, open, pool};
use crate::circuit::{BlockTrace, CircuitSpec, LayerKind, Weights};
use crate::commit::{WeightTables, weight_tables};
use crate::data::DatasetLeaf;
use crate::error::Result;
use crate::field::{EF, F};
use crate::mle::evaluate_base;
use crate::pcs::{Pcs, ProverData};
use crate::transcript::Transcript;
use crate::witness::{WitnessPlan, WitnessTamper};

/// Prints the time of each prover phase to stderr when `ZKGRAD_PROFILE` is set.
pub(crate) struct Stopwatch {
    on: bool,
    last: std::time::Instant,
}

impl Stopwatch {
    pub(crate) fn new() -> Self {
        Self {
            on: std::env::var_os("ZKGRAD_PROFILE").is_some(),
            last: std::time::Instant::now(),
        }
    }

    pub(crate) fn lap(&mut self, what: &str) {
        if self.on {
            eprintln!(
                "[zkgrad] {what}: {:.1} ms",
                self.last.elapsed().as_secs_f64() * 1e3
            );
        }
        self.last = std::time::Instant::now();
    }
}

/// What the block steps read and where they leave their claims.
pub(crate) struct ProverCtx<'a> {
    pub spec: &'a CircuitSpec,
    pub plan: &'a WitnessPlan,
    pub cols: &'a [Vec<F>],
    /// The witness columns' masks.
    pub wit_r: &'a [Vec<F>],
    /// The weight columns and their masks.
    pub wcols: &'a [Vec<F>],
    pub w_r: &'a [Vec<F>],
    pub tr: &'a mut Transcript,
    masks: std::vec::IntoIter<Vec<Vec<EF>>>,
    mask_plan: &'a MaskPlan,
    next: usize,
    pub claims: Claims,
}

impl ProverCtx<'_> {
    /// Starts the next sumcheck of the schedule with its committed masks.
    pub fn sumcheck(&mut self, label: &str) -> zksc::Prover {
        let masks = self
            .masks
            .next()
            .expect("the schedule lists every sumcheck");
        zksc::Prover::start(
            masks,
            self.mask_plan.schedules[self.next].clone(),
            label,
            self.tr,
        )
    }

    /// Ends it and records the mask claims.
    pub fn finish(&mut self, sc: zksc::Prover) -> Result<ZkSumcheckProof> {
        let (proof, point) = sc.finish(self.tr);
        self.claims.mask.extend(
            self.mask_plan
                .claims(self.next, &point, &proof.mask_evals)?,
        );
        self.next += 1;
        Ok(proof)
    }

    pub fn input_col(&self, l: usize) -> usize {
        crate::block::input_col(self.spec, self.plan, l)
    }
}

/// Proves a batch in zero knowledge; `traces` come from the forward pass, `weight_data` opens
/// the model commitment the statement names, `tr` has the statement.
pub(crate) fn prove(
    spec: &CircuitSpec,
    w: &Weights,
    seed: [u8; 32],
    inputs: &[Vec<i64>],
    traces: &[Vec<BlockTrace>],
    tamper: Option<WitnessTamper>,
    weight_data: ProverData,
    kept_tables: Option<&WeightTables>,
    input_leaf: Option<&DatasetLeaf<'_>>,
    tr: Transcript,
) -> Result<ZkProof> {
    prove_hooked(
        spec,
        w,
        seed,
        inputs,
        traces,
        tamper,
        weight_data,
        kept_tables,
        input_leaf,
        None,
        tr,
    )
}

/// An accuracy attestation's parts of the protocol (`crate::data::attest`): the output is
/// hidden (a masked column) and the hook proves what the statement says about it in place of
/// the public output point; the input's claims are answered by the hook's table (the dataset).
pub(crate) trait ProverHook {
    /// After the weight lift point is drawn: the input column's mask as the hook's table reads
    /// it (what the input's masked values are computed with).
    fn input_mask(&mut self, plan: &WitnessPlan, tr: &mut Transcript) -> Result<Vec<F>>;
    /// In place of the output point: proves what it proves about the last activations and adds
    /// its claims on them to `ctx.claims.wit`.
    fn output(&mut self, ctx: &mut ProverCtx) -> Result<()>;
    /// After the inference's openings: answers the input claims.
    fn finish(
        &mut self,
        tr: &mut Transcript,
        input_claims: Vec<(usize, Vec<EF>, EF)>,
    ) -> Result<()>;
}

/// [`prove`], with an optional [`ProverHook`].
#[allow(clippy::too_many_arguments)]
pub(crate) fn prove_hooked(
    spec: &CircuitSpec,
    w: &Weights,
    seed: [u8; 32],
    inputs: &[Vec<i64>],
    traces: &[Vec<BlockTrace>],
    tamper: Option<WitnessTamper>,
    weight_data: ProverData,
    kept_tables: Option<&WeightTables>,
    input_leaf: Option<&DatasetLeaf<'_>>,
    mut hook: Option<&mut dyn ProverHook>,
    mut tr: Transcript,
) -> Result<ZkProof> {
    super::check_supported(spec)?;
    let mut sw = Stopwatch::new();
    let mut rng = rand::rngs::StdRng::from_os_rng();
    // The kept table of a cached commitment (it is what the commitment holds), or a fresh one.
    let fresh;
    let weights = match kept_tables {
        Some(t) => t,
        None => {
            fresh = weight_tables(spec, w, seed)?;
            &fresh
        }
    };
    let weight_table = weights.table();
    let wcols = &weights.cols;
    sw.lap("zk: weight table and masks");
    let plan = WitnessPlan::new(spec, inputs.len());
    let mut cols = plan.columns(spec, inputs, traces);
    if let Some(t) = tamper {
        t(&plan, &mut cols);
    }
    // One table for the witness columns and every sumcheck's masks (`WitnessTable`).
    let table = WitnessTable::with_output(spec, &plan, hook.is_none());
    let mask_plan = &table.mask_plan;
    let masks: Vec<Vec<Vec<EF>>> = mask_plan
        .schedules
        .iter()
        .map(|s| zksc::random_masks(s, &mut rng))
        .collect();
    let mut table_cols = cols.clone();
    table_cols.extend(mask_plan.columns(&masks));
    let (wit_table, mut wit_r) = table.layout.masked_table(&table_cols, &mut rng);
    drop(table_cols);
    let wit_pcs = Pcs::new(table.layout.num_vars(), true);
    let (witness_commitment, wit_data) = wit_pcs.commit(wit_table.clone(), rng.random());
    sw.lap("zk: witness and mask commitment");
    // A committed input: the epoch leaf it opens (its commitment and the published one are in
    // the statement already: `crate::prover`).
    let committed_input = match (spec.committed_input, input_leaf) {
        (true, Some(leaf)) => Some(leaf),
        (true, None) if hook.is_none() => {
            return Err(crate::ProofError::Circuit(
                "the circuit's input is committed: give the input's commitment seed".into(),
            ));
        }
        _ => None,
    };
    tr.absorb_bytes("witness-commitment", &witness_commitment.digest());
    let alpha = tr.challenge("lookup-alpha");
    let beta = lookup::beta(&plan, &mut tr);

    let inv = lookup::inverses(&plan, &cols, alpha, beta)?;
    sw.lap("zk: inverses");
    let inv_layout = lookup::inverse_layout(&plan);
    let inv_cols: Vec<Vec<F>> = inv.iter().map(|h| split_ext(h)).collect();
    let (inv_table, inv_r) = inv_layout.masked_table(&inv_cols, &mut rng);
    sw.lap("zk: inverse table");
    let inv_pcs = Pcs::new(inv_layout.num_vars(), true);
    let (inverse_commitment, inv_data) = inv_pcs.commit(inv_table.clone(), rng.random());
    tr.absorb_bytes("inverse-commitment", &inverse_commitment.digest());
    sw.lap("zk: inverses and their commitment");
    // This proof's point for the weight table's lifted masks: every commitment is absorbed and
    // no weight value is revealed yet (`masked.rs`).
    let lift = LiftPoint::draw(&weights.layout, &mut tr);
    let w_r = weights.expanded_masks(&lift);
    if let Some(h) = hook.as_deref_mut() {
        wit_r[plan.x] = h.input_mask(&plan, &mut tr)?;
    }
    // The committed input's lift point (its masks are lifted, as a dataset's: `zk/input.rs`),
    // and its mask as the witness's input column reads it.
    let input_lift = match committed_input {
        Some(leaf) => {
            let u = input::draw_lift(&plan, &mut tr);
            wit_r[plan.x] = input::expanded_mask(&plan, &leaf.node.expanded_masks(&u));
            u
        }
        None => LiftPoint::none(),
    };

    let mut ctx = ProverCtx {
        spec,
        plan: &plan,
        cols: &cols,
        wit_r: &wit_r,
        wcols,
        w_r: &w_r,
        tr: &mut tr,
        masks: masks.into_iter(),
        mask_plan,
        next: 0,
        claims: Claims::default(),
    };
    crate::progress::report(crate::progress::Stage::Sumchecks);
    let lookups = lookup::prove(&mut ctx, alpha, beta, &inv, &inv_r)?;
    sw.lap("zk: lookup sumcheck");
    // The public outputs equal their blocks' (unmasked) activations.
    match hook.as_deref_mut() {
        None => {
            for b in spec.output_blocks() {
                let block = &plan.blocks[b];
                let r_out = ctx
                    .tr
                    .challenge_point("output-point", block.log_out + plan.log_batch);
                let out_value = evaluate_base(&cols[block.a], &r_out);
                ctx.claims.wit.push((block.a, r_out, out_value));
            }
        }
        Some(h) => {
            h.output(&mut ctx)?;
            sw.lap("zk: hook output (attestation relation)");
        }
    }
    let mut blocks = Vec::with_capacity(spec.layers.len());
    for l in (0..spec.layers.len()).rev() {
        blocks.push(match spec.layers[l].kind {
            LayerKind::Dense => ZkBlockProof::Linear(dense::prove(&mut ctx, l)?),
            LayerKind::Conv(_) => ZkBlockProof::Linear(conv::prove(&mut ctx, l)?),
            LayerKind::MaxPool(_) => ZkBlockProof::Pool(pool::prove(&mut ctx, l)?),
            LayerKind::Elementwise(_) => {
                ZkBlockProof::Elementwise(elementwise::prove(&mut ctx, l)?)
            }
            // Proved whole by its lookup (`unary.rs`).
            LayerKind::Unary(_) => ZkBlockProof::Unary,
            LayerKind::MatMul(_) => ZkBlockProof::MatMul(matmul::prove(&mut ctx, l)?),
        });
    }
    let mut claims = std::mem::take(&mut ctx.claims);
    sw.lap("zk: blocks");
    let mut input_claims = take_input_claims(
        &mut claims,
        &plan,
        committed_input.is_some() || hook.is_some(),
    );
    if committed_input.is_some() {
        input_claims = input::table_claims(&plan, input_claims);
    }
    if std::env::var_os("ZKGRAD_PROFILE").is_some() {
        eprintln!(
            "[zkgrad] zk: {} witness, {} inverse, {} weight claims",
            claims.wit.len(),
            claims.inv.len(),
            claims.weight.len()
        );
        eprintln!(
            "[zkgrad] zk: table variables: witness {} (columns, sumcheck masks and column masks fill {} of 2^{}; sumcheck masks {} entries), inverses {}, weights {}",
            table.layout.num_vars(),
            table
                .layout
                .layout
                .columns
                .iter()
                .map(|&(_, k)| 1usize << k)
                .sum::<usize>(),
            table.layout.num_vars(),
            mask_plan.logs.iter().map(|&k| 1usize << k).sum::<usize>(),
            inv_layout.num_vars(),
            weights.layout.num_vars()
        );
    }
    // Many claims on each table: batched into one point each. The witness batching comes last,
    // as it also takes every mask claim but its own.
    // Nothing is revealed on a column whose masks cannot hide it (`budget.rs`).
    super::budget::check_claims(&inv_layout, &claims.inv, "inverse")?;
    super::budget::check_claims(&weights.layout, &claims.weight, "weight")?;
    if committed_input.is_some() {
        input::check_claims(&plan, &input_claims)?;
    }
    let (ib, rho_i, t_i) = open::prove(
        &mut ctx,
        "zk-open-inverses",
        (&inv_layout, &LiftPoint::none()),
        &inv_table,
        &claims.inv,
    )?;
    sw.lap("zk: inverse batching");
    let (wtb, rho_wt, t_wt) = open::prove(
        &mut ctx,
        "zk-open-weights",
        (&weights.layout, &lift),
        &weight_table,
        &claims.weight,
    )?;
    sw.lap("zk: weight batching");
    drop(weight_table);
    let input_batch = match committed_input {
        Some(leaf) => Some(open::prove(
            &mut ctx,
            "zk-open-input",
            (&input::layout(&plan), &input_lift),
            &leaf.node.table(),
            &input_claims,
        )?),
        None => None,
    };
    let mut wit_list = claims.wit;
    wit_list.extend(table.mask_claims(claims.mask));
    wit_list.extend(table.mask_claims(std::mem::take(&mut ctx.claims.mask)));
    super::budget::check_claims(&table.layout, &wit_list, "witness")?;
    if std::env::var_os("ZKGRAD_PROFILE").is_some() {
        let counts = |l: &super::masked::MaskedLayout, c: &[(usize, Vec<EF>, EF)]| {
            super::budget::distinct_claims(l, c)
                .iter()
                .enumerate()
                .filter(|&(i, _)| l.masked[i])
                .map(|(i, &n)| (n, l.proof_mask_dim(i)))
                .max()
                .unwrap_or((0, 0))
        };
        eprintln!(
            "[zkgrad] zk: most claims on a masked column (claims, mask dim): witness {:?}, inverses {:?}, weights {:?}",
            counts(&table.layout, &wit_list),
            counts(&inv_layout, &claims.inv),
            counts(&weights.layout, &claims.weight)
        );
    }
    let (wb, rho_w, t_w) = open::prove(
        &mut ctx,
        "zk-open-witness",
        (&table.layout, &LiftPoint::none()),
        &wit_table,
        &wit_list,
    )?;
    let own_masks = table.mask_claims(std::mem::take(&mut ctx.claims.mask));
    sw.lap("zk: witness batching");
    crate::progress::report(crate::progress::Stage::Openings);
    let mut wit_points = vec![rho_w];
    wit_points.extend(own_masks.iter().map(|(c, z, _)| {
        table
            .layout
            .point(*c, z)
            .expect("mask columns are unmasked")
    }));
    let mut openings = Vec::with_capacity(4);
    openings.push(wit_pcs.open(wit_data, &wit_points, &mut tr).1);
    openings.push(inv_pcs.open(inv_data, &[rho_i], &mut tr).1);
    sw.lap("zk: witness and inverse openings");
    openings.push(
        crate::commit::weight_pcs(spec)?
            .open(weight_data, &[rho_wt], &mut tr)
            .1,
    );
    sw.lap("zk: weight opening");
    let input_batch = match (committed_input, input_batch) {
        (Some(leaf), Some((proof, rho, value))) => {
            openings.push(
                input::pcs(&plan)?
                    .open(leaf.prover_data()?, &[rho], &mut tr)
                    .1,
            );
            Some((proof, value))
        }
        _ => None,
    };
    if std::env::var_os("ZKGRAD_PROFILE").is_some() {
        for (name, o) in ["witness", "inverses", "weights", "input"]
            .iter()
            .zip(&openings)
        {
            eprintln!(
                "[zkgrad] zk: opening {name}: {} bytes {:?}",
                o.size_bytes(),
                o.size_breakdown()
            );
        }
    }
    if let Some(h) = hook {
        h.finish(&mut tr, input_claims)?;
        sw.lap("zk: hook finish (attestation openings)");
    }
    let (witness_batch, inverse_batch, weight_batch) = ((wb, t_w), (ib, t_i), (wtb, t_wt));
    Ok(ZkProof {
        epoch: None,
        // Set by the caller, which made the input's commitments (`crate::prover`).
        input_commitment: None,
        input_epoch: None,
        witness_commitment,
        inverse_commitment,
        lookups,
        blocks,
        witness_batch,
        inverse_batch,
        weight_batch,
        input_batch,
        openings,
    })
}
