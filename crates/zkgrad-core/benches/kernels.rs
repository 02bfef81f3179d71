//! Hot kernels in isolation: `cargo bench -p zkgrad-core --bench kernels`.
//! (The end-to-end comparison with EZKL lives in the repository's `benches/`.)

use criterion::{Criterion, criterion_group, criterion_main};
use p3_field::PrimeCharacteristicRing;
use zkgrad_core::field::{EF, F};
use zkgrad_core::pcs::Pcs;
use zkgrad_core::transcript::Transcript;

const LOG: usize = 16;

fn values(n: usize, salt: u64) -> Vec<F> {
    (0..n as u64)
        .map(|i| F::from_u64(i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt))
        .collect()
}

fn kernels(c: &mut Criterion) {
    let n = 1 << LOG;
    let pcs = Pcs::new(LOG, false);
    let evals = values(n, 3);
    c.bench_function("pcs commit 2^16", |b| {
        b.iter(|| pcs.commit(evals.clone(), [1; 32]))
    });
    let points: Vec<Vec<EF>> = (0..4u64)
        .map(|k| {
            (0..LOG as u64)
                .map(|i| EF::from_u64(k * 100 + i + 7))
                .collect()
        })
        .collect();
    c.bench_function("pcs open 2^16, 4 points", |b| {
        b.iter(|| {
            pcs.open(
                pcs.commit(evals.clone(), [1; 32]).1,
                &points,
                &mut Transcript::new(b"b"),
            )
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = kernels
}
criterion_main!(benches);
