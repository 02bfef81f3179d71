//! Prover progress: the four stages a proof goes through (the witness, the commitments, the
//! sumchecks, the openings), reported to a sink the caller installs for one proof.
//!
//! The sink lives in a thread-local set around the call ([`with_sink`]): the stages are
//! reported from the thread that runs the prover's top level (parallel work inside a stage does
//! not report), so concurrent proofs on other threads each see only their own sink.

use std::cell::RefCell;
use std::rc::Rc;

/// A stage of a proof, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// The forward pass and the witness tables.
    Witness,
    /// Committing the witness, the lookup inverses and the weights' opening data.
    Commitments,
    /// The lookup, block and batching sumchecks.
    Sumchecks,
    /// The polynomial-commitment openings.
    Openings,
}

impl Stage {
    /// How many stages a proof has.
    pub const COUNT: usize = 4;

    /// The stage's name as users read it.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Witness => "witness",
            Stage::Commitments => "commitments",
            Stage::Sumchecks => "sumchecks",
            Stage::Openings => "openings",
        }
    }

    /// Stages finished before this one starts.
    pub fn index(self) -> usize {
        self as usize
    }
}

type Sink = Rc<dyn Fn(&str, usize, usize)>;

thread_local! {
    static SINK: RefCell<Option<Sink>> = const { RefCell::new(None) };
}

/// Runs `f` with `sink(stage name, stages done, stage count)` called as each stage starts.
pub fn with_sink<R>(sink: impl Fn(&str, usize, usize) + 'static, f: impl FnOnce() -> R) -> R {
    let previous = SINK.with(|s| s.borrow_mut().replace(Rc::new(sink)));
    // Restore on the way out, also if `f` unwinds (the bindings catch panics).
    struct Restore(Option<Sink>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            SINK.with(|s| *s.borrow_mut() = previous);
        }
    }
    let _restore = Restore(previous);
    f()
}

/// Reports that `stage` starts (nothing when no sink is installed).
pub(crate) fn report(stage: Stage) {
    let sink = SINK.with(|s| s.borrow().clone());
    if let Some(sink) = sink {
        sink(stage.name(), stage.index(), Stage::COUNT);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_reach_the_installed_sink_only_inside_the_call() {
        let seen = Rc::new(RefCell::new(Vec::new()));
        let log = seen.clone();
        report(Stage::Witness); // no sink: nothing happens
        with_sink(
            move |name, done, total| log.borrow_mut().push(format!("{name} {done}/{total}")),
            || {
                report(Stage::Witness);
                report(Stage::Openings);
            },
        );
        report(Stage::Sumchecks);
        assert_eq!(*seen.borrow(), vec!["witness 0/4", "openings 3/4"]);
    }
}
