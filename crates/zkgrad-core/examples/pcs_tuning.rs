//! WHIR parameter sweep for one opening (tuning aid): commit, open, verify times and proof size.
//! `cargo run --release -p zkgrad-core --example pcs_tuning -- <num_vars> [hiding 0|1]`
//! (`TUNE_GRID2="fold rate [pow [mask_rate [ell [rate_step (0: auto) [later_fold]]]]]"`: one configuration; `TUNE_PARTS`: size by part;
//! `TUNE_OPENINGS=B`: hide B openings of the commitment, laid out as `Pcs::for_reused` does)

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::time::Instant;

use p3_field::PrimeCharacteristicRing;
use zkgrad_core::field::{EF, F};
use zkgrad_core::pcs::{Pcs, PcsParams};
use zkgrad_core::transcript::Transcript;

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("numbers"))
        .collect();
    let nv = args.first().copied().unwrap_or(12);
    let hiding = args.get(1).copied().unwrap_or(1) == 1;
    let mut base = PcsParams::default();
    if let Ok(a) = std::env::var("TUNE_ASSUME") {
        base.assumption = a
            .parse()
            .expect("JohnsonBound | UniqueDecoding | CapacityBound");
    }
    if let Ok(s) = std::env::var("TUNE_LEVEL") {
        base.security_level = s.parse().expect("bits");
    }
    let openings: usize = std::env::var("TUNE_OPENINGS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    base.openings = openings;
    let mut variants: Vec<(String, PcsParams)> = vec![
        (
            "for_size".into(),
            PcsParams {
                openings,
                ..PcsParams::for_size(nv, hiding)
            },
        ),
        ("default".into(), base.clone()),
    ];
    for r in [2, 3, 4] {
        variants.push((
            format!("rate {r}"),
            PcsParams {
                starting_log_inv_rate: r,
                ..base.clone()
            },
        ));
    }
    for f in [5, 6] {
        variants.push((
            format!("fold {f}"),
            PcsParams {
                first_folding_factor: f,
                folding_factor: f,
                ..base.clone()
            },
        ));
        variants.push((
            format!("fold {f} rate 3"),
            PcsParams {
                first_folding_factor: f,
                folding_factor: f,
                starting_log_inv_rate: 3,
                ..base.clone()
            },
        ));
    }
    for m in [4, 6, 7, 8] {
        variants.push((
            format!("mask rate {m}"),
            PcsParams {
                zk_mask_log_inv_rate: m,
                ..base.clone()
            },
        ));
    }
    for e in [3, 4, 6] {
        variants.push((
            format!("ell {e}"),
            PcsParams {
                zk_ell: e,
                ..base.clone()
            },
        ));
    }
    variants.push((
        "pow 16".into(),
        PcsParams {
            pow_bits: 16,
            ..base.clone()
        },
    ));
    variants.push((
        "pow 16 rate 3".into(),
        PcsParams {
            pow_bits: 16,
            starting_log_inv_rate: 3,
            ..base.clone()
        },
    ));
    let evals: Vec<F> = (0..1u64 << nv)
        .map(|i| F::from_u64(i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 20))
        .collect();
    let n_points: u64 = std::env::var("TUNE_POINTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let points: Vec<Vec<EF>> = (0..n_points)
        .map(|k| {
            (0..nv as u64)
                .map(|i| EF::from_u64(i * 7 + 3 + 1000 * k))
                .collect()
        })
        .collect();
    if std::env::var_os("TUNE_GRID").is_some() {
        variants.clear();
        for f in 4..=10 {
            for r in 2..=5 {
                variants.push((
                    format!("f{f} r{r}"),
                    PcsParams {
                        first_folding_factor: f,
                        folding_factor: f,
                        starting_log_inv_rate: r,
                        ..base.clone()
                    },
                ));
            }
        }
    }
    if let Ok(fr) = std::env::var("TUNE_GRID2") {
        let v: Vec<usize> = fr
            .split_whitespace()
            .map(|x| x.parse().expect("fold rate"))
            .collect();
        let pow = v.get(2).copied().unwrap_or(base.pow_bits);
        let mask_rate = v.get(3).copied().unwrap_or(base.zk_mask_log_inv_rate);
        let ell = v.get(4).copied().unwrap_or(base.zk_ell);
        let rate_step = v.get(5).copied().filter(|&s| s > 0);
        let later_fold = v.get(6).copied().unwrap_or(v[0]);
        let name = format!(
            "f{}/{later_fold} r{} pow{pow} m{mask_rate} l{ell} step {rate_step:?}",
            v[0], v[1]
        );
        let p = PcsParams {
            first_folding_factor: v[0],
            folding_factor: later_fold,
            starting_log_inv_rate: v[1],
            pow_bits: pow,
            zk_mask_log_inv_rate: mask_rate,
            zk_ell: ell,
            rate_step,
            ..base.clone()
        };
        variants = vec![(name, p)];
    }
    let only = std::env::var("TUNE_ONLY").ok();
    for (name, p) in variants {
        if only.as_ref().is_some_and(|o| o != &name) {
            continue;
        }
        let made = if openings > 1 {
            Pcs::for_reused_with(nv, openings, PcsParams { openings: 1, ..p })
        } else {
            Pcs::with_params(nv, hiding, p)
        };
        let pcs = match made {
            Ok(p) => p,
            Err(e) => {
                println!("{name:16} invalid: {e}");
                continue;
            }
        };
        let comps = pcs.soundness_components("WHIR", 1);
        let weakest = comps
            .iter()
            .min_by(|a, b| a.bits.total_cmp(&b.bits))
            .expect("components");
        let sound = format!("{:.1} bits (weakest: {})", weakest.bits, weakest.name);
        if std::env::var_os("TUNE_SUMMARY").is_some() {
            println!("{name:16} {sound} | {}", pcs.config_summary());
            if std::env::var_os("TUNE_COMPONENTS").is_some() {
                for c in &comps {
                    println!("    {:7.2} {}", c.bits, c.name);
                }
            }
            continue;
        }
        let reps: usize = std::env::var("TUNE_REPS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(3);
        let (mut tc, mut to, mut tv, mut size) = (f64::MAX, f64::MAX, f64::MAX, 0);
        for _ in 0..reps {
            let t = Instant::now();
            let (c, d) = pcs.commit(evals.clone(), [7; 32]);
            tc = tc.min(t.elapsed().as_secs_f64());
            let t = Instant::now();
            let (vals, proof) = pcs.open(d, &points, &mut Transcript::new(b"t"));
            to = to.min(t.elapsed().as_secs_f64());
            size = proof.size_bytes();
            let t = Instant::now();
            pcs.verify(&c, &points, &vals, &proof, &mut Transcript::new(b"t"))
                .expect("verifies");
            tv = tv.min(t.elapsed().as_secs_f64());
        }
        if std::env::var_os("TUNE_PARTS").is_some() {
            let d = pcs.commit(evals.clone(), [7; 32]).1;
            let (_, proof) = pcs.open(d, &points, &mut Transcript::new(b"t"));
            println!("{:?}", proof.size_breakdown());
        }
        println!(
            "{name:16} commit {:7.1} ms open {:7.1} ms verify {:5.1} ms size {:6.1} KiB | {sound} | {}",
            tc * 1e3,
            to * 1e3,
            tv * 1e3,
            size as f64 / 1024.0,
            pcs.config_summary()
        );
    }
}
