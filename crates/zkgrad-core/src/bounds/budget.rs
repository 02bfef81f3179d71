//! Decoding under an allocation budget.
//!
//! bincode's byte limit bounds how many bytes are *read*, not how much memory the decoded value
//! takes: an element that costs one byte on the wire (a small varint, an empty `Vec`) can take
//! 8 or 24 bytes in memory, and serde reserves up to 1 MiB for a sequence from its declared
//! length before a single element is read. This wrapper around bincode's serde `Deserializer`
//! closes both gaps, for every variable-length sequence (and byte string and map):
//!
//! - the declared length is read ahead and refused if it exceeds the bytes left (every element
//!   of a proof's sequences takes at least one byte), before serde sees it;
//! - serde reserves from the declared length only when the budget can pay for it at the
//!   largest element size a proof's sequences have ([`MAX_ELEMENT`]); the sequence is then
//!   charged length × element size at its first element (when the element type is known).
//!   Otherwise serde reserves at most what the budget holds and grows the vector by doubling,
//!   and the sequence is charged three times that (a doubling vector's peak while it moves);
//! - a sequence that does not fit the budget ends the decoding with an error.
//!
//! The statement's integer vectors (output, input) are decoded by [`read_i64s`]: their elements
//! are 8 bytes and may take one byte each, so they are reserved exactly and charged 8 per entry.
//!
//! Fixed-size parts (structs, tuples, arrays such as a 32-byte digest) are not charged: their
//! size is the type's, not the proof's. The wrapper also records where each length field
//! starts, so tests and the fuzzer can set every declared size of a valid proof to its maximum.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::mem::size_of;
use std::rc::Rc;

use crate::error::{ProofError, Result as ProofResult};
use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor,
};

/// The largest element of any variable-length sequence in a proof, in bytes (a unit test
/// decodes proofs and checks every sequence's element against it).
pub(crate) const MAX_ELEMENT: usize = 512;

/// The memory a decoding may still take, the bytes and the reader's position, and (when
/// recording) the offsets of the length fields read so far.
pub(crate) struct Budget<'d> {
    left: Cell<usize>,
    data: &'d [u8],
    pos: Rc<Cell<usize>>,
    lengths: RefCell<Option<Vec<usize>>>,
    /// The largest sequence element met (tests compare it with [`MAX_ELEMENT`]).
    pub widest: Cell<usize>,
}

impl<'d> Budget<'d> {
    /// A budget of `bytes` for decoding `data`; `pos` is the reader's position in it
    /// ([`SliceReader`]).
    pub fn new(bytes: usize, data: &'d [u8], pos: Rc<Cell<usize>>, record: bool) -> Self {
        Self {
            left: Cell::new(bytes),
            data,
            pos,
            lengths: RefCell::new(record.then(Vec::new)),
            widest: Cell::new(0),
        }
    }

    /// The recorded length-field offsets (empty unless recording).
    pub fn lengths(self) -> Vec<usize> {
        self.lengths.into_inner().unwrap_or_default()
    }

    fn charge<E: de::Error>(&self, bytes: usize) -> Result<(), E> {
        match self.left.get().checked_sub(bytes) {
            Some(left) => {
                self.left.set(left);
                Ok(())
            }
            None => Err(E::custom(
                "the proof declares more data than its size allows",
            )),
        }
    }

    /// Whether a sequence of `n` elements is reserved in full (see the module documentation).
    fn exact(&self, n: usize) -> bool {
        n.saturating_mul(MAX_ELEMENT) <= self.left.get()
    }

