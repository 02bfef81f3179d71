//! A small CNN (conv → requant → relu → maxpool → reshape → dense → requant) through parsing,
//! validation, lowering and the integer forward pass, checked against a plain reference loop.

use std::collections::BTreeMap;

use zkgrad_core::circuit::{ConvGeom, DenseSpec, LayerKind, PoolGeom};
use zkgrad_model::exec::{run, run_trace};
use zkgrad_model::lower::Source;
use zkgrad_model::{Graph, ModelError, Op, Tensor, lower, validate};

/// The CNN's IR: input [1, 1, 6, 6], conv 2×1×3×3, maxpool 2×2 stride 2, dense to 3 outputs.
/// `pooled` is the element count after the pool, which depends on the conv's strides and pads.
fn cnn_json(strides: [usize; 2], pads: [usize; 4], pooled: usize) -> String {
    format!(
        r#"{{"version": 1,
      "input":  {{"name": "image", "shape": [1, 1, 6, 6], "scale_bits": 4}},
      "output": {{"name": "logits", "shape": [1, 3], "scale_bits": 4}},
      "nodes": [
        {{"name": "/conv", "op": "conv", "inputs": ["image"], "output": "c_acc", "weight": "conv.weight", "bias": "conv.bias", "strides": {strides:?}, "pads": {pads:?}}},
        {{"name": "/conv:requant", "op": "requant", "inputs": ["c_acc"], "output": "c_q", "mult": 3, "shift": 2}},
        {{"name": "/relu", "op": "relu", "inputs": ["c_q"], "output": "c"}},
        {{"name": "/pool", "op": "maxpool", "inputs": ["c"], "output": "p", "kernel": [2, 2], "strides": [2, 2]}},
        {{"name": "/flatten", "op": "reshape", "inputs": ["p"], "output": "pf", "shape": [1, {pooled}]}},
        {{"name": "/fc", "op": "dense", "inputs": ["pf"], "output": "fc_acc", "weight": "fc.weight", "bias": "fc.bias"}},
        {{"name": "/fc:requant", "op": "requant", "inputs": ["fc_acc"], "output": "logits", "mult": 1, "shift": 3}}
      ]}}"#
    )
}

fn default_json() -> String {
    cnn_json([1, 1], [1, 1, 1, 1], 18)
}

fn tensor(name: &str, shape: Vec<usize>, data: Vec<i64>) -> (String, Tensor) {
    (name.into(), Tensor::new(name, shape, data).unwrap())
}

/// Small deterministic integers in -r..=r.
fn ints(n: usize, seed: i64, r: i64) -> Vec<i64> {
    (0..n as i64)
        .map(|i| (i * 7 + seed * 13 + i * i * 3) % (2 * r + 1) - r)
        .collect()
}

fn cnn_tensors(pooled: usize) -> BTreeMap<String, Tensor> {
    [
        tensor("conv.weight", vec![2, 1, 3, 3], ints(18, 1, 3)),
        tensor("conv.bias", vec![2], vec![5, -7]),
        tensor("fc.weight", vec![3, pooled], ints(3 * pooled, 2, 4)),
        tensor("fc.bias", vec![3], vec![1, 0, -2]),
    ]
    .into_iter()
    .collect()
}

fn requant(z: i64, mult: i64, shift: u32) -> i64 {
    (z * mult + (1 << (shift - 1))).div_euclid(1 << shift)
}

