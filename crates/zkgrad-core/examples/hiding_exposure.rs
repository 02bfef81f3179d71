//! Prints, per hiding table size, the leaves one opening reveals of the committed codeword and
//! the randomness that hides them (the input of `zk/budget.rs`).
use zkgrad_core::pcs::Pcs;
fn main() {
    for nv in 4..=26 {
        let pcs = Pcs::new(nv, true);
        println!(
            "{nv:2} vars: {:?}  {}",
            pcs.first_oracle_exposure(),
            pcs.config_summary()
        );
    }
}
