//! The byte-level Blake3 hash chain under the transcript.
//!
//! It computes exactly what `p3_challenger::HashChallenger<u8, Blake3, 32>` computes (a test
//! below checks this): observed bytes are appended to an input buffer that starts with the last
//! output; sampling hashes the buffer, and the 32 output bytes are handed out last byte first.
//! The difference is cost. `HashChallenger` keeps the buffer in a `Vec` and hashes it anew from
//! a byte iterator on every flush, and p3's proof-of-work search clones the whole challenger
//! for every candidate, so a 12-bit grind (~4096 candidates) cost tens of milliseconds — most of
//! a small hiding WHIR opening. Here the buffer is absorbed incrementally into a
//! `blake3::Hasher` (a fixed-size state), so a candidate costs a memcpy and a compression.

use p3_challenger::{CanObserve, CanSample};

const BLOCK: usize = 64;

/// Blake3 hash chain with `HashChallenger<u8, Blake3, 32>` semantics and an incremental state.
#[derive(Clone, Debug)]
pub struct Blake3Chain {
    /// Every input byte since the last flush except the last `pending_len` ones.
    hasher: blake3::Hasher,
    /// Bytes not yet handed to `hasher` (fed a block at a time: `update` has a per-call cost).
    pending: [u8; BLOCK],
    pending_len: usize,
    /// The last output; `output_len` of its bytes (from the front) are still unsampled.
    output: [u8; 32],
    output_len: usize,
}

impl Blake3Chain {
    /// An empty chain (no initial state), like `HashChallenger::new(vec![], Blake3)`.
    pub fn new() -> Self {
        Self {
            hasher: blake3::Hasher::new(),
            pending: [0; BLOCK],
            pending_len: 0,
            output: [0; 32],
            output_len: 0,
        }
    }

    fn flush(&mut self) {
        self.hasher.update(&self.pending[..self.pending_len]);
        self.output = *self.hasher.finalize().as_bytes();
        self.output_len = 32;
        // The output is the start of the next input (chaining).
        self.hasher = blake3::Hasher::new();
        self.pending[..32].copy_from_slice(&self.output);
        self.pending_len = 32;
    }
}

impl Default for Blake3Chain {
    fn default() -> Self {
        Self::new()
    }
}

impl CanObserve<u8> for Blake3Chain {
    fn observe(&mut self, value: u8) {
        self.output_len = 0;
        if self.pending_len == BLOCK {
            self.hasher.update(&self.pending);
            self.pending_len = 0;
        }
        self.pending[self.pending_len] = value;
        self.pending_len += 1;
    }
}

impl CanSample<u8> for Blake3Chain {
    fn sample(&mut self) -> u8 {
        if self.output_len == 0 {
            self.flush();
        }
        self.output_len -= 1;
        self.output[self.output_len]
    }
}

#[cfg(test)]
mod tests {
    use p3_blake3::Blake3;
    use p3_challenger::HashChallenger;

    use super::*;

    /// Same bytes out as p3's `HashChallenger` for any interleaving of observations and samples,
    /// including runs longer than a block and repeated sampling past one output.
    #[test]
    fn matches_p3_hash_challenger() {
        let mut ours = Blake3Chain::new();
        let mut theirs = HashChallenger::<u8, Blake3, 32>::new(Vec::new(), Blake3 {});
        let mut state = 0x1234_5678_9abc_def0u64;
        for step in 0..4000 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let run = (state >> 40) as usize % 150;
            if step % 3 == 0 {
                for _ in 0..run % 70 {
                    assert_eq!(ours.sample(), theirs.sample());
                }
            } else {
                for k in 0..run {
                    let b = (state >> (k % 56)) as u8;
                    ours.observe(b);
                    theirs.observe(b);
                }
            }
        }
        assert_eq!(ours.sample(), theirs.sample());
    }
}
