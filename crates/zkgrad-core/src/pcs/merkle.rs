//! The concrete p3 types behind the PCS: Blake3 Merkle hashing (leaf and node hashers), the
//! plain and hiding Merkle trees, and the seeded randomness the hiding mode uses.

use p3_dft::Radix2DFTSmallBatch;
use p3_field::PrimeField64;
use p3_merkle_tree::{MerkleTreeHidingMmcs, MerkleTreeMmcs};
use p3_sumcheck::layout::SuffixProver;
use p3_symmetric::{CryptographicHasher, MerkleCap, PseudoCompressionFunction};
use p3_whir::{HidingWhirPcs, WhirProver};
use rand_p3::SeedableRng;
use rand_p3::rngs::StdRng;

use crate::field::{EF, F};
use crate::transcript::Challenger;
// ---------------------------------------------------------------------------------------------
// Concrete p3 types.
// ---------------------------------------------------------------------------------------------

pub(super) type Dft = Radix2DFTSmallBatch<F>;
/// Merkle tree of the non-hiding mode.
pub(super) type PlainMmcs = MerkleTreeMmcs<F, u8, LeafHasher, NodeHasher, 2, 32>;
/// Goldilocks salt elements per Merkle leaf in hiding mode (2 × 64 bits).
pub(super) const SALT_ELEMS: usize = 2;
/// Merkle tree of the hiding mode: every leaf is salted.
pub(super) type HidingMmcs =
    MerkleTreeHidingMmcs<F, u8, LeafHasher, NodeHasher, StdRng, 2, 32, SALT_ELEMS>;
/// Stacked-layout prover used by plain WHIR (one table, one column here).
pub(super) type PlainLayout = SuffixProver<F, EF>;
pub(super) type PlainWhir = WhirProver<EF, F, Dft, PlainMmcs, Challenger, PlainLayout>;
pub(super) type HidingWhir = HidingWhirPcs<EF, F, Dft, HidingMmcs, Challenger, StdRng>;
pub(super) type Root = MerkleCap<F, [u8; 32]>;

/// Version tag hashed into every commitment digest; bump it when parameters or encodings change.
pub(super) const DIGEST_TAG: &[u8] = b"zkgrad.pcs.whir-goldilocks2-blake3.v1";

/// Merkle leaf hash: keyed Blake3 over the canonical little-endian 8-byte encodings of the
/// row's field elements. The key separates leaves from inner nodes.
#[derive(Clone, Copy, Debug)]
pub(super) struct LeafHasher {
    key: [u8; 32],
}

/// Merkle inner node: keyed Blake3 of the two 32-byte children (another key than leaves).
#[derive(Clone, Copy, Debug)]
pub(super) struct NodeHasher {
    key: [u8; 32],
}

impl LeafHasher {
    fn new() -> Self {
        Self {
            key: blake3::derive_key("zkgrad pcs merkle leaf v1", b""),
        }
    }
}

impl NodeHasher {
    fn new() -> Self {
        Self {
            key: blake3::derive_key("zkgrad pcs merkle node v1", b""),
        }
    }
}

impl CryptographicHasher<F, [u8; 32]> for LeafHasher {
    fn hash_iter<I>(&self, input: I) -> [u8; 32]
    where
        I: IntoIterator<Item = F>,
    {
        const BUF: usize = 512;
        let mut h = blake3::Hasher::new_keyed(&self.key);
        let mut buf = [0u8; BUF];
        let mut len = 0;
        for x in input {
            buf[len..len + 8].copy_from_slice(&x.as_canonical_u64().to_le_bytes());
            len += 8;
            if len == BUF {
                h.update(&buf);
                len = 0;
            }
        }
        h.update(&buf[..len]);
        *h.finalize().as_bytes()
    }
}

impl PseudoCompressionFunction<[u8; 32], 2> for NodeHasher {
    fn compress(&self, input: [[u8; 32]; 2]) -> [u8; 32] {
        let mut buf = [0u8; 64];
        buf[..32].copy_from_slice(&input[0]);
        buf[32..].copy_from_slice(&input[1]);
        *blake3::keyed_hash(&self.key, &buf).as_bytes()
    }
}

pub(super) fn plain_mmcs() -> PlainMmcs {
    PlainMmcs::new(LeafHasher::new(), NodeHasher::new(), 0)
}

pub(super) fn hiding_mmcs(rng: StdRng) -> HidingMmcs {
    HidingMmcs::new(LeafHasher::new(), NodeHasher::new(), 0, rng)
}

pub(super) fn scratch_challenger() -> Challenger {
    crate::transcript::new_challenger()
}

/// Derives a child RNG from the secret seed, a purpose label and extra context bytes.
pub(super) fn derive_rng(seed: &[u8; 32], label: &str, context: &[u8]) -> StdRng {
    let mut h = blake3::Hasher::new_keyed(seed);
    h.update(&(label.len() as u64).to_le_bytes());
    h.update(label.as_bytes());
    h.update(&(context.len() as u64).to_le_bytes());
    h.update(context);
    StdRng::from_seed(*h.finalize().as_bytes())
}
