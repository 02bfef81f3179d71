//! The per-proof witness: which columns are committed, where they live in the packed polynomial,
//! and which lookups they take part in. Prover and verifier derive the same plan from the
//! public circuit, so nothing about the layout travels in the proof.

use p3_field::PrimeCharacteristicRing;

use crate::circuit::{ActShape, BlockTrace, CircuitSpec, LayerKind};
use crate::field::F;
use crate::layout::{Layout, batched_column};
use crate::tables::Table;

/// Column indices of one block.
#[derive(Clone, Debug)]
pub struct BlockColumns {
    /// Requantised values q (pooling: the maxima, = `a`).
    pub q: usize,
    /// Scaled remainders t (none for pooling).
    pub t: Option<usize>,
    /// Output activations (equal to `q` when there is no ReLU).
    pub a: usize,
    /// Pooling: the input value at each window element, one column per element.
    pub gathered: Vec<usize>,
    /// log2 of the padded output column (channels and positions, no batch).
    pub log_out: usize,
}

/// How a lookup's value is formed from committed columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LookupValue {
    /// The column itself.
    Column(usize),
    /// The column plus 2^(b−1) (signed b-bit range).
    Signed(usize),
    /// a − g (a non-negative difference).
    Diff(usize, usize),
}

impl LookupValue {
    /// Columns whose evaluations the verifier needs at the leaf point.
    pub fn columns(self) -> Vec<usize> {
        match self {
            LookupValue::Column(c) | LookupValue::Signed(c) => vec![c],
            LookupValue::Diff(a, g) => vec![a, g],
        }
    }
}

/// One lookup: a committed column (or pair) whose every entry lies in `table`.
#[derive(Clone, Debug)]
pub struct Lookup {
    /// Target table.
    pub table: Table,
    /// What is looked up.
    pub value: LookupValue,
    /// log2 of the number of entries.
    pub log_len: usize,
}

/// A value proved in [0, 2^(2h)) by two h-bit limbs, v = lo + 2^h·hi, each looked up in the
/// h-bit range table (zero-knowledge plans with an even table width whose lookups are small next
/// to the table, as in MLPs: a 2^(b/2) table and its multiplicity column instead of a 2^b one,
/// which would otherwise be most of the witness).
#[derive(Clone, Debug)]
pub struct Decomposition {
    /// The value (as a lookup value would be formed).
    pub value: LookupValue,
    /// Low limb column.
    pub lo: usize,
    /// High limb column.
    pub hi: usize,
    /// log2 of the number of entries.
    pub log_len: usize,
}

/// A table block's lookup (`zk/unary.rs`): every (input, output) pair of its columns, and
/// (0, 0) on padding slots, is an entry of the block's public table.
#[derive(Clone, Debug)]
pub struct UnaryLookup {
    /// The block.
    pub layer: usize,
    /// Its input column (the previous block's output, or the circuit input).
    pub input: usize,
    /// Its output column.
    pub output: usize,
    /// How both columns store a batch item.
    pub shape: ActShape,
    /// log2 of the number of entries of either column (batch included).
    pub log_len: usize,
    /// log2 of the padded table.
    pub table_log: usize,
    /// The table's multiplicity column.
    pub mult: usize,
    /// The table's smallest input.
    pub lo: i64,
    /// The table's number of (input, output) pairs; entry `entries` is the padding pair.
    pub entries: usize,
}

/// A hook that edits the witness columns before they are committed (tests of soundness only:
/// it plays a cheating prover).
pub type WitnessTamper<'a> = &'a dyn Fn(&WitnessPlan, &mut Vec<Vec<F>>);

