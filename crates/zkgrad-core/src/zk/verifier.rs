//! The verifier: mirrors `prover.rs` step by step and never panics on proof bytes.

use super::masked::{LiftPoint, MaskedLayout};
use super::masks::MaskPlan;
use super::proof::{ZkBlockProof, ZkProof};
use super::sumcheck::{self as zksc, ZkSumcheckProof};
use super::{conv, dense, elementwise, lookup, matmul, pool};
use crate::circuit::{CircuitSpec, LayerKind};
use crate::commit::{ModelCommitment, weight_masked_layout};
use crate::error::{ProofError, Result};
use crate::field::{EF, F};
use crate::pcs::Pcs;
use crate::transcript::Transcript;
use crate::witness::WitnessPlan;

/// Claims on committed columns: (column, local point, value) per commitment.
#[derive(Default)]
pub(crate) struct Claims {
    pub wit: Vec<(usize, Vec<EF>, EF)>,
    pub inv: Vec<(usize, Vec<EF>, EF)>,
    pub weight: Vec<(usize, Vec<EF>, EF)>,
    /// On the sumcheck masks (`MaskPlan` column indices; they live in the witness table).
    pub mask: Vec<(usize, Vec<EF>, EF)>,
}

/// The witness commitment's table: the plan's columns, then every sumcheck's mask columns (the
/// masks are drawn before any challenge, so they share the witness's commitment and opening).
pub(crate) struct WitnessTable {
    /// The mask layout, one column per round of every sumcheck.
    pub mask_plan: MaskPlan,
    /// Plan columns (indices as in the plan), then mask columns (from `mask_first`), then the
    /// columns' masks. The sumcheck mask columns carry no mask: only their claimed values are shown.
    pub layout: MaskedLayout,
    pub mask_first: usize,
}

impl WitnessTable {
    /// The table for `plan`. The witness's batching sumcheck has a round per variable of this very
    /// table, and its masks are columns of it: grow the variable count until it is a fixed point.
    pub fn new(spec: &CircuitSpec, plan: &WitnessPlan) -> Self {
        Self::with_output(spec, plan, true)
    }

    /// [`Self::new`]; a hidden output (an accuracy attestation, `crate::data::attest`) is a
    /// masked column like any activation.
    pub fn with_output(spec: &CircuitSpec, plan: &WitnessPlan, public_output: bool) -> Self {
        let mask_first = plan.layout.columns.len();
        let plan_logs = plan.layout.columns.iter().map(|&(_, k)| k);
        let mut vars = plan.layout.num_vars;
        loop {
            let mask_plan = MaskPlan::new(schedules(spec, plan, vars));
            let logs: Vec<usize> = plan_logs
                .clone()
                .chain(mask_plan.logs.iter().copied())
                .collect();
            let mut masked = masked_columns(spec, plan);
            for b in spec.output_blocks() {
                masked[plan.blocks[b].a] = !public_output;
            }
            masked.resize(logs.len(), false);
            let layout = MaskedLayout::new(&logs, &masked);
            if layout.num_vars() <= vars {
                return Self {
                    mask_plan,
                    layout,
                    mask_first,
                };
            }
            vars = layout.num_vars();
        }
    }

    /// Mask claims as claims on the witness table's columns.
    pub fn mask_claims(&self, list: Vec<(usize, Vec<EF>, EF)>) -> Vec<(usize, Vec<EF>, EF)> {
        list.into_iter()
            .map(|(c, z, v)| (self.mask_first + c, z, v))
            .collect()
    }
}

/// Moves the claims on the input column to the input commitment's (column 0), when committed.
pub(crate) fn take_input_claims(
    claims: &mut Claims,
    plan: &WitnessPlan,
    committed: bool,
) -> Vec<(usize, Vec<EF>, EF)> {
    if !committed {
        return Vec::new();
    }
    let (input, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut claims.wit)
        .into_iter()
        .partition(|(c, _, _)| *c == plan.x);
    claims.wit = rest;
    input.into_iter().map(|(_, z, v)| (0, z, v)).collect()
}

/// Which witness columns carry masks: all but the public ones (the outputs; the input when
/// public).
pub(crate) fn masked_columns(spec: &CircuitSpec, plan: &WitnessPlan) -> Vec<bool> {
    let mut m = vec![true; plan.layout.columns.len()];
    if spec.public_input {
        m[plan.x] = false;
    }
    for b in spec.output_blocks() {
        m[plan.blocks[b].a] = false;
    }
    m
}