/// The CNN's integer semantics written out plainly (NCHW, zero padding, floor division).
fn reference(
    x: &[i64],
    t: &BTreeMap<String, Tensor>,
    strides: [usize; 2],
    pads: [usize; 4],
) -> Vec<i64> {
    let (kw, kb) = (t["conv.weight"].data(), t["conv.bias"].data());
    let (h, w) = (6i64, 6i64);
    let ho = ((h as usize + pads[0] + pads[2] - 3) / strides[0] + 1) as i64;
    let wo = ((w as usize + pads[1] + pads[3] - 3) / strides[1] + 1) as i64;
    let mut conv = vec![0i64; (2 * ho * wo) as usize];
    for oc in 0..2 {
        for oy in 0..ho {
            for ox in 0..wo {
                let mut z = kb[oc as usize];
                for ky in 0..3 {
                    for kx in 0..3 {
                        let y = oy * strides[0] as i64 + ky - pads[0] as i64;
                        let xx = ox * strides[1] as i64 + kx - pads[1] as i64;
                        if (0..h).contains(&y) && (0..w).contains(&xx) {
                            z += kw[(oc * 9 + ky * 3 + kx) as usize] * x[(y * w + xx) as usize];
                        }
                    }
                }
                conv[((oc * ho + oy) * wo + ox) as usize] = requant(z, 3, 2).max(0);
            }
        }
    }
    let (po, pw) = ((ho - 2) / 2 + 1, (wo - 2) / 2 + 1);
    let mut pooled = Vec::new();
    for c in 0..2 {
        for py in 0..po {
            for px in 0..pw {
                let mut m = i64::MIN;
                for dy in 0..2 {
                    for dx in 0..2 {
                        let v = conv[((c * ho + py * 2 + dy) * wo + px * 2 + dx) as usize];
                        m = m.max(v);
                    }
                }
                pooled.push(m);
            }
        }
    }
    let (fw, fb) = (t["fc.weight"].data(), t["fc.bias"].data());
    (0..3)
        .map(|o| {
            let z: i64 = (0..pooled.len())
                .map(|i| fw[o * pooled.len() + i] * pooled[i])
                .sum();
            requant(z + fb[o], 1, 3)
        })
        .collect()
}

fn graph(json: &str) -> Graph {
    Graph::from_json(json).unwrap()
}