/// The full witness plan.
#[derive(Clone, Debug)]
pub struct WitnessPlan {
    /// Packed layout of all committed columns.
    pub layout: Layout,
    /// Input column.
    pub x: usize,
    /// log2 of the padded input column.
    pub log_in: usize,
    /// How the input is stored.
    pub input_shape: ActShape,
    /// log2 of the padded batch size (the batch index is the high variables of every column).
    pub log_batch: usize,
    /// One entry per dense block.
    pub blocks: Vec<BlockColumns>,
    /// Lookups in proof order.
    pub lookups: Vec<Lookup>,
    /// Range checks split into limbs (empty when the width is odd or the lookups are large next
    /// to the table).
    pub decompositions: Vec<Decomposition>,
    /// Tables in use with their multiplicity column, in proof order.
    pub tables: Vec<(Table, usize)>,
    /// log2 of every table's size.
    pub table_bits: usize,
    /// Half the table size (maps signed values to table indices).
    pub signed_offset: i64,
    /// Table blocks' lookups, in block order (proved in the same sumcheck as `lookups`).
    pub unary: Vec<UnaryLookup>,
}

impl WitnessPlan {
    /// Derives the plan from the public circuit and the batch size.
    pub fn new(spec: &CircuitSpec, batch: usize) -> Self {
        let log_batch = crate::mle::log2_ceil(batch);
        let mut logs = Vec::new();
        let col = |logs: &mut Vec<usize>, k: usize| {
            logs.push(k + log_batch);
            logs.len() - 1
        };
        let input_shape = spec.input_shape();
        let log_in = input_shape.log_size();
        let x = col(&mut logs, log_in);
        let bits = spec.table_bits as usize;
        let mut lookups = vec![Lookup {
            table: Table::Range,
            value: LookupValue::Signed(x),
            log_len: log_in + log_batch,
        }];
        let mut blocks: Vec<BlockColumns> = Vec::new();
        let mut unary = Vec::new();
        for (layer, l) in spec.layers.iter().enumerate() {
            let log_out = l.out_shape().log_size();
            let log_len = log_out + log_batch;
            if let LayerKind::Unary(g) = &l.kind {
                let input = match spec.source(layer) {
                    crate::circuit::Operand::Input => x,
                    crate::circuit::Operand::Block(k) => blocks[k].a,
                };
                let a = col(&mut logs, log_out);
                logs.push(g.table_log());
                unary.push(UnaryLookup {
                    layer,
                    input,
                    output: a,
                    shape: g.shape(),
                    log_len,
                    table_log: g.table_log(),
                    mult: logs.len() - 1,
                    lo: g.lo,
                    entries: g.values.len(),
                });
                blocks.push(BlockColumns {
                    q: a,
                    t: None,
                    a,
                    gathered: Vec::new(),
                    log_out,
                });
                continue;
            }
            if let LayerKind::MaxPool(g) = &l.kind {
                // a − g_u ≥ 0 for every window element u (and, checked by a sumcheck, one is 0).
                let a = col(&mut logs, log_out);
                let gathered: Vec<usize> =
                    (0..g.window()).map(|_| col(&mut logs, log_out)).collect();
                for &gu in &gathered {
                    lookups.push(Lookup {
                        table: Table::Range,
                        value: LookupValue::Diff(a, gu),
                        log_len,
                    });
                }
                blocks.push(BlockColumns {
                    q: a,
                    t: None,
                    a,
                    gathered,
                    log_out,
                });
                continue;
            }
            let q = col(&mut logs, log_out);
            let t = col(&mut logs, log_out);
            let a = if l.relu { col(&mut logs, log_out) } else { q };
            lookups.push(Lookup {
                table: Table::Range,
                value: LookupValue::Column(t),
                log_len,
            });
            lookups.push(Lookup {
                table: Table::Range,
                value: LookupValue::Signed(q),
                log_len,
            });
            if l.relu {
                // a ≥ 0 and a − q ≥ 0; a·(a − q) = 0 is a sumcheck (`zk/dense.rs`).
                lookups.push(Lookup {
                    table: Table::Range,
                    value: LookupValue::Column(a),
                    log_len,
                });
                lookups.push(Lookup {
                    table: Table::Range,
                    value: LookupValue::Diff(a, q),
                    log_len,
                });
            }
            blocks.push(BlockColumns {
                q,
                t: Some(t),
                a,
                gathered: Vec::new(),
                log_out,
            });
        }
        // Plans with an even width range-check through two half-width limbs.
        let mut decompositions = Vec::new();
        // Limbs pay off while the lookups are small next to the table: each range check then
        // costs two limb columns and two inverse columns instead of a share of a 2^b table.
        let looked_up: usize = lookups.iter().map(|l| 1usize << l.log_len).sum();
        let bits = if bits % 2 == 0 && 4 * looked_up < 1 << bits {
            let ranges = std::mem::take(&mut lookups);
            for r in ranges {
                logs.push(r.log_len);
                logs.push(r.log_len);
                let (lo, hi) = (logs.len() - 2, logs.len() - 1);
                lookups.push(Lookup {
                    table: Table::Range,
                    value: LookupValue::Column(lo),
                    log_len: r.log_len,
                });
                lookups.push(Lookup {
                    table: Table::Range,
                    value: LookupValue::Column(hi),
                    log_len: r.log_len,
                });
                decompositions.push(Decomposition {
                    value: r.value,
                    lo,
                    hi,
                    log_len: r.log_len,
                });
            }
            bits / 2
        } else {
            bits
        };
        // Table multiplicity columns do not grow with the batch.
        let table_col = |logs: &mut Vec<usize>| {
            logs.push(bits);
            logs.len() - 1
        };
        let tables = vec![(Table::Range, table_col(&mut logs))];
        let signed_offset = spec.signed_offset();
        Self {
            layout: Layout::new(&logs),
            x,
            log_in,
            input_shape,
            log_batch,
            blocks,
            lookups,
            decompositions,
            tables,
            table_bits: bits,
            signed_offset,
            unary,
        }
    }