/// Every zero-knowledge sumcheck of a proof, in order, as its round degrees; `witness_vars` is
/// the witness table's variable count ([`WitnessTable`]).
pub(crate) fn schedules(
    spec: &CircuitSpec,
    plan: &WitnessPlan,
    witness_vars: usize,
) -> Vec<Vec<usize>> {
    let mut s = vec![lookup::schedule(plan)];
    for l in (0..spec.layers.len()).rev() {
        let n_out = plan.blocks[l].log_out + plan.log_batch;
        let k_in = spec.layer_input_shape(l).log_size();
        match &spec.layers[l].kind {
            LayerKind::Dense => s.push(dense::schedule(
                n_out,
                crate::commit::weight_logs(spec, l).0,
            )),
            LayerKind::Conv(_) => s.push(conv::schedule(
                n_out,
                crate::commit::weight_logs(spec, l).0,
                k_in,
            )),
            LayerKind::MaxPool(g) => {
                let (link, product) = pool::schedules(n_out, k_in + plan.log_batch, g.window());
                s.extend([link, product]);
            }
            LayerKind::Elementwise(g) => s.push(elementwise::schedule(g.op, n_out)),
            LayerKind::MatMul(g) => s.push(matmul::schedule(n_out, g, plan.log_batch)),
            LayerKind::Unary(_) => {}
        }
        if spec.layers[l].relu {
            s.push(dense::relu_schedule(n_out));
        }
    }
    s.push(super::open::schedule(
        lookup::inverse_layout(plan).num_vars(),
    ));
    s.push(super::open::schedule(weight_masked_layout(spec).num_vars()));
    if spec.committed_input {
        s.push(super::open::schedule(super::input::layout(plan).num_vars()));
    }
    s.push(super::open::schedule(witness_vars));
    s
}

/// What the block steps read and the claims they collect.
pub(crate) struct VerifierCtx<'a> {
    pub spec: &'a CircuitSpec,
    pub plan: &'a WitnessPlan,
    pub tr: &'a mut Transcript,
    mask_plan: &'a MaskPlan,
    next: usize,
    pub claims: Claims,
}

impl VerifierCtx<'_> {
    /// Verifies the next sumcheck of the schedule; returns its point and the summand's value
    /// there, and records the mask claims.
    pub fn sumcheck(
        &mut self,
        label: &str,
        claim: EF,
        p: &ZkSumcheckProof,
    ) -> Result<(Vec<EF>, EF)> {
        let degrees =
            self.mask_plan.schedules.get(self.next).ok_or_else(|| {
                ProofError::Malformed("more sumchecks than the circuit has".into())
            })?;
        let (point, expected) = zksc::verify(claim, degrees, p, label, self.tr)?;
        self.claims
            .mask
            .extend(self.mask_plan.claims(self.next, &point, &p.mask_evals)?);
        self.next += 1;
        Ok((point, expected))
    }

    pub fn input_col(&self, l: usize) -> usize {
        crate::block::input_col(self.spec, self.plan, l)
    }
}

/// Verifies a zero-knowledge proof body; `tr` has absorbed the statement, `output` is the
/// claimed output, `public_x` the input column when the input is public.
pub(crate) fn verify(
    spec: &CircuitSpec,
    mc: &ModelCommitment,
    weights: &crate::pcs::Commitment,
    plan: &WitnessPlan,
    p: &ZkProof,
    output_value: impl Fn(usize, &[EF]) -> EF,
    public_x: Option<&[F]>,
    tr: Transcript,
) -> Result<()> {
    verify_hooked(
        spec,
        mc,
        weights,
        plan,
        p,
        Output::Public(&output_value),
        public_x,
        tr,
    )
}

