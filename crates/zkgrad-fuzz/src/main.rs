//! A mutation fuzzer for the verifier (`make fuzz`): valid zero-knowledge proofs of small
//! committed models, an epoch certificate, and a data-property proof of a small committed
//! dataset, mutated (bit flips, byte splices, truncation, length fields set to large values,
//! random overwrites, insertions, deletions, random bytes), decoded and verified. Every
//! execution must end in `Ok` or `Err` — no panic escaping the verifier, no execution over
//! [`TIME_LIMIT`] (a watchdog aborts the process), and no allocation peak over ten times the
//! input's size (a counting global allocator). A mutated proof that verifies is also a finding.
//!
//! `zkgrad-fuzz --execs N --jobs J [--seed S] [--out DIR]` runs J worker processes of N/J
//! executions each and prints their totals; a finding is written to DIR and fails the run.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use zkgrad_core::circuit::{CircuitSpec, DenseSpec, DenseWeights, LayerKind, Weights};
use zkgrad_core::commit::{ModelCommitment, commit_model};
use zkgrad_core::data::{Bound, ClassSpec, DatasetCommitment, PropertyProof, PropertySpec};
use zkgrad_core::epoch::{EpochCertificate, EpochRef, Epochs};
use zkgrad_core::proof::Proof;

/// Counts live heap bytes and their peak (reset before each execution).
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged; only counts sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(l) };
        if !p.is_null() {
            let now = LIVE.fetch_add(l.size(), Relaxed) + l.size();
            PEAK.fetch_max(now, Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) };
        LIVE.fetch_sub(l.size(), Relaxed);
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        let q = unsafe { System.realloc(p, l, new) };
        if !q.is_null() {
            // Count the move as old + new at once: a reallocation may copy.
            let now = LIVE.fetch_add(new, Relaxed) + new;
            PEAK.fetch_max(now, Relaxed);
            LIVE.fetch_sub(l.size(), Relaxed);
        }
        q
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Longest one execution may run (a valid inference proof of these models verifies in a few
/// ms, the data-property proof in about half a second: its 2^16-entry range table).
const TIME_LIMIT: Duration = Duration::from_secs(5);
/// Peak allocation allowed per byte of input.
const ALLOC_FACTOR: usize = 10;

/// Milliseconds since the worker started at which the running execution began (0: idle).
static EXEC_START_MS: AtomicU64 = AtomicU64::new(0);
/// Panics seen by the hook (inside the PCS's `catch_unwind` boundary or escaping it).
static PANICS_SEEN: AtomicUsize = AtomicUsize::new(0);
static QUIET: AtomicBool = AtomicBool::new(true);
/// The running execution's input, for the watchdog to save.
static CURRENT: std::sync::Mutex<Vec<u8>> = std::sync::Mutex::new(Vec::new());

/// A small deterministic generator for the models' weights and inputs.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, lo: i64, hi: i64) -> i64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        lo + ((self.0 >> 33) as i64).rem_euclid(hi - lo + 1)
    }
}

/// A zero-knowledge MLP with the given widths (ReLU between layers), weights and inputs.
fn mlp(dims: &[usize], committed_input: bool) -> (CircuitSpec, Weights, Vec<i64>) {
    let mut rng = Lcg(11);
    let mut layers = Vec::new();
    let mut ws = Vec::new();
    for (i, d) in dims.windows(2).enumerate() {
        let last = i + 2 == dims.len();
        layers.push(DenseSpec {
            name: format!("fc{i}"),
            in_dim: d[0],
            out_dim: d[1],
            mult: 3,
            shift: 12,
            relu: !last,
            kind: LayerKind::Dense,
        });
        ws.push(DenseWeights {
            weight: (0..d[0] * d[1]).map(|_| rng.next(-300, 300)).collect(),
            bias: (0..d[1]).map(|_| rng.next(-5000, 5000)).collect(),
        });
    }
    let input = (0..dims[0]).map(|_| rng.next(-1000, 1000)).collect();
    (
        CircuitSpec {
            input_len: dims[0],
            table_bits: 16,
            layers,
            public_input: false,
            committed_input,
            sources: Vec::new(),
            extra_outputs: Vec::new(),
        },
        Weights { layers: ws },
        input,
    )
}

