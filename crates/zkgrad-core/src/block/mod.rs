//! The per-block steps of the protocol, prover and verifier side by side, one file per kind:
//! dense and convolution blocks share the requantisation and matrix-product step (`linear`);
//! convolution and pooling read their inputs through public selectors (`wiring`).
//!
//! Every step ends in claims on committed columns (witness or weights); `prover.rs` and
//! `verifier.rs` open them all at the end. The transcript order in each `prove_*` is the
//! protocol and the matching `verify_*` mirrors it.

pub(crate) mod conv;
pub(crate) mod dense;
pub(crate) mod linear;
pub(crate) mod pool;
pub(crate) mod wiring;

use crate::circuit::{CircuitSpec, Weights};
use crate::field::{EF, F};
use crate::layout::Layout;
use crate::transcript::Transcript;
use crate::witness::WitnessPlan;

/// What the prover's block steps read and where they leave their claims.
pub(crate) struct ProverCtx<'a> {
    pub spec: &'a CircuitSpec,
    pub weights: &'a Weights,
    pub plan: &'a WitnessPlan,
    pub cols: &'a [Vec<F>],
    pub wlayout: &'a Layout,
    pub tr: &'a mut Transcript,
    /// Points at which the witness polynomial will be opened.
    pub wit_points: Vec<Vec<EF>>,
    /// Points at which the weight polynomial will be opened.
    pub weight_points: Vec<Vec<EF>>,
}

impl ProverCtx<'_> {
    pub fn claim_col(&mut self, c: usize, local: &[EF]) {
        self.wit_points.push(self.plan.layout.embed(c, local));
    }

    pub fn claim_weight(&mut self, c: usize, local: &[EF]) {
        self.weight_points.push(self.wlayout.embed(c, local));
    }

    /// The column holding block l's input.
    pub fn input_col(&self, l: usize) -> usize {
        input_col(self.plan, l)
    }
}

/// What the verifier's block steps read and the claims they collect.
pub(crate) struct VerifierCtx<'a> {
    pub spec: &'a CircuitSpec,
    pub plan: &'a WitnessPlan,
    pub wlayout: &'a Layout,
    pub tr: &'a mut Transcript,
    /// (point, value) claims on the witness polynomial.
    pub wit_claims: Vec<(Vec<EF>, EF)>,
    /// (point, value) claims on the weight polynomial.
    pub weight_claims: Vec<(Vec<EF>, EF)>,
    /// The input column, when the input is public.
    pub public_x: Option<&'a [F]>,
    /// Set when a claim on the input column disagrees with the public input.
    pub public_mismatch: bool,
}

impl VerifierCtx<'_> {
    pub fn claim_col(&mut self, c: usize, local: &[EF], value: EF) {
        if crate::verifier::check_public_claim(self.plan, self.public_x, c, local, value).is_err() {
            self.public_mismatch = true;
        }
        self.wit_claims.push((self.plan.layout.embed(c, local), value));
    }

    pub fn claim_weight(&mut self, c: usize, local: &[EF], value: EF) {
        self.weight_claims.push((self.wlayout.embed(c, local), value));
    }

    pub fn input_col(&self, l: usize) -> usize {
        input_col(self.plan, l)
    }
}

pub(crate) fn input_col(plan: &WitnessPlan, l: usize) -> usize {
    if l == 0 { plan.x } else { plan.blocks[l - 1].a }
}