    /// Builds every column (padded) from the inputs and their forward-pass traces
    /// (`traces[n][l]` = block l of batch item n).
    pub fn columns(
        &self,
        spec: &CircuitSpec,
        inputs: &[Vec<i64>],
        traces: &[Vec<BlockTrace>],
    ) -> Vec<Vec<F>> {
        let mut cols: Vec<Vec<F>> = vec![Vec::new(); self.layout.columns.len()];
        let kb = self.log_batch;
        // Each batch item's vector placed in its column layout; padding batch items repeat item 0.
        let shaped = |shape: ActShape, rows: Vec<&[i64]>, pad: i64| {
            let placed: Vec<Vec<i64>> = rows.iter().map(|r| shape.place(r, pad)).collect();
            let refs: Vec<&[i64]> = placed.iter().map(|v| v.as_slice()).collect();
            batched_column(&refs, shape.log_size(), kb, pad)
        };
        cols[self.x] = self.input_column(inputs);
        for (l, (b, layer)) in self.blocks.iter().zip(&spec.layers).enumerate() {
            let field = |f: fn(&BlockTrace) -> &Vec<i64>| {
                traces
                    .iter()
                    .map(|t| f(&t[l]).as_slice())
                    .collect::<Vec<_>>()
            };
            let out = layer.out_shape();
            if let LayerKind::MaxPool(g) = &layer.kind {
                cols[b.a] = shaped(out, field(|t| &t.a), 0);
                let prev: Vec<&[i64]> = match spec.source(l) {
                    crate::circuit::Operand::Input => inputs.iter().map(|v| v.as_slice()).collect(),
                    crate::circuit::Operand::Block(k) => {
                        traces.iter().map(|t| t[k].a.as_slice()).collect()
                    }
                };
                let positions = out.len;
                for (u, &gu) in b.gathered.iter().enumerate() {
                    let rows: Vec<Vec<i64>> = prev
                        .iter()
                        .map(|a| {
                            (0..g.channels)
                                .flat_map(|ch| (0..positions).map(move |p| a[g.source(ch, u, p)]))
                                .collect()
                        })
                        .collect();
                    cols[gu] = shaped(out, rows.iter().map(|v| v.as_slice()).collect(), 0);
                }
                continue;
            }
            // Padding rows have z = 0, so q = 0, t = 2^(b−1) and a = 0 keep every relation true.
            cols[b.q] = shaped(out, field(|t| &t.q), 0);
            if let Some(t) = b.t {
                cols[t] = shaped(out, field(|t| &t.t), self.signed_offset);
            }
            if b.a != b.q {
                cols[b.a] = shaped(out, field(|t| &t.a), 0);
            }
        }
        self.refresh_multiplicities(&mut cols);
        cols
    }