/// What a target's inputs are and how the verifier checks them.
enum Check {
    /// An inference proof of `spec` against the model commitment.
    Proof,
    /// An epoch certificate for this leaf of the model's tree (checked with a fresh commitment
    /// copy each time: the link cache of a used one would answer for the original).
    Certificate(EpochRef),
    /// A data-property proof against the dataset commitment, with its epoch's certificate.
    Property(Box<DatasetCommitment>, Box<EpochCertificate>),
}

/// One target: a circuit, its commitment, and valid inputs to mutate.
struct Target {
    spec: CircuitSpec,
    mc: ModelCommitment,
    check: Check,
    seeds: Vec<Vec<u8>>,
    /// Length-field offsets of each seed (inference proofs; none recorded for the others).
    lengths: Vec<Vec<usize>>,
    /// Executions of this target per [`ROUND`] executions (its verifier's cost decides).
    share: u64,
}

/// Executions per round of the targets' shares: inference proofs most, the slow data-property
/// proof least.
const ROUND: u64 = 64;

impl Target {
    /// (decoded, accepted) for one input.
    fn run(&self, input: &[u8]) -> (bool, bool) {
        match &self.check {
            Check::Proof => match Proof::from_bytes(input) {
                Ok(p) => (
                    true,
                    zkgrad_core::verifier::verify(&self.spec, &self.mc, &p).is_ok(),
                ),
                Err(_) => (false, false),
            },
            Check::Certificate(leaf) => match EpochCertificate::from_bytes(input) {
                Ok(c) => {
                    let fresh = self.mc.clone();
                    let ok = zkgrad_core::epoch::verify_chain(&self.spec, &fresh, leaf, &c).is_ok();
                    // A different encoding of the same certificate is the same statement.
                    (true, ok && !self.seeds.contains(&c.to_bytes()))
                }
                Err(_) => (false, false),
            },
            Check::Property(ds, cert) => match PropertyProof::from_bytes(input) {
                Ok(p) => {
                    let ok = zkgrad_core::data::verify(ds, &p, cert).is_ok();
                    (true, ok && !self.seeds.contains(&p.to_bytes()))
                }
                Err(_) => (false, false),
            },
        }
    }
}

