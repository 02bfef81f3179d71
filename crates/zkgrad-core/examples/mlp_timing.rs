//! Times commit, prove and verify for an MLP given as layer widths, e.g.
//! `cargo run --release --example mlp_timing -- 784 128 10` (table size: `ZKGRAD_TABLE_BITS`, default 16);
//! `ZKGRAD_PROFILE=1` prints each prover phase and the proof's size by part. The prove time
//! includes the weight commitment (`prove` makes it); `prove_committed` reuses one made before.

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::time::Instant;

use zkgrad_core::circuit::{CircuitSpec, DenseSpec, DenseWeights, LayerKind, Weights};
use zkgrad_core::commit::{CommittedWeights, commit_model};
use zkgrad_core::prover::{prove, prove_committed};
use zkgrad_core::verifier::{soundness_bits, verify};

fn main() {
    let dims: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("layer widths"))
        .collect();
    let dims = if dims.len() >= 2 {
        dims
    } else {
        vec![784, 128, 10]
    };
    let mut s = 0x2545F4914F6CDD1Du64;
    let mut rnd = |lo: i64, hi: i64| {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        lo + (s % (hi - lo + 1) as u64) as i64
    };
    let table_bits: u32 = std::env::var("ZKGRAD_TABLE_BITS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(16);
    let mut layers = Vec::new();
    let mut ws = Vec::new();
    for (i, d) in dims.windows(2).enumerate() {
        layers.push(DenseSpec {
            name: format!("fc{i}"),
            in_dim: d[0],
            out_dim: d[1],
            mult: 1,
            shift: table_bits,
            relu: i + 2 < dims.len(),
            kind: LayerKind::Dense,
        });
        ws.push(DenseWeights {
            weight: (0..d[0] * d[1]).map(|_| rnd(-127, 127)).collect(),
            bias: (0..d[1]).map(|_| rnd(-1000, 1000)).collect(),
        });
    }
    let params: usize = ws.iter().map(|w| w.weight.len() + w.bias.len()).sum();
    let w = Weights { layers: ws };
    let x: Vec<i64> = (0..dims[0]).map(|_| rnd(-100, 100)).collect();
    let spec = CircuitSpec {
        input_len: dims[0],
        table_bits,
        layers,
        public_input: false,
        committed_input: false,
        sources: Vec::new(),
        extra_outputs: Vec::new(),
    };
    let t = Instant::now();
    let mc = commit_model(&spec, &w, [1; 32]).unwrap();
    let commit_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let proof = prove(&spec, &w, [1; 32], &x).unwrap();
    let prove_s = t.elapsed().as_secs_f64();
    let bytes = proof.to_bytes();
    if std::env::var_os("ZKGRAD_PROFILE").is_some() {
        print_sizes(&proof);
    }
    let t = Instant::now();
    verify(&spec, &mc, &proof).unwrap();
    let verify_s = t.elapsed().as_secs_f64();
    // With the commitment made once (as a compiled model proves): the second proof recomputes the
    // commitment's prover data (hiding data cannot be copied), so time the first.
    let cw = CommittedWeights::new(&spec, &w, [1; 32]).unwrap();
    let t = Instant::now();
    let cached = prove_committed(&spec, &w, [1; 32], &cw, std::slice::from_ref(&x)).unwrap();
    let cached_s = t.elapsed().as_secs_f64();
    verify(&spec, &mc, &cached).unwrap();
    println!(
        "dims {dims:?} params {params}: commit {commit_s:.3}s prove {prove_s:.3}s (committed weights: {cached_s:.3}s) verify {:.1}ms proof {} bytes soundness {:.1} bits",
        verify_s * 1e3,
        bytes.len(),
        soundness_bits(&spec, 1)
    );
}

/// Encoded size of each part of a proof (where the bytes go).
fn print_sizes(proof: &zkgrad_core::proof::Proof) {
    let len = |v: &dyn erased::Encode| v.len();
    let z = &proof.body;
    let names = ["witness", "inverses", "weights", "input"];
    for (name, o) in names.iter().zip(&z.openings) {
        println!("  opening {name}: {} bytes", o.size_bytes());
        for (part, n) in o.size_breakdown() {
            println!("    {part}: {n}");
        }
    }
    println!(
        "  lookups: {} bytes, blocks: {} bytes",
        len(&z.lookups),
        len(&z.blocks)
    );
}

mod erased {
    pub trait Encode {
        fn len(&self) -> usize;
    }
    impl<T: serde::Serialize> Encode for T {
        fn len(&self) -> usize {
            bincode::serde::encode_to_vec(self, bincode::config::standard()).map_or(0, |v| v.len())
        }
    }
}