#[test]
fn cnn_parses_and_round_trips() {
    let g = graph(&default_json());
    assert_eq!(
        g.nodes[0].op,
        Op::Conv {
            weight: "conv.weight".into(),
            bias: Some("conv.bias".into()),
            strides: [1, 1],
            pads: [1, 1, 1, 1]
        }
    );
    assert_eq!(
        g.nodes[3].op,
        Op::MaxPool {
            kernel: [2, 2],
            strides: [2, 2]
        }
    );
    let text = g.to_json();
    assert!(
        text.contains(r#""op":"maxpool","kernel":[2,2],"strides":[2,2]"#),
        "{text}"
    );
    assert_eq!(Graph::from_json(&text).unwrap(), g);
}

/// IRs written before proof format 6 may say `"zk": true` (accepted: zero knowledge is always
/// on); `"zk": false` is refused with one clear message.
#[test]
fn an_ir_without_zero_knowledge_is_refused() {
    let on = default_json().replacen(r#""version": 1,"#, r#""version": 1, "zk": true,"#, 1);
    assert_eq!(graph(&on), graph(&default_json()));
    let off = default_json().replacen(r#""version": 1,"#, r#""version": 1, "zk": false,"#, 1);
    let e = Graph::from_json(&off).unwrap_err().to_string();
    assert!(
        e.contains("zero knowledge is always on since proof format 6"),
        "{e}"
    );
}

#[test]
fn conv_and_maxpool_attributes_are_strict() {
    let json = default_json()
        .replace(
            r#""kernel": [2, 2], "strides": [2, 2]"#,
            r#""kernel": [2, 2], "strides": [2, 2], "pads": [0, 0, 0, 0]"#,
        )
        .replace(r#""strides": [1, 1]"#, r#""strides": [1, 1, 1]"#);
    let e = Graph::from_json(&json).unwrap_err();
    let p: Vec<String> = e.problems().iter().map(|p| p.to_string()).collect();
    assert_eq!(p.len(), 2, "{e}");
    assert!(
        p[0].starts_with("node '/conv' (conv): bad attributes"),
        "{e}"
    );
    assert!(
        p[1].starts_with("node '/pool' (maxpool): bad attributes") && p[1].contains("pads"),
        "{e}"
    );
}

#[test]
fn cnn_lowers_to_conv_pool_and_dense_blocks() {
    let l = lower(&graph(&default_json()), &cnn_tensors(18)).unwrap();
    assert_eq!(l.spec.input_len, 36);
    let conv = ConvGeom {
        in_channels: 1,
        in_hw: [6, 6],
        out_channels: 2,
        kernel: [3, 3],
        stride: [1, 1],
        pads: [1, 1, 1, 1],
    };
    let pool = PoolGeom {
        channels: 2,
        in_hw: [6, 6],
        kernel: [2, 2],
        stride: [2, 2],
    };
    let block = |name: &str, in_dim, out_dim, mult, shift, relu, kind| DenseSpec {
        name: name.into(),
        in_dim,
        out_dim,
        mult,
        shift,
        relu,
        kind,
    };
    assert_eq!(
        l.spec.layers,
        vec![
            block("/conv", 36, 72, 3, 2, true, LayerKind::Conv(conv)),
            block("/pool", 72, 18, 1, 1, false, LayerKind::MaxPool(pool)),
            block("/fc", 18, 3, 1, 3, false, LayerKind::Dense),
        ]
    );
    let t = cnn_tensors(18);
    assert_eq!(l.weights.layers[0].weight, t["conv.weight"].data());
    assert_eq!(l.weights.layers[0].bias, vec![5, -7]);
    assert!(l.weights.layers[1].weight.is_empty() && l.weights.layers[1].bias.is_empty());
    let ops: Vec<_> = l.blocks.iter().map(|b| b.op.as_str()).collect();
    assert_eq!(ops, ["conv", "maxpool", "dense"]);
    let names: Vec<_> = l.tensors.iter().map(|(n, s)| (n.as_str(), *s)).collect();
    assert_eq!(
        names,
        [
            ("image", Source::Input),
            ("c_acc", Source::Acc(0)),
            ("c_q", Source::Requant(0)),
            ("c", Source::Act(0)),
            ("p", Source::Act(1)),
            ("pf", Source::Act(1)),
            ("fc_acc", Source::Acc(2)),
            ("logits", Source::Requant(2)),
        ]
    );
    assert_eq!(l.num_values(), 18 + 2 + 54 + 3);
}

#[test]
fn cnn_output_matches_the_reference_loop() {
    for (strides, pads, pooled) in [
        ([1, 1], [1, 1, 1, 1], 18),
        // Output 3×5 from asymmetric padding and stride 2 in height, pooled to 1×2.
        ([2, 1], [0, 1, 1, 0], 4),
    ] {
        let t = cnn_tensors(pooled);
        let l = lower(&graph(&cnn_json(strides, pads, pooled)), &t).unwrap();
        for seed in 0..4 {
            let x = ints(36, seed, 9);
            let want = reference(&x, &t, strides, pads);
            assert_eq!(
                run(&l, &x).unwrap(),
                want,
                "strides {strides:?} pads {pads:?} seed {seed}"
            );
        }
    }
}

#[test]
fn trace_gives_the_pooled_tensor() {
    let l = lower(&graph(&default_json()), &cnn_tensors(18)).unwrap();
    let x = ints(36, 1, 9);
    let trace = run_trace(&l, &x).unwrap();
    let get = |name: &str| trace.iter().find(|(n, _)| n == name).unwrap().1.clone();
    let (c, p) = (get("c"), get("p"));
    assert_eq!((c.len(), p.len()), (72, 18));
    // Channel 1, pooled position (1, 2) is the max of conv rows 2..4, columns 4..6.
    let window = [2 * 6 + 4, 2 * 6 + 5, 3 * 6 + 4, 3 * 6 + 5].map(|i| c[36 + i]);
    assert_eq!(p[9 + 3 + 2], *window.iter().max().unwrap());
    assert_eq!(get("pf"), p);
}

#[test]
fn dense_may_read_the_pooled_image_directly() {
    let json = default_json()
        .replace(r#"{"name": "/flatten", "op": "reshape", "inputs": ["p"], "output": "pf", "shape": [1, 18]},"#, "")
        .replace(r#""inputs": ["pf"]"#, r#""inputs": ["p"]"#);
    let t = cnn_tensors(18);
    let l = lower(&graph(&json), &t).unwrap();
    let x = ints(36, 3, 9);
    assert_eq!(
        run(&l, &x).unwrap(),
        reference(&x, &t, [1, 1], [1, 1, 1, 1])
    );
}

/// The validation problems of a CNN variant, as messages.
fn problems(json: &str, t: &BTreeMap<String, Tensor>) -> Vec<String> {
    match validate(&graph(json), t) {
        Ok(()) => vec![],
        Err(e) => e.problems().iter().map(|p| p.to_string()).collect(),
    }
}

fn with_conv_weight(shape: Vec<usize>) -> BTreeMap<String, Tensor> {
    let mut t = cnn_tensors(18);
    let n = shape.iter().product();
    t.insert(
        "conv.weight".into(),
        Tensor::new("conv.weight", shape, vec![1; n]).unwrap(),
    );
    t
}

#[test]
fn conv_weight_rank_and_channels_are_checked() {
    assert_eq!(
        problems(&default_json(), &with_conv_weight(vec![2, 9])),
        [
            "node '/conv' (conv): tensor 'conv.weight' has shape [2, 9], expected [C_out, 1, kh, kw] with C_out ≥ 1 (ONNX Conv layout)"
        ]
    );
    assert_eq!(
        problems(&default_json(), &with_conv_weight(vec![2, 3, 3, 3])),
        [
            "node '/conv' (conv): tensor 'conv.weight' has shape [2, 3, 3, 3], expected [C_out, 1, kh, kw] with C_out ≥ 1 (ONNX Conv layout)"
        ]
    );
}

#[test]
fn kernel_larger_than_the_padded_input_is_rejected() {
    assert_eq!(
        problems(&default_json(), &with_conv_weight(vec![2, 1, 9, 3])),
        [
            "node '/conv' (conv): kernel [9, 3] does not fit the padded input [8, 8] (each side must be 1..=the input's)"
        ]
    );
    let json = default_json().replace(r#""kernel": [2, 2]"#, r#""kernel": [2, 7]"#);
    assert_eq!(
        problems(&json, &cnn_tensors(18)),
        [
            "node '/pool' (maxpool): kernel [2, 7] does not fit the padded input [6, 6] (each side must be 1..=the input's)"
        ]
    );
}

#[test]
fn zero_strides_are_rejected() {
    assert_eq!(
        problems(&cnn_json([0, 1], [1, 1, 1, 1], 18), &cnn_tensors(18)),
        ["node '/conv' (conv): strides [0, 1] must each be at least 1"]
    );
    let json = default_json().replace(
        r#""kernel": [2, 2], "strides": [2, 2]"#,
        r#""kernel": [2, 2], "strides": [2, 0]"#,
    );
    assert_eq!(
        problems(&json, &cnn_tensors(18)),
        ["node '/pool' (maxpool): strides [2, 0] must each be at least 1"]
    );
}

#[test]
fn conv_needs_an_image_input() {
    let json = default_json().replace(r#""shape": [1, 1, 6, 6]"#, r#""shape": [1, 36]"#);
    assert_eq!(
        problems(&json, &cnn_tensors(18)),
        [
            "node '/conv' (conv): input 'image' has shape [1, 36], expected [1, C, H, W] or [C, H, W]"
        ]
    );
    // Three dimensions (no batch) are an image too.
    let json = default_json().replace(r#""shape": [1, 1, 6, 6]"#, r#""shape": [1, 6, 6]"#);
    assert_eq!(problems(&json, &cnn_tensors(18)), Vec::<String>::new());
}

#[test]
fn conv_must_be_followed_by_its_requant() {
    // conv → maxpool directly: the accumulator is never requantised.
    let json = default_json()
        .replace(r#""inputs": ["c"]"#, r#""inputs": ["c_acc"]"#)
        .replace(r#"{"name": "/conv:requant", "op": "requant", "inputs": ["c_acc"], "output": "c_q", "mult": 3, "shift": 2},"#, "")
        .replace(r#"{"name": "/relu", "op": "relu", "inputs": ["c_q"], "output": "c"},"#, "");
    assert_eq!(
        problems(&json, &cnn_tensors(18)),
        [
            "node '/conv' (conv): must be followed directly by a requant node that reads its output 'c_acc'"
        ]
    );
}

#[test]
fn requant_or_relu_after_maxpool_is_rejected() {
    let after_pool = |node: &str| {
        default_json()
            .replace(r#""output": "p", "kernel""#, r#""output": "p0", "kernel""#)
            .replace(
                r#"{"name": "/flatten""#,
                &format!("{node}, {{\"name\": \"/flatten\""),
            )
    };
    let json = after_pool(
        r#"{"name": "/pool:requant", "op": "requant", "inputs": ["p0"], "output": "p", "mult": 1, "shift": 1}"#,
    );
    assert_eq!(
        problems(&json, &cnn_tensors(18)),
        [
            "node '/pool:requant' (requant): must directly follow a dense or conv or add or mul or matmul node, but its input 'p0' comes from node '/pool' (maxpool)"
        ]
    );
    let json =
        after_pool(r#"{"name": "/pool:relu", "op": "relu", "inputs": ["p0"], "output": "p"}"#);
    assert_eq!(
        problems(&json, &cnn_tensors(18)),
        [
            "node '/pool:relu' (relu): must directly follow a requant node, but its input 'p0' comes from node '/pool' (maxpool)"
        ]
    );
}

#[test]
fn shapes_flow_to_the_reshape_and_the_output() {
    let json = default_json().replace(r#""shape": [1, 18]"#, r#""shape": [1, 20]"#);
    assert_eq!(
        problems(&json, &cnn_tensors(18)),
        [
            "node '/flatten' (reshape): shape [1, 20] has 20 elements but the input 'p' has 18",
            // The dense then reads the reshape's 20 elements.
            "node '/fc' (dense): tensor 'fc.weight' has shape [3, 18], expected [out, 20] with out ≥ 1 (row-major, y = W·x)",
        ]
    );
    let json = default_json().replace(
        r#""name": "logits", "shape": [1, 3]"#,
        r#""name": "logits", "shape": [1, 4]"#,
    );
    assert_eq!(
        problems(&json, &cnn_tensors(18)),
        ["graph output 'logits' is declared with 4 elements but the graph has 3"]
    );
}

#[test]
fn regrouping_a_dense_output_into_channels_is_unsupported() {
    // dense → 18 values, reshaped to 2 channels of 3×3 for a maxpool: the dense block stores one
    // flat vector, the pool reads channel by channel.
    let json = r#"{"version": 1, "input": {"name": "x", "shape": [1, 4]}, "output": {"name": "p", "shape": [1, 2, 2, 2]},
      "nodes": [
        {"name": "/fc", "op": "dense", "inputs": ["x"], "output": "a", "weight": "w"},
        {"name": "/fc:requant", "op": "requant", "inputs": ["a"], "output": "q", "mult": 1, "shift": 1},
        {"name": "/r", "op": "reshape", "inputs": ["q"], "output": "img", "shape": [1, 2, 3, 3]},
        {"name": "/pool", "op": "maxpool", "inputs": ["img"], "output": "p", "kernel": [2, 2], "strides": [1, 1]}]}"#;
    let t: BTreeMap<_, _> = [tensor("w", vec![18, 4], vec![1; 72])]
        .into_iter()
        .collect();
    let e = lower(&graph(json), &t).unwrap_err();
    assert!(
        matches!(&e, ModelError::Unsupported { node, .. } if node == "/pool"),
        "{e}"
    );
    assert!(
        e.to_string().contains("reads 2 channel(s) of 9 values"),
        "{e}"
    );
}