fn targets() -> Vec<Target> {
    let seed = [3u8; 32];
    let mut out = Vec::new();
    // A two-layer MLP, proofs of one item and of a batch of three.
    let (spec, w, x) = mlp(&[6, 4, 3], false);
    let mc = commit_model(&spec, &w, seed).expect("commit");
    let p1 = zkgrad_core::prover::prove(&spec, &w, seed, &x)
        .expect("prove")
        .to_bytes();
    let xs: Vec<Vec<i64>> = (0..3).map(|k| x.iter().map(|v| v + k).collect()).collect();
    let p3 = zkgrad_core::prover::prove_batch(&spec, &w, seed, &xs)
        .expect("prove batch")
        .to_bytes();
    // Its epoch 16 (two links below the published commitment): the certificate alone.
    let (_, cert) = zkgrad_core::prover::prove_in_epoch(
        &spec,
        &w,
        seed,
        &mc,
        &Epochs::default(),
        16,
        std::slice::from_ref(&x),
        None,
    )
    .expect("prove in epoch");
    let leaf = cert.leaf().expect("a leaf");
    let leaf = EpochRef {
        path: leaf.path.clone(),
        commitment: leaf.commitment.clone(),
    };
    out.push(Target {
        spec: spec.clone(),
        mc: mc.clone(),
        check: Check::Certificate(leaf),
        seeds: vec![cert.to_bytes()],
        lengths: Vec::new(),
        share: 6,
    });
    out.push(Target {
        spec,
        mc,
        check: Check::Proof,
        seeds: vec![p1, p3],
        lengths: Vec::new(),
        share: 36,
    });
    // A committed input: a fourth commitment and opening.
    let (spec, w, x) = mlp(&[5, 2], true);
    let mc = commit_model(&spec, &w, seed).expect("commit");
    let input = zkgrad_core::prover::InputEpoch::first([7; 32]);
    let (p, cert) =
        zkgrad_core::prover::prove_with_committed_input(&spec, &w, seed, None, &[x], input)
            .expect("prove");
    // The input leaf's chain, checked once here: the mutants' checks of it are then cached.
    zkgrad_core::verifier::verify_with_input(&spec, &mc, &p, None, Some(&cert))
        .expect("the seed proof verifies");
    let p = p.to_bytes();
    out.push(Target {
        spec: spec.clone(),
        mc: mc.clone(),
        check: Check::Proof,
        seeds: vec![p],
        lengths: Vec::new(),
        share: 21,
    });
    // A committed dataset (12 rows, 2 features, labels) and a proof of its properties.
    let features: Vec<i64> = (0..24).map(|i| (i * 5 % 31) - 10).collect();
    let labels: Vec<i64> = (0..12).map(|i| i % 2).collect();
    let ds = zkgrad_core::data::commit(&features, 12, 2, Some(&labels), [4; 32], [5; 32])
        .expect("commit a dataset");
    let props = PropertySpec {
        ranges: vec![Bound {
            feature: 0,
            lo: -10,
            hi: 20,
        }],
        classes: Some(ClassSpec {
            classes: 2,
            counts: vec![(6, 6), (6, 6)],
        }),
        ..Default::default()
    };
    let leaf = ds.leaf(&[0]).expect("the first leaf");
    let proof = zkgrad_core::data::prove(&leaf, &props).expect("prove properties");
    let dcert = ds
        .certificate(&Epochs::default(), &[0])
        .expect("its certificate");
    out.push(Target {
        spec,
        mc,
        check: Check::Property(Box::new(ds.commitment.clone()), Box::new(dcert)),
        seeds: vec![proof.to_bytes()],
        lengths: Vec::new(),
        share: 1,
    });
    assert_eq!(out.iter().map(|t| t.share).sum::<u64>(), ROUND);
    for t in &mut out {
        for s in &t.seeds {
            let (decoded, accepted) = match &t.check {
                // run() counts the seed itself as not new: check it directly here.
                Check::Proof => t.run(s),
                Check::Certificate(leaf) => {
                    let c = EpochCertificate::from_bytes(s).expect("a valid certificate decodes");
                    let ok = zkgrad_core::epoch::verify_chain(&t.spec, &t.mc.clone(), leaf, &c);
                    (true, ok.is_ok())
                }
                Check::Property(ds, cert) => {
                    let p = PropertyProof::from_bytes(s).expect("a valid proof decodes");
                    (true, zkgrad_core::data::verify(ds, &p, cert).is_ok())
                }
            };
            assert!(decoded && accepted, "a valid seed verifies");
        }
        t.lengths = t
            .seeds
            .iter()
            .map(|s| match t.check {
                Check::Proof => zkgrad_core::bounds::length_fields(s).expect("decodes"),
                _ => Vec::new(),
            })
            .collect();
    }
    out
}

/// bincode's varint encoding of v.
fn varint(v: u64) -> Vec<u8> {
    match v {
        0..=250 => vec![v as u8],
        251..=0xFFFF => [&[251u8][..], &(v as u16).to_le_bytes()].concat(),
        0x1_0000..=0xFFFF_FFFF => [&[252u8][..], &(v as u32).to_le_bytes()].concat(),
        _ => [&[253u8][..], &v.to_le_bytes()].concat(),
    }
}

/// Length of the varint at the start of b (1 if b does not start with a well-formed one).
fn varint_len(b: &[u8]) -> usize {
    match b.first() {
        Some(251) => 3,
        Some(252) => 5,
        Some(253) => 9,
        Some(254) => 17,
        _ => 1,
    }
}

