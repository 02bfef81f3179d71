//! Hot kernels in isolation: `cargo bench -p zkgrad-core --bench kernels`.
//! (The end-to-end comparison with EZKL lives in the repository's `benches/`.)

use criterion::{Criterion, criterion_group, criterion_main};
use p3_field::PrimeCharacteristicRing;
use zkgrad_core::field::{EF, F};
use zkgrad_core::pcs::Pcs;
use zkgrad_core::tables::Table;
use zkgrad_core::transcript::Transcript;
use zkgrad_core::{logup, sumcheck};

const LOG: usize = 16;

fn values(n: usize, salt: u64) -> Vec<F> {
    (0..n as u64).map(|i| F::from_u64(i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt)).collect()
}

fn kernels(c: &mut Criterion) {
    for log in [12, LOG] {
        let n = 1 << log;
        let f: Vec<EF> = values(n, 1).into_iter().map(EF::from).collect();
        let g: Vec<EF> = values(n, 2).into_iter().map(EF::from).collect();
        c.bench_function(&format!("sumcheck product 2^{log}"), |b| {
            b.iter(|| sumcheck::prove(vec![f.clone(), g.clone()], 2, |v| v[0] * v[1], "b", &mut Transcript::new(b"b")))
        });
        let alpha = EF::from_u64(1 << 40);
        let q: Vec<EF> = Table::Range.entries(log).into_iter().map(|t| alpha - t).collect();
        c.bench_function(&format!("logup tree 2^{log}"), |b| {
            b.iter(|| logup::prove(vec![EF::ONE; n], q.clone(), &mut Transcript::new(b"b")))
        });
        // A table-side tree: numerators −m, mostly zero (few distinct values are looked up).
        let m: Vec<EF> = (0..n).map(|i| if i % 16 == 0 { -EF::from_u64(i as u64 % 9 + 1) } else { EF::ZERO }).collect();
        c.bench_function(&format!("logup table tree 2^{log}"), |b| {
            b.iter(|| logup::prove(m.clone(), q.clone(), &mut Transcript::new(b"b")))
        });
    }
    let n = 1 << LOG;
    let pcs = Pcs::new(LOG, false);
    let evals = values(n, 3);
    c.bench_function("pcs commit 2^16", |b| b.iter(|| pcs.commit(evals.clone(), [1; 32])));
    let points: Vec<Vec<EF>> = (0..4u64).map(|k| (0..LOG as u64).map(|i| EF::from_u64(k * 100 + i + 7)).collect()).collect();
    c.bench_function("pcs open 2^16, 4 points", |b| {
        b.iter(|| pcs.open(pcs.commit(evals.clone(), [1; 32]).1, &points, &mut Transcript::new(b"b")))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = kernels
}
criterion_main!(benches);
