//! Versioned bytes of the formats that are one bincode body: magic (4 bytes), a little-endian
//! u16 format version, then the body (data-property proofs, accuracy attestations, epoch
//! certificates). Decoding checks magic, version and size in that order, then decodes the body
//! under the memory budget of [`super::budget::decode_bounded`] (8 bytes per byte); it never
//! panics. Inference proofs carry a fixed header before their body and decode on their own
//! (`proof.rs`).

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::ProofError;

/// One format: its magic, version, largest encoding and what it is called in errors.
pub(crate) struct Format {
    pub magic: &'static [u8; 4],
    pub version: u16,
    pub max_bytes: usize,
    /// The format's name in sentences ("data-property proof").
    pub what: &'static str,
}

/// Memory a decoded body may take per encoded byte.
const DECODE_PER_BYTE: usize = 8;

impl Format {
    /// Magic, version, then the bincode body.
    pub fn encode<T: Serialize>(&self, value: &T) -> Vec<u8> {
        let mut out = self.magic.to_vec();
        out.extend_from_slice(&self.version.to_le_bytes());
        out.extend(
            bincode::serde::encode_to_vec(value, bincode::config::standard())
                .expect("versioned formats encode"),
        );
        out
    }

    /// Decodes [`Self::encode`]'s bytes: bad magic, an oversized input and a malformed body are
    /// [`ProofError::Malformed`] sentences naming the format, another version is
    /// [`ProofError::BadVersion`].
    pub fn decode<T: DeserializeOwned>(&self, b: &[u8]) -> Result<T, ProofError> {
        let what = self.what;
        if b.len() < 6 || &b[..4] != self.magic {
            return Err(ProofError::Malformed(format!(
                "not a zkgrad {what} (bad magic bytes)"
            )));
        }
        let got = u16::from_le_bytes([b[4], b[5]]);
        if got != self.version {
            return Err(ProofError::BadVersion {
                expected: self.version,
                got,
            });
        }
        if b.len() > self.max_bytes {
            return Err(ProofError::Malformed(format!(
                "the {what} is {} bytes, more than any may take ({})",
                b.len(),
                self.max_bytes
            )));
        }
        super::budget::decode_bounded(&b[6..], DECODE_PER_BYTE, what).map_err(ProofError::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: Format = Format {
        magic: b"ZKGT",
        version: 3,
        max_bytes: 64,
        what: "test record",
    };

    #[test]
    fn a_record_round_trips_and_every_bad_header_is_named() {
        let value = (7u32, vec![1u64, 2, 3]);
        let bytes = F.encode(&value);
        assert_eq!(F.decode::<(u32, Vec<u64>)>(&bytes).unwrap(), value);
        let err = |b: &[u8]| F.decode::<(u32, Vec<u64>)>(b).unwrap_err().to_string();
        assert!(err(&bytes[..5]).contains("not a zkgrad test record"));
        let mut other = bytes.clone();
        other[4] = 2;
        assert!(matches!(
            F.decode::<(u32, Vec<u64>)>(&other),
            Err(ProofError::BadVersion {
                expected: 3,
                got: 2
            })
        ));
        assert!(err(&[&bytes[..], &[0u8; 64]].concat()).contains("more than any may take"));
        assert!(err(&[&bytes[..], &[0u8]].concat()).contains("follow the test record"));
    }
}
