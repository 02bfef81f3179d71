//! Decoding under an allocation budget.
//!
//! bincode's byte limit bounds how many bytes are *read*, not how much memory the decoded value
//! takes: an element that costs one byte on the wire (an empty `Vec`, a small varint) can take
//! 24 bytes or more in memory, and serde reserves up to 1 MiB for every sequence from its
//! declared length before a single element is read. This wrapper around any serde
//! `Deserializer` closes both gaps: every element of a variable-length sequence (or map) is
//! charged twice its in-memory size (a growing `Vec` holds at most twice its length) *before*
//! it is decoded, and serde is never told a declared length, so nothing is reserved from one.
//! Decoding stops with an error as soon as the budget is spent. Fixed-size parts (structs,
//! tuples, arrays such as a 32-byte digest) are not charged: their size is the type's, not the
//! proof's. It also records where each length field starts, so tests and the fuzzer can set
//! every declared size of a valid proof to its maximum.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::mem::size_of;
use std::rc::Rc;

use serde::de::{self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor};

/// The memory a decoding may still take, the reader's position, and (when recording) the
/// offsets of the length fields read so far.
pub(crate) struct Budget {
    left: Cell<usize>,
    pos: Rc<Cell<usize>>,
    lengths: RefCell<Option<Vec<usize>>>,
}

impl Budget {
    /// A budget of `bytes`; `pos` is the reader's byte position (see [`SliceReader`]).
    pub fn new(bytes: usize, pos: Rc<Cell<usize>>, record: bool) -> Self {
        Self { left: Cell::new(bytes), pos, lengths: RefCell::new(record.then(Vec::new)) }
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
            None => Err(E::custom("the proof declares more data than its size allows")),
        }
    }

    fn record_length(&self) {
        if let Some(v) = self.lengths.borrow_mut().as_mut() {
            v.push(self.pos.get());
        }
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
            return Err(bincode::error::DecodeError::UnexpectedEnd { additional: out.len() - rest });
        }
        out.copy_from_slice(&self.data[start..start + out.len()]);
        self.pos.set(start + out.len());
        Ok(())
    }
}

/// The budgeted deserializer.
pub(crate) struct De<'b, D> {
    pub inner: D,
    pub budget: &'b Budget,
}

struct Wrap<'b, V> {
    inner: V,
    budget: &'b Budget,
    /// Whether the sequence or map this visitor may receive has a proof-declared length.
    declared: bool,
}

struct Seq<'b, A> {
    inner: A,
    budget: &'b Budget,
    declared: bool,
}

struct Map<'b, A> {
    inner: A,
    budget: &'b Budget,
}

struct Enum<'b, A> {
    inner: A,
    budget: &'b Budget,
}

struct Seed<'b, S> {
    inner: S,
    budget: &'b Budget,
}

fn wrap<V>(inner: V, budget: &Budget, declared: bool) -> Wrap<'_, V> {
    Wrap { inner, budget, declared }
}

macro_rules! forward_plain {
    ($($method:ident),* $(,)?) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
            self.inner.$method(wrap(visitor, self.budget, false))
        })*
    };
}

macro_rules! forward_length_prefixed {
    ($($method:ident),* $(,)?) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
            self.budget.record_length();
            self.inner.$method(wrap(visitor, self.budget, true))
        })*
    };
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for De<'_, D> {
    type Error = D::Error;

    forward_plain!(
        deserialize_any, deserialize_bool, deserialize_i8, deserialize_i16, deserialize_i32, deserialize_i64,
        deserialize_i128, deserialize_u8, deserialize_u16, deserialize_u32, deserialize_u64, deserialize_u128,
        deserialize_f32, deserialize_f64, deserialize_char, deserialize_option, deserialize_unit,
        deserialize_identifier, deserialize_ignored_any,
    );
    forward_length_prefixed!(deserialize_str, deserialize_string, deserialize_bytes, deserialize_byte_buf, deserialize_seq, deserialize_map);

    fn deserialize_unit_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_unit_struct(name, wrap(visitor, self.budget, false))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_newtype_struct(name, wrap(visitor, self.budget, false))
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_tuple(len, wrap(visitor, self.budget, false))
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(self, name: &'static str, len: usize, visitor: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_tuple_struct(name, len, wrap(visitor, self.budget, false))
    }

    fn deserialize_struct<V: Visitor<'de>>(self, name: &'static str, fields: &'static [&'static str], visitor: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_struct(name, fields, wrap(visitor, self.budget, false))
    }

    fn deserialize_enum<V: Visitor<'de>>(self, name: &'static str, variants: &'static [&'static str], visitor: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_enum(name, variants, wrap(visitor, self.budget, false))
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

impl<'de, V: Visitor<'de>> Visitor<'de> for Wrap<'_, V> {
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
        self.inner.visit_some(De { inner: d, budget: self.budget })
    }

    fn visit_newtype_struct<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
        self.inner.visit_newtype_struct(De { inner: d, budget: self.budget })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        self.inner.visit_seq(Seq { inner: seq, budget: self.budget, declared: self.declared })
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.inner.visit_map(Map { inner: map, budget: self.budget })
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
        self.inner.visit_enum(Enum { inner: data, budget: self.budget })
    }
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for Seq<'_, A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, A::Error> {
        if self.declared {
            self.budget.charge(2 * size_of::<T::Value>())?;
        }
        self.inner.next_element_seed(Seed { inner: seed, budget: self.budget })
    }

    fn size_hint(&self) -> Option<usize> {
        // A declared length is the proof's word: never let serde reserve memory from it.
        if self.declared { None } else { self.inner.size_hint() }
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Map<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        self.budget.charge(2 * size_of::<K::Value>())?;
        self.inner.next_key_seed(Seed { inner: seed, budget: self.budget })
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.budget.charge(2 * size_of::<V::Value>())?;
        self.inner.next_value_seed(Seed { inner: seed, budget: self.budget })
    }

    fn size_hint(&self) -> Option<usize> {
        None
    }
}

impl<'b, 'de, A: EnumAccess<'de>> EnumAccess<'de> for Enum<'b, A> {
    type Error = A::Error;
    type Variant = Enum<'b, A::Variant>;

    fn variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<(S::Value, Self::Variant), A::Error> {
        let budget = self.budget;
        let (value, variant) = self.inner.variant_seed(Seed { inner: seed, budget })?;
        Ok((value, Enum { inner: variant, budget }))
    }
}

impl<'de, A: VariantAccess<'de>> VariantAccess<'de> for Enum<'_, A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        self.inner.unit_variant()
    }

    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value, A::Error> {
        self.inner.newtype_variant_seed(Seed { inner: seed, budget: self.budget })
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        self.inner.tuple_variant(len, wrap(visitor, self.budget, false))
    }

    fn struct_variant<V: Visitor<'de>>(self, fields: &'static [&'static str], visitor: V) -> Result<V::Value, A::Error> {
        self.inner.struct_variant(fields, wrap(visitor, self.budget, false))
    }
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Seed<'_, S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        self.inner.deserialize(De { inner: d, budget: self.budget })
    }
}