/// Applies 1–3 random mutations to a copy of a seed.
fn mutate(t: &Target, rng: &mut StdRng) -> Vec<u8> {
    let k = rng.random_range(0..t.seeds.len());
    let mut b = t.seeds[k].clone();
    let lengths = &t.lengths[k];
    for _ in 0..rng.random_range(1..=3) {
        let n = b.len().max(1);
        match rng.random_range(0..10) {
            // Bit flips.
            0 | 1 => {
                for _ in 0..rng.random_range(1..=8) {
                    let i = rng.random_range(0..n);
                    if let Some(x) = b.get_mut(i) {
                        *x ^= 1 << rng.random_range(0..8);
                    }
                }
            }
            // A byte set to an interesting value.
            2 => {
                let i = rng.random_range(0..n);
                let v = [0u8, 1, 0x7F, 0x80, 0xFA, 0xFB, 0xFC, 0xFD, 0xFE, 0xFF]
                    [rng.random_range(0..10)];
                if let Some(x) = b.get_mut(i) {
                    *x = v;
                }
            }
            // Splice: a chunk of another seed (or this one) copied over a random place.
            3 => {
                let other = &t.seeds[rng.random_range(0..t.seeds.len())];
                let len = rng.random_range(1..=64.min(other.len()));
                let from = rng.random_range(0..=other.len() - len);
                let to = rng.random_range(0..n);
                let end = (to + len).min(b.len());
                let take = end.saturating_sub(to);
                b[to..end].copy_from_slice(&other[from..from + take]);
            }
            // Truncation.
            4 => b.truncate(rng.random_range(0..n)),
            // A length field set to a large value (the field's encoding replaced).
            5 | 6 => {
                if let Some(&off) = lengths.get(rng.random_range(0..lengths.len().max(1))) {
                    if off < b.len() {
                        let v = [
                            u64::MAX,
                            u64::MAX / 2,
                            u32::MAX as u64,
                            1 << 16,
                            1 << 20,
                            1 << 30,
                            251,
                            0,
                        ][rng.random_range(0..8)];
                        let old = varint_len(&b[off..]).min(b.len() - off);
                        b.splice(off..off + old, varint(v));
                    }
                }
            }
            // Random overwrite of a region.
            7 => {
                let i = rng.random_range(0..n);
                let len = rng.random_range(1..=32);
                for x in b.iter_mut().skip(i).take(len) {
                    *x = rng.random();
                }
            }
            // Insertion or deletion.
            8 => {
                let i = rng.random_range(0..=b.len());
                if rng.random_bool(0.5) {
                    let len = rng.random_range(1..=16);
                    let ins: Vec<u8> = (0..len).map(|_| rng.random()).collect();
                    b.splice(i..i, ins);
                } else {
                    let end = (i + rng.random_range(1..=16)).min(b.len());
                    b.drain(i..end);
                }
            }
            // Random bytes, with the header kept or not.
            _ => {
                let len = rng.random_range(0..4096);
                let mut r: Vec<u8> = (0..len).map(|_| rng.random()).collect();
                if rng.random_bool(0.5) && r.len() >= 6 && b.len() >= 6 {
                    r[..6].copy_from_slice(&b[..6]);
                }
                b = r;
            }
        }
    }
    b
}

/// Totals of one worker.
#[derive(Default)]
struct Totals {
    execs: u64,
    decoded: u64,
    accepted: u64,
    max_exec_us: u64,
    max_alloc_ratio: f64,
    /// The same over inputs of at least 4 KiB (below, the fixed costs dominate).
    max_alloc_ratio_4k: f64,
    max_alloc_bytes: usize,
    findings: u64,
}

fn save(out: &str, what: &str, bytes: &[u8]) -> String {
    let _ = std::fs::create_dir_all(out);
    let path = format!("{out}/{what}-{:016x}.bin", blake3_like(bytes));
    let _ = std::fs::write(&path, bytes);
    path
}