/// Where the claim on the last activations comes from.
pub(crate) enum Output<'a> {
    /// The public outputs: output `which` of [`CircuitSpec::output_blocks`] evaluated at a
    /// random point.
    Public(&'a dyn Fn(usize, &[EF]) -> EF),
    /// A hidden output whose claims (and the input's) another protocol makes and answers: an
    /// accuracy attestation (`crate::data::attest`).
    Hook(&'a mut dyn VerifierHook),
}

/// The verifier's side of [`super::prover::ProverHook`], called at the same transcript points.
pub(crate) trait VerifierHook {
    /// After the weight lift point is drawn: draws what the input claims' answer needs.
    fn input_lift(&mut self, tr: &mut Transcript) -> Result<()>;
    /// In place of the output point: verifies what it proves about the last activations and
    /// adds its claims on them to `ctx.claims.wit`.
    fn output(&mut self, ctx: &mut VerifierCtx) -> Result<()>;
    /// After the inference's openings: checks the input claims' answer.
    fn finish(
        &mut self,
        tr: &mut Transcript,
        input_claims: Vec<(usize, Vec<EF>, EF)>,
    ) -> Result<()>;
}

/// [`verify`] with the output public or hooked.
#[allow(clippy::too_many_arguments)]
pub(crate) fn verify_hooked(
    spec: &CircuitSpec,
    mc: &ModelCommitment,
    weights: &crate::pcs::Commitment,
    plan: &WitnessPlan,
    p: &ZkProof,
    mut output: Output<'_>,
    public_x: Option<&[F]>,
    mut tr: Transcript,
) -> Result<()> {
    let hooked = matches!(output, Output::Hook(_));
    super::check_supported(spec)?;
    mc.check_range(spec)?;
    let openings = 3 + usize::from(spec.committed_input);
    if p.blocks.len() != spec.layers.len() {
        return Err(ProofError::Shape {
            what: "zero-knowledge blocks",
            expected: spec.layers.len(),
            got: p.blocks.len(),
        });
    }
    if p.openings.len() != openings {
        return Err(ProofError::Shape {
            what: "zero-knowledge openings",
            expected: openings,
            got: p.openings.len(),
        });
    }
    if p.input_commitment.is_some() != spec.committed_input
        || p.input_epoch.is_some() != spec.committed_input
    {
        return Err(ProofError::Malformed(
            "the input commitment does not match the circuit's input visibility".into(),
        ));
    }
    // The committed input (its published commitment and epoch leaf are in the statement, and
    // the leaf's chain is checked: `crate::verifier`): what its claims are opened against.
    let input_leaf = p.input_epoch.as_ref().map(|e| &e.commitment);
    let table = WitnessTable::with_output(spec, plan, !hooked);
    crate::bounds::check_zk_shapes(spec, &table, p)?;
    tr.absorb_bytes("witness-commitment", &p.witness_commitment.digest());
    let alpha = tr.challenge("lookup-alpha");
    let beta = lookup::beta(plan, &mut tr);
    tr.absorb_bytes("inverse-commitment", &p.inverse_commitment.digest());
    let wl = weight_masked_layout(spec);
    let lift = LiftPoint::draw(&wl, &mut tr);
    if let Output::Hook(h) = &mut output {
        h.input_lift(&mut tr)?;
    }
    let input_lift = match input_leaf {
        Some(_) => super::input::draw_lift(plan, &mut tr),
        None => LiftPoint::none(),
    };
    let mut ctx = VerifierCtx {
        spec,
        plan,
        tr: &mut tr,
        mask_plan: &table.mask_plan,
        next: 0,
        claims: Claims::default(),
    };
    lookup::verify(&mut ctx, alpha, beta, &p.lookups)?;
    match &mut output {
        Output::Public(output_value) => {
            for (which, b) in spec.output_blocks().into_iter().enumerate() {
                let block = &plan.blocks[b];
                let r_out = ctx
                    .tr
                    .challenge_point("output-point", block.log_out + plan.log_batch);
                let v = output_value(which, &r_out);
                ctx.claims.wit.push((block.a, r_out, v));
            }
        }
        Output::Hook(h) => h.output(&mut ctx)?,
    }
    for (l, bp) in (0..spec.layers.len()).rev().zip(&p.blocks) {
        match (&spec.layers[l].kind, bp) {
            (LayerKind::Dense, ZkBlockProof::Linear(b)) => dense::verify(&mut ctx, l, b)?,
            (LayerKind::Conv(_), ZkBlockProof::Linear(b)) => conv::verify(&mut ctx, l, b)?,
            (LayerKind::MaxPool(_), ZkBlockProof::Pool(b)) => pool::verify(&mut ctx, l, b)?,
            (LayerKind::Elementwise(_), ZkBlockProof::Elementwise(b)) => {
                elementwise::verify(&mut ctx, l, b)?
            }
            (LayerKind::Unary(_), ZkBlockProof::Unary) => {}
            (LayerKind::MatMul(_), ZkBlockProof::MatMul(b)) => matmul::verify(&mut ctx, l, b)?,
            _ => {
                return Err(ProofError::Layer(format!(
                    "block '{}': proof of the wrong kind",
                    spec.layers[l].name
                )));
            }
        }
    }
    let mut claims = std::mem::take(&mut ctx.claims);
    let mut input_claims = take_input_claims(&mut claims, plan, spec.committed_input || hooked);
    if spec.committed_input {
        input_claims = super::input::table_claims(plan, input_claims);
    }
    for (c, z, v) in &claims.wit {
        crate::statement::check_public_claim(plan, public_x, *c, z, *v)?;
    }
    let inv_layout = lookup::inverse_layout(plan);
    let rho_i = super::open::verify(
        &mut ctx,
        "zk-open-inverses",
        (&inv_layout, &LiftPoint::none()),
        &claims.inv,
        &p.inverse_batch.0,
        p.inverse_batch.1,
    )?;
    let rho_wt = super::open::verify(
        &mut ctx,
        "zk-open-weights",
        (&wl, &lift),
        &claims.weight,
        &p.weight_batch.0,
        p.weight_batch.1,
    )?;
    let ilayout = super::input::layout(plan);
    let input_rho = match &p.input_batch {
        Some((proof, value)) if spec.committed_input => Some((
            super::open::verify(
                &mut ctx,
                "zk-open-input",
                (&ilayout, &input_lift),
                &input_claims,
                proof,
                *value,
            )?,
            *value,
        )),
        None if !spec.committed_input => None,
        _ => {
            return Err(ProofError::Malformed(
                "the input batching does not match the circuit's input commitment".into(),
            ));
        }
    };
    let mut wit_list = claims.wit;
    wit_list.extend(table.mask_claims(claims.mask));
    wit_list.extend(table.mask_claims(std::mem::take(&mut ctx.claims.mask)));
    let rho_w = super::open::verify(
        &mut ctx,
        "zk-open-witness",
        (&table.layout, &LiftPoint::none()),
        &wit_list,
        &p.witness_batch.0,
        p.witness_batch.1,
    )?;
    // The witness batching's own mask values: direct points of the same opening.
    let mut wit_points = vec![(rho_w, p.witness_batch.1)];
    for (c, z, v) in table.mask_claims(std::mem::take(&mut ctx.claims.mask)) {
        let point = table
            .layout
            .point(c, &z)
            .ok_or_else(|| ProofError::Malformed("a sumcheck mask column is masked".into()))?;
        wit_points.push((point, v));
    }
    let open =
        |pcs: Pcs, c, claims: Vec<(Vec<EF>, EF)>, proof, tr: &mut Transcript| -> Result<()> {
            let (points, values): (Vec<Vec<EF>>, Vec<EF>) = claims.into_iter().unzip();
            pcs.verify(c, &points, &values, proof, tr)
        };
    let pcs = |n: usize| Pcs::try_new(n, true);
    open(
        pcs(table.layout.num_vars())?,
        &p.witness_commitment,
        wit_points,
        &p.openings[0],
        &mut tr,
    )?;
    open(
        pcs(inv_layout.num_vars())?,
        &p.inverse_commitment,
        vec![(rho_i, p.inverse_batch.1)],
        &p.openings[1],
        &mut tr,
    )?;
    open(
        crate::commit::weight_pcs(spec)?,
        weights,
        vec![(rho_wt, p.weight_batch.1)],
        &p.openings[2],
        &mut tr,
    )?;
    if let (Some(c), Some((rho, value))) = (input_leaf, input_rho) {
        open(
            super::input::pcs(plan)?,
            c,
            vec![(rho, value)],
            &p.openings[3],
            &mut tr,
        )?;
    }
    if let Output::Hook(h) = output {
        h.finish(&mut tr, input_claims)?;
    }
    Ok(())
}

/// Soundness of a zero-knowledge proof, in bits: the weakest component of
/// [`crate::security::proof_report`] (0 if the circuit has no valid parameters).
pub fn soundness_bits(spec: &CircuitSpec, batch: usize) -> f64 {
    crate::security::proof_report(spec, batch).map_or(0.0, |r| r.bits())
}

// Review tests (test-only): replay a proof's transcript to the claims it makes on the weights.
#[cfg(test)]
#[path = "review_tests.rs"]
mod review_tests;

/// The weight table's lifted masks (`masked.rs`) bind each revealed weight value to the lift
/// point u of its own transcript: a changed value, or a prover and verifier that disagree on u,
/// are rejected.
#[cfg(test)]
mod lift_tests {
    use p3_field::PrimeCharacteristicRing;

    use super::super::masked::skew;
    use super::super::proof::ZkBlockProof;
    use crate::commit::{CommittedWeights, weight_masked_layout};
    use crate::field::EF;

    use super::super::test_model::mlp_6_4_2 as model;

    /// Runs `f` with the lift point skewed (as one side of a disagreement would draw it).
    fn skewed<T>(f: impl FnOnce() -> T) -> T {
        skew::ON.set(true);
        let out = f();
        skew::ON.set(false);
        out
    }

    #[test]
    fn the_model_has_lifted_bias_columns() {
        let (spec, ..) = model();
        let layout = weight_masked_layout(&spec);
        for l in 0..spec.layers.len() {
            let bias = crate::commit::weight_columns(&spec, l).bias;
            assert!(layout.is_lifted(bias), "bias of fc{l}");
        }
    }

    #[test]
    fn a_changed_weight_value_is_rejected() {
        let (spec, w, x) = model();
        let cw = CommittedWeights::new(&spec, &w, [1; 32]).unwrap();
        let mc = &cw.commitment;
        // A copy whose certificate has not been checked yet (a check is cached per copy).
        let mut cert_edit = mc.clone();
        let proof = crate::prover::prove_committed(&spec, &w, [1; 32], &cw, &[x]).unwrap();
        crate::verifier::verify(&spec, mc, &proof).unwrap();
        // blocks[0] is the last layer (2 classes): its lifted bias and a kernel piece.
        for edit in 0..2 {
            let mut bad = proof.clone();
            let ZkBlockProof::Linear(d) = &mut bad.body.blocks[0] else {
                panic!("a dense block")
            };
            match edit {
                0 => d.bias += EF::ONE,
                _ => d.weights[0] += EF::ONE,
            }
            assert!(
                crate::verifier::verify(&spec, mc, &bad).is_err(),
                "edit {edit} accepted"
            );
        }
        // The range certificate's revealed weight values are bound the same way.
        if let Some(c) = cert_edit.range.as_mut() {
            c.values[0] += EF::ONE;
        }
        assert!(cert_edit.check_range(&spec).is_err());
    }

    #[test]
    fn a_prover_and_verifier_that_disagree_on_u_are_rejected() {
        let (spec, w, x) = model();
        let cw = CommittedWeights::new(&spec, &w, [1; 32]).unwrap();
        let mc = &cw.commitment;
        // The commitment's range certificate is checked (and cached) with the honest u first, so
        // the rejections below are the proofs' own.
        mc.check_range(&spec).unwrap();
        let xs = std::slice::from_ref(&x);
        let honest = crate::prover::prove_committed(&spec, &w, [1; 32], &cw, xs).unwrap();
        crate::verifier::verify(&spec, mc, &honest).unwrap();
        let verifier_skewed = skewed(|| crate::verifier::verify(&spec, mc, &honest));
        let err = verifier_skewed.unwrap_err().to_string();
        assert!(err.contains("zk-open-weights"), "{err}");
        let prover_skewed =
            skewed(|| crate::prover::prove_committed(&spec, &w, [1; 32], &cw, xs)).unwrap();
        let err = crate::verifier::verify(&spec, mc, &prover_skewed)
            .unwrap_err()
            .to_string();
        assert!(err.contains("zk-open-weights"), "{err}");
        // Agreeing on the skewed u is consistent (u is public and only spreads the masks).
        skewed(|| crate::verifier::verify(&spec, mc, &prover_skewed)).unwrap();
        // The range certificate draws its own u: one made with another u fails its check.
        let skewed_commit = skewed(|| CommittedWeights::new(&spec, &w, [1; 32])).unwrap();
        let err = skewed_commit
            .commitment
            .check_range(&spec)
            .unwrap_err()
            .to_string();
        assert!(err.contains("range certificate"), "{err}");
    }
}