    /// The input column: each batch item placed in the input's layout, padding items repeating
    /// item 0.
    pub fn input_column(&self, inputs: &[Vec<i64>]) -> Vec<F> {
        let placed: Vec<Vec<i64>> = inputs
            .iter()
            .map(|r| self.input_shape.place(r, 0))
            .collect();
        let refs: Vec<&[i64]> = placed.iter().map(|v| v.as_slice()).collect();
        batched_column(&refs, self.log_in, self.log_batch, 0)
    }

    /// Recomputes the limb columns from the values they split, then the multiplicity columns
    /// from the lookup columns.
    pub fn refresh_multiplicities(&self, cols: &mut [Vec<F>]) {
        let h = self.table_bits;
        let offset = self.signed_offset;
        for d in &self.decompositions {
            let v: Vec<i64> = (0..1usize << d.log_len)
                .map(|i| match d.value {
                    LookupValue::Column(c) => crate::field::to_i64(cols[c][i]),
                    LookupValue::Signed(c) => crate::field::to_i64(cols[c][i]) + offset,
                    LookupValue::Diff(a, g) => {
                        crate::field::to_i64(cols[a][i]) - crate::field::to_i64(cols[g][i])
                    }
                })
                .collect();
            // An out-of-range value gets limbs that fail their own lookups.
            cols[d.lo] = v
                .iter()
                .map(|&x| crate::field::from_i64(x.rem_euclid(1 << h)))
                .collect();
            cols[d.hi] = v
                .iter()
                .map(|&x| crate::field::from_i64(x.div_euclid(1 << h)))
                .collect();
        }
        for &(table, mcol) in &self.tables {
            cols[mcol] = self.multiplicities(table, cols);
        }
        for u in &self.unary {
            cols[u.mult] = crate::zk::unary::multiplicities(u, cols);
        }
    }

    /// Counts how often each table entry is looked up (padding entries included).
    fn multiplicities(&self, table: Table, cols: &[Vec<F>]) -> Vec<F> {
        let mut counts = vec![0u64; 1 << self.table_bits];
        for lk in self.lookups.iter().filter(|l| l.table == table) {
            let idx = |c: usize, i: usize, off: i64| {
                usize::try_from(crate::field::to_i64(cols[c][i]) + off).unwrap_or(usize::MAX)
            };
            for i in 0..1usize << lk.log_len {
                let j = match lk.value {
                    LookupValue::Column(c) => idx(c, i, 0),
                    LookupValue::Signed(c) => idx(c, i, self.signed_offset),
                    LookupValue::Diff(a, g) => {
                        let d = crate::field::to_i64(cols[a][i]) - crate::field::to_i64(cols[g][i]);
                        usize::try_from(d).unwrap_or(usize::MAX)
                    }
                };
                // Out-of-range values cannot come from `circuit::forward`; skipping them
                // leaves the lookup unbalanced, so a bad witness fails verification.
                if let Some(c) = counts.get_mut(j) {
                    *c += 1;
                }
            }
        }
        counts.into_iter().map(F::from_u64).collect()
    }
}