    /// Reads the varint at the reader's position (bincode's: a byte below 251, or a tag
    /// 251/252/253 and a u16/u32/u64 little-endian), advancing past it.
    fn varint(&self) -> ProofResult<u64> {
        let at = self.pos.get();
        let rest = self.data.get(at..).unwrap_or_default();
        let (v, width) = match rest.first() {
            Some(&b) if b < 251 => (u64::from(b), 1),
            Some(251) if rest.len() >= 3 => (u64::from(u16::from_le_bytes([rest[1], rest[2]])), 3),
            Some(252) if rest.len() >= 5 => (
                u64::from(u32::from_le_bytes([rest[1], rest[2], rest[3], rest[4]])),
                5,
            ),
            Some(253) if rest.len() >= 9 => (
                u64::from_le_bytes(rest[1..9].try_into().expect("8 bytes")),
                9,
            ),
            None | Some(251..=253) => {
                return Err(ProofError::Malformed(
                    "the proof ends early (truncated bytes)".into(),
                ));
            }
            Some(b) => {
                return Err(ProofError::Malformed(format!(
                    "the proof holds an invalid integer tag {b}"
                )));
            }
        };
        self.pos.set(at + width);
        Ok(v)
    }

    /// Reads ahead the length field at the reader's position (bincode's varint: a byte below
    /// 251, or a tag 251/252/253 and a u16/u32/u64) and refuses one larger than the bytes that
    /// follow it. A malformed field is left to bincode to report.
    fn declared_length<E: de::Error>(&self) -> Result<Option<usize>, E> {
        let at = self.pos.get();
        if let Some(v) = self.lengths.borrow_mut().as_mut() {
            v.push(at);
        }
        let rest = &self.data[at.min(self.data.len())..];
        let (len, width): (u64, usize) = match rest.first() {
            Some(&b) if b < 251 => (u64::from(b), 1),
            Some(251) if rest.len() >= 3 => (u64::from(u16::from_le_bytes([rest[1], rest[2]])), 3),
            Some(252) if rest.len() >= 5 => (
                u64::from(u32::from_le_bytes([rest[1], rest[2], rest[3], rest[4]])),
                5,
            ),
            Some(253) if rest.len() >= 9 => (
                u64::from_le_bytes(rest[1..9].try_into().expect("8 bytes")),
                9,
            ),
            _ => return Ok(None),
        };
        let left = (rest.len() - width) as u64;
        if len > left {
            return Err(E::custom(format!(
                "the proof declares {len} entries where only {left} bytes follow"
            )));
        }
        Ok(Some(len as usize))
    }
}

/// Decodes a bincode body (after its magic and version) with memory bounded by
/// `bytes_per_byte` × its length, like a proof's: every sequence is charged its declared length
/// times its element size before it is allocated. Returns the value, or a sentence naming
/// `what`; trailing bytes are refused.
pub fn decode_bounded<T: serde::de::DeserializeOwned>(
    body: &[u8],
    bytes_per_byte: usize,
    what: &str,
) -> core::result::Result<T, String> {
    const LIMIT: usize = 1 << 30;
    let pos = Rc::new(Cell::new(0));
    let budget = Budget::new(bytes_per_byte * body.len() + 4096, body, pos.clone(), false);
    let cfg = bincode::config::standard().with_limit::<LIMIT>();
    let mut decoder = bincode::serde::OwnedSerdeDecoder::from_reader(
        SliceReader {
            data: body,
            pos: pos.clone(),
        },
        cfg,
    );
    let value = T::deserialize(De {
        inner: decoder.as_deserializer(),
        budget: &budget,
    })
    .map_err(|e| crate::proof::decode_error_sentence(&e, what))?;
    if pos.get() != body.len() {
        return Err(format!(
            "{} bytes follow the {what}",
            body.len() - pos.get()
        ));
    }
    Ok(value)
}

/// Reads a statement vector of i64 (bincode: a varint length, then zigzag varints), reserved
/// exactly after its length is checked against the bytes left and charged to the budget.
pub(crate) fn read_i64s(budget: &Budget) -> ProofResult<Vec<i64>> {
    let n = budget
        .declared_length::<bincode::error::DecodeError>()
        .map_err(crate::proof::decode_error)?;
    // A malformed length field (n = None) is reported by the read that follows.
    let len = budget.varint()?;
    let n = n.unwrap_or(len as usize);
    budget
        .charge::<bincode::error::DecodeError>(n * size_of::<i64>())
        .map_err(crate::proof::decode_error)?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let z = budget.varint()?;
        out.push(((z >> 1) as i64) ^ -((z & 1) as i64));
    }
    Ok(out)
}