/// A short content hash for file names (FNV-1a; not for security).
fn blake3_like(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf29ce484222325u64, |h, &x| {
        (h ^ u64::from(x)).wrapping_mul(0x100000001b3)
    })
}

fn worker(execs: u64, seed: u64, out: &str) -> Totals {
    let targets = targets();
    let mut rng = StdRng::seed_from_u64(seed);
    let origin = Instant::now();
    let out_dir = out.to_string();
    // The watchdog: an execution over the limit aborts the worker (the parent reports it).
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(Duration::from_millis(100));
            let start = EXEC_START_MS.load(Relaxed);
            let now = origin.elapsed().as_millis() as u64;
            if start != 0 && now.saturating_sub(start) > TIME_LIMIT.as_millis() as u64 {
                let input = CURRENT.lock().map(|b| b.clone()).unwrap_or_default();
                eprintln!(
                    "HANG: an execution ran over {TIME_LIMIT:?}: {}",
                    save(&out_dir, "hang", &input)
                );
                std::process::exit(3);
            }
        }
    });
    let mut tot = Totals::default();
    for i in 0..execs {
        let mut slot = i % ROUND;
        let t = targets
            .iter()
            .find(|t| {
                let here = slot < t.share;
                slot = slot.saturating_sub(t.share);
                here
            })
            .expect("the shares fill a round");
        let input = mutate(t, &mut rng);
        if let Ok(mut c) = CURRENT.lock() {
            c.clear();
            c.extend_from_slice(&input);
        }
        let base = LIVE.load(Relaxed);
        PEAK.store(base, Relaxed);
        let started = Instant::now();
        EXEC_START_MS.store(origin.elapsed().as_millis().max(1) as u64, Relaxed);
        let result = std::panic::catch_unwind(|| t.run(&input));
        EXEC_START_MS.store(0, Relaxed);
        let us = started.elapsed().as_micros() as u64;
        let peak = PEAK.load(Relaxed).saturating_sub(base);
        tot.execs += 1;
        tot.max_exec_us = tot.max_exec_us.max(us);
        let ratio = peak as f64 / input.len().max(1) as f64;
        if peak > tot.max_alloc_bytes {
            tot.max_alloc_bytes = peak;
        }
        tot.max_alloc_ratio = tot.max_alloc_ratio.max(ratio);
        if input.len() >= 4096 {
            tot.max_alloc_ratio_4k = tot.max_alloc_ratio_4k.max(ratio);
        }
        match result {
            Err(_) => {
                tot.findings += 1;
                eprintln!("PANIC escaped the verifier: {}", save(out, "panic", &input));
            }
            Ok((decoded, accepted)) => {
                tot.decoded += u64::from(decoded);
                if accepted && !t.seeds.contains(&input) {
                    tot.accepted += 1;
                    tot.findings += 1;
                    eprintln!(
                        "ACCEPTED a mutated proof: {}",
                        save(out, "accepted", &input)
                    );
                }
            }
        }
        if peak > ALLOC_FACTOR * input.len().max(1) && peak > ALLOC_FACTOR * 4096 {
            tot.findings += 1;
            eprintln!(
                "ALLOCATION {peak} bytes for a {}-byte input: {}",
                input.len(),
                save(out, "alloc", &input)
            );
        }
        if us > TIME_LIMIT.as_micros() as u64 {
            tot.findings += 1;
            eprintln!("SLOW execution ({us} µs): {}", save(out, "slow", &input));
        }
    }
    tot
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let execs: u64 = arg(&args, "--execs").map_or(1_000_000, |v| v.parse().expect("--execs N"));
    let jobs: u64 = arg(&args, "--jobs").map_or(2, |v| v.parse().expect("--jobs J"));
    let seed: u64 = arg(&args, "--seed").map_or(1, |v| v.parse().expect("--seed S"));
    let out = arg(&args, "--out").unwrap_or_else(|| "target/fuzz-findings".into());
    std::panic::set_hook(Box::new(|info| {
        PANICS_SEEN.fetch_add(1, Relaxed);
        if !QUIET.load(Relaxed) {
            eprintln!("{info}");
        }
    }));
    if args.iter().any(|a| a == "--baseline") {
        // What the valid proofs themselves cost: size, decode + verify time and peak allocation.
        for t in targets() {
            for s in &t.seeds {
                let base = LIVE.load(Relaxed);
                PEAK.store(base, Relaxed);
                let started = Instant::now();
                let ok = t.run(s);
                let peak = PEAK.load(Relaxed) - base;
                println!(
                    "valid input: {} bytes, (decoded, accepted as new) {:?} in {} µs, peak allocation {peak} bytes ({:.2}x)",
                    s.len(),
                    ok,
                    started.elapsed().as_micros(),
                    peak as f64 / s.len() as f64
                );
            }
        }
        return;
    }
    if let Some(k) = arg(&args, "--worker") {
        let k: u64 = k.parse().expect("--worker K");
        let started = Instant::now();
        let t = worker(execs, seed.wrapping_mul(1000).wrapping_add(k), &out);
        println!(
            "worker {k}: execs {} decoded {} accepted {} findings {} max_exec_us {} max_alloc_bytes {} max_alloc_ratio {:.2} max_alloc_ratio_4k {:.2} panics_in_pcs {} secs {:.1}",
            t.execs,
            t.decoded,
            t.accepted,
            t.findings,
            t.max_exec_us,
            t.max_alloc_bytes,
            t.max_alloc_ratio,
            t.max_alloc_ratio_4k,
            PANICS_SEEN.load(Relaxed),
            started.elapsed().as_secs_f64()
        );
        std::process::exit(if t.findings == 0 { 0 } else { 1 });
    }
    // The parent: J workers, each a process of its own (the allocation counter is per process).
    let started = Instant::now();
    let exe = std::env::current_exe().expect("own path");
    let per = execs.div_ceil(jobs);
    let children: Vec<_> = (0..jobs)
        .map(|k| {
            std::process::Command::new(&exe)
                .args([
                    "--worker",
                    &k.to_string(),
                    "--execs",
                    &per.to_string(),
                    "--seed",
                    &seed.to_string(),
                    "--out",
                    &out,
                ])
                .stdout(std::process::Stdio::piped())
                .spawn()
                .expect("start a worker")
        })
        .collect();
    let mut ok = true;
    let (
        mut total,
        mut max_us,
        mut max_alloc,
        mut max_ratio,
        mut max_ratio_4k,
        mut findings,
        mut pcs_panics,
    ) = (0u64, 0u64, 0u64, 0f64, 0f64, 0u64, 0u64);
    for c in children {
        let o = c.wait_with_output().expect("worker output");
        let line = String::from_utf8_lossy(&o.stdout).to_string();
        print!("{line}");
        ok &= o.status.success();
        let field = |name: &str| -> f64 {
            line.split_whitespace()
                .skip_while(|w| *w != name)
                .nth(1)
                .and_then(|v| v.parse().ok())
                .unwrap_or(0.0)
        };
        total += field("execs") as u64;
        max_us = max_us.max(field("max_exec_us") as u64);
        max_alloc = max_alloc.max(field("max_alloc_bytes") as u64);
        max_ratio = max_ratio.max(field("max_alloc_ratio"));
        max_ratio_4k = max_ratio_4k.max(field("max_alloc_ratio_4k"));
        findings += field("findings") as u64;
        pcs_panics += field("panics_in_pcs") as u64;
        if !o.status.success() && line.is_empty() {
            eprintln!("a worker died ({}): see the messages above", o.status);
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "fuzz: {total} executions in {secs:.0} s ({:.0}/s over {jobs} processes); slowest {max_us} µs; peak allocation {max_alloc} bytes, at most {max_ratio:.2}x its input ({max_ratio_4k:.2}x for inputs of 4 KiB or more); {pcs_panics} panics caught at the PCS boundary; {findings} findings",
        total as f64 / secs
    );
    std::process::exit(if ok && findings == 0 { 0 } else { 1 });
}