/// Reads bincode's Option tag (0 or 1).
pub(crate) fn read_option_tag(budget: &Budget) -> ProofResult<bool> {
    let at = budget.pos.get();
    let tag = *budget
        .data
        .get(at)
        .ok_or_else(|| ProofError::Malformed("the proof ends early (truncated bytes)".into()))?;
    budget.pos.set(at + 1);
    match tag {
        0 => Ok(false),
        1 => Ok(true),
        t => Err(ProofError::Malformed(format!(
            "the proof holds an invalid option tag {t}"
        ))),
    }
}

/// A bincode reader over a slice that publishes its position.
pub(crate) struct SliceReader<'s> {
    pub data: &'s [u8],
    pub pos: Rc<Cell<usize>>,
}

impl bincode::de::read::Reader for SliceReader<'_> {
    fn read(&mut self, out: &mut [u8]) -> Result<(), bincode::error::DecodeError> {
        let start = self.pos.get();
        let rest = self.data.len() - start;
        if out.len() > rest {
            return Err(bincode::error::DecodeError::UnexpectedEnd {
                additional: out.len() - rest,
            });
        }
        out.copy_from_slice(&self.data[start..start + out.len()]);
        self.pos.set(start + out.len());
        Ok(())
    }
}

/// The budgeted deserializer.
pub(crate) struct De<'b, 'd, D> {
    pub inner: D,
    pub budget: &'b Budget<'d>,
}

struct Wrap<'b, 'd, V> {
    inner: V,
    budget: &'b Budget<'d>,
    /// The proof-declared length of the sequence or map this visitor may receive.
    declared: Option<usize>,
}

struct Seq<'b, 'd, A> {
    inner: A,
    budget: &'b Budget<'d>,
    declared: Option<usize>,
    /// Whether the declared length is reserved in full (decided before serde asks).
    exact: bool,
    /// Whether the sequence has been paid for (at its first element).
    paid: bool,
}

struct Map<'b, 'd, A> {
    inner: A,
    budget: &'b Budget<'d>,
}

struct Enum<'b, 'd, A> {
    inner: A,
    budget: &'b Budget<'d>,
}

struct Seed<'b, 'd, S> {
    inner: S,
    budget: &'b Budget<'d>,
}

fn wrap<'b, 'd, V>(inner: V, budget: &'b Budget<'d>, declared: Option<usize>) -> Wrap<'b, 'd, V> {
    Wrap {
        inner,
        budget,
        declared,
    }
}

macro_rules! forward_plain {
    ($($method:ident),* $(,)?) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
            self.inner.$method(wrap(visitor, self.budget, None))
        })*
    };
}

macro_rules! forward_length_prefixed {
    ($($method:ident),* $(,)?) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
            let declared = self.budget.declared_length()?;
            self.inner.$method(wrap(visitor, self.budget, declared))
        })*
    };
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for De<'_, '_, D> {
    type Error = D::Error;

    forward_plain!(
        deserialize_any,
        deserialize_bool,
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_i128,
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64,
        deserialize_u128,
        deserialize_f32,
        deserialize_f64,
        deserialize_char,
        deserialize_option,
        deserialize_unit,
        deserialize_identifier,
        deserialize_ignored_any,
    );
    forward_length_prefixed!(
        deserialize_str,
        deserialize_string,
        deserialize_bytes,
        deserialize_byte_buf,
        deserialize_seq,
        deserialize_map
    );

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.inner
            .deserialize_unit_struct(name, wrap(visitor, self.budget, None))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.inner
            .deserialize_newtype_struct(name, wrap(visitor, self.budget, None))
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.inner
            .deserialize_tuple(len, wrap(visitor, self.budget, None))
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.inner
            .deserialize_tuple_struct(name, len, wrap(visitor, self.budget, None))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.inner
            .deserialize_struct(name, fields, wrap(visitor, self.budget, None))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.inner
            .deserialize_enum(name, variants, wrap(visitor, self.budget, None))
    }

    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

macro_rules! visit_plain {
    ($($method:ident: $t:ty),* $(,)?) => {
        $(fn $method<E: de::Error>(self, v: $t) -> Result<Self::Value, E> {
            self.inner.$method(v)
        })*
    };
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Wrap<'_, '_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        self.inner.expecting(f)
    }

    visit_plain!(
        visit_bool: bool, visit_i8: i8, visit_i16: i16, visit_i32: i32, visit_i64: i64, visit_i128: i128,
        visit_u8: u8, visit_u16: u16, visit_u32: u32, visit_u64: u64, visit_u128: u128, visit_f32: f32,
        visit_f64: f64, visit_char: char, visit_str: &str, visit_borrowed_str: &'de str, visit_bytes: &[u8],
        visit_borrowed_bytes: &'de [u8],
    );

    // The decoder has already allocated these (bounded by the bytes it read); count them.
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        self.budget.charge(v.len())?;
        self.inner.visit_string(v)
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Self::Value, E> {
        self.budget.charge(v.len())?;
        self.inner.visit_byte_buf(v)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.inner.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.inner.visit_unit()
    }

    fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
        self.inner.visit_some(De {
            inner: d,
            budget: self.budget,
        })
    }

    fn visit_newtype_struct<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
        self.inner.visit_newtype_struct(De {
            inner: d,
            budget: self.budget,
        })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        self.inner.visit_seq(Seq {
            inner: seq,
            budget: self.budget,
            declared: self.declared,
            exact: self.declared.is_some_and(|n| self.budget.exact(n)),
            paid: false,
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.inner.visit_map(Map {
            inner: map,
            budget: self.budget,
        })
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
        self.inner.visit_enum(Enum {
            inner: data,
            budget: self.budget,
        })
    }
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for Seq<'_, '_, A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        if let (Some(n), false) = (self.declared, self.paid) {
            let size = size_of::<T::Value>();
            self.budget.widest.set(self.budget.widest.get().max(size));
            // Reserved in full: n × size. Grown by doubling: up to 3 × n × size while it moves.
            let factor = if self.exact { 1 } else { 3 };
            self.budget
                .charge(n.saturating_mul(size).saturating_mul(factor))?;
            self.paid = true;
        }
        self.inner.next_element_seed(Seed {
            inner: seed,
            budget: self.budget,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        // serde reserves hint × element size: at most the budget's worth of MAX_ELEMENT-byte
        // elements, so never more than the budget holds.
        match self.declared {
            Some(n) if self.exact => Some(n),
            Some(_) => Some(self.budget.left.get() / MAX_ELEMENT),
            None => self.inner.size_hint(),
        }
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Map<'_, '_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.budget.charge(2 * size_of::<K::Value>())?;
        self.inner.next_key_seed(Seed {
            inner: seed,
            budget: self.budget,
        })
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.budget.charge(2 * size_of::<V::Value>())?;
        self.inner.next_value_seed(Seed {
            inner: seed,
            budget: self.budget,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        None
    }
}

impl<'b, 'd, 'de, A: EnumAccess<'de>> EnumAccess<'de> for Enum<'b, 'd, A> {
    type Error = A::Error;
    type Variant = Enum<'b, 'd, A::Variant>;

    fn variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, Self::Variant), A::Error> {
        let budget = self.budget;
        let (value, variant) = self.inner.variant_seed(Seed {
            inner: seed,
            budget,
        })?;
        Ok((
            value,
            Enum {
                inner: variant,
                budget,
            },
        ))
    }
}

impl<'de, A: VariantAccess<'de>> VariantAccess<'de> for Enum<'_, '_, A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        self.inner.unit_variant()
    }

    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value, A::Error> {
        self.inner.newtype_variant_seed(Seed {
            inner: seed,
            budget: self.budget,
        })
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        self.inner
            .tuple_variant(len, wrap(visitor, self.budget, None))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        self.inner
            .struct_variant(fields, wrap(visitor, self.budget, None))
    }
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Seed<'_, '_, S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        self.inner.deserialize(De {
            inner: d,
            budget: self.budget,
        })
    }
}
