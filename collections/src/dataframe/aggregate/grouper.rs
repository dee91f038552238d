//! Group interning: the hash table at the heart of a hash aggregation. A
//! [`Grouper`] maps each row of some key columns to a dense group index
//! (0, 1, 2, ... in order of first appearance) and can give the distinct
//! keys back as columns, one row per group.
//!
//! Keys are stored by kind, each with its own tight loop over a batch:
//! no key at all (every row is group 0), one integer-like column (the
//! values themselves), one string column (the bytes, in one arena), and
//! anything else through arrow-row, whose byte encoding of several columns
//! of any supported types compares equal exactly when the keys do. The
//! table is open addressing with linear probing over `u64` slots holding
//! the high half of the hash and the group index, so a probe usually
//! touches one cache line and compares keys only on a tag match; it stores
//! no key itself, so one table serves every kind of key.
//!
//! Float keys (and float values of `nunique`) are normalised first: `-0.0`
//! becomes `0.0` and every NaN the canonical NaN, so equal-comparing
//! numbers share a group and NaN is one group, as in Polars.

use std::hash::BuildHasher;
use std::sync::{Arc, OnceLock};

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Date64Type, Float16Type, Float32Type, Float64Type, Int32Type, Int64Type,
    UInt32Type, UInt64Type,
};
use arrow_array::{
    Array, ArrayRef, ArrowPrimitiveType, GenericStringArray, LargeStringArray, OffsetSizeTrait,
    PrimitiveArray, StringArray, StringViewArray,
};
use arrow_row::{RowConverter, SortField};
use arrow_schema::{ArrowError, DataType};

/// A per-process random seed, so that keys cannot be chosen to collide
/// (hash flooding). Within a process every table and every `split_out`
/// routing uses the same seed, which is what makes routing consistent
/// between the tasks of one computation.
fn seed() -> u64 {
    static SEED: OnceLock<u64> = OnceLock::new();
    *SEED.get_or_init(|| {
        std::collections::hash_map::RandomState::new().hash_one(0x0064_6167_776f_6f64_u64)
    })
}

const M0: u64 = 0x9E37_79B9_7F4A_7C15;
const M1: u64 = 0xD6E8_FEB8_6659_FD93;
const M2: u64 = 0xA076_1D64_78BD_642F;

/// The folded 128-bit product: the mixing step of wyhash and foldhash.
#[inline(always)]
fn fold_mul(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

/// Bytes `i..i + 8` of `b` as a little-endian word (a fixed-size copy:
/// one load, no call).
#[inline(always)]
fn word(b: &[u8], i: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[i..i + 8]);
    u64::from_le_bytes(w)
}

#[inline(always)]
fn half_word(b: &[u8], i: usize) -> u64 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[i..i + 4]);
    u64::from(u32::from_le_bytes(w))
}

/// Hash functions keyed by the process's [`seed`]: fetch once per batch.
#[derive(Clone, Copy)]
pub(crate) struct Hasher {
    seed: u64,
}

impl Hasher {
    pub(crate) fn new() -> Hasher {
        Hasher { seed: seed() }
    }

    /// The hash of a 64-bit key.
    #[inline(always)]
    pub(crate) fn u64(self, x: u64) -> u64 {
        fold_mul(x ^ self.seed, M0)
    }

    /// The hash of a byte string, wyhash-style: short strings (the common
    /// key) are two overlapping loads and two multiplies.
    #[inline(always)]
    pub(crate) fn bytes(self, b: &[u8]) -> u64 {
        let len = b.len();
        let (mut a, mut c) = (0u64, 0u64);
        let mut h = self.seed ^ M2;
        if len <= 16 {
            if len >= 8 {
                (a, c) = (word(b, 0), word(b, len - 8));
            } else if len >= 4 {
                (a, c) = (half_word(b, 0), half_word(b, len - 4));
            } else if len > 0 {
                a = (u64::from(b[0]) << 16) | (u64::from(b[len / 2]) << 8) | u64::from(b[len - 1]);
            }
        } else {
            let mut i = 0;
            while len - i > 16 {
                h = fold_mul(word(b, i) ^ self.seed ^ M1, word(b, i + 8) ^ h);
                i += 16;
            }
            (a, c) = (word(b, len - 16), word(b, len - 8));
        }
        fold_mul(fold_mul(a ^ M1 ^ h, c ^ self.seed ^ len as u64), M0)
    }
}

/// Asks the CPU to start loading `x` into the cache: hash tables too large
/// for the cache probe rows a few ahead so that their misses overlap.
#[inline(always)]
fn prefetch<T>(x: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is only a hint; it reads nothing architecturally
    // and cannot fault (and `x` is a valid reference anyway).
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>((x as *const T).cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = x;
}

/// Open addressing from hashes to group indices. A slot is 0 when empty,
/// else the high 32 bits of the group's hash (a tag that rejects most
/// mismatches without touching the key) over `group + 1`.
struct Table {
    slots: Vec<u64>,
    /// The hash of every group, to grow without rehashing keys.
    hashes: Vec<u64>,
}

const TAG: u64 = 0xFFFF_FFFF_0000_0000;

/// How many rows ahead `intern_all` prefetches slots: enough to cover a
/// cache miss, few enough to stay in the cache.
const AHEAD: usize = 16;

impl Table {
    fn new() -> Table {
        Table {
            slots: vec![0; 64],
            hashes: Vec::new(),
        }
    }

    /// The group of every row, given the rows' hashes, appended to `out`:
    /// `eq(store, row, group)` says whether a row has a group's key, and
    /// `push(store, row)` stores the key of a row that starts a new group.
    #[inline(always)]
    fn intern_all<S>(
        &mut self,
        hashes: &[u64],
        out: &mut Vec<u32>,
        store: &mut S,
        eq: impl Fn(&S, usize, usize) -> bool,
        mut push: impl FnMut(&mut S, usize),
    ) -> Result<(), ArrowError> {
        out.reserve(hashes.len());
        for (row, &hash) in hashes.iter().enumerate() {
            // Prefetching pays only when the table outgrows the caches.
            // (Prefetching the group's key too, a stage later, measured no
            // better: the slot's miss dominates.)
            if self.slots.len() >= 1 << 16 {
                if let Some(&ahead) = hashes.get(row + AHEAD) {
                    prefetch(&self.slots[ahead as usize & (self.slots.len() - 1)]);
                }
            }
            let (g, new) = self.find_or_insert(hash, |g| eq(store, row, g))?;
            if new {
                push(store, row);
            }
            out.push(g);
        }
        Ok(())
    }

    /// The group whose key `eq` accepts among those with this hash, or a
    /// new group (the caller then stores its key). Returns the group and
    /// whether it is new.
    #[inline(always)]
    fn find_or_insert(
        &mut self,
        hash: u64,
        mut eq: impl FnMut(usize) -> bool,
    ) -> Result<(u32, bool), ArrowError> {
        let mask = self.slots.len() - 1;
        let tag = hash & TAG;
        let mut pos = hash as usize & mask;
        loop {
            let slot = self.slots[pos];
            if slot == 0 {
                return self.insert(pos, hash).map(|g| (g, true));
            }
            if slot & TAG == tag {
                let g = (slot as u32).wrapping_sub(1);
                if eq(g as usize) {
                    return Ok((g, false));
                }
            }
            pos = (pos + 1) & mask;
        }
    }

    #[cold]
    fn too_many() -> ArrowError {
        ArrowError::ComputeError("more than 4294967294 groups in one partition".into())
    }

    fn insert(&mut self, pos: usize, hash: u64) -> Result<u32, ArrowError> {
        let g = self.hashes.len();
        // Slot values keep `g + 1` in 32 bits, and group indices are u32.
        if g >= u32::MAX as usize - 1 {
            return Err(Self::too_many());
        }
        self.slots[pos] = (hash & TAG) | (g as u64 + 1);
        self.hashes.push(hash);
        // At most half full: probes stay short.
        if self.hashes.len() * 2 > self.slots.len() {
            self.grow();
        }
        Ok(g as u32)
    }

    #[cold]
    fn grow(&mut self) {
        let mut slots = vec![0u64; self.slots.len() * 2];
        let mask = slots.len() - 1;
        for (g, &hash) in self.hashes.iter().enumerate() {
            let mut pos = hash as usize & mask;
            while slots[pos] != 0 {
                pos = (pos + 1) & mask;
            }
            slots[pos] = (hash & TAG) | (g as u64 + 1);
        }
        self.slots = slots;
    }
}

/// How the distinct keys are stored; each kind interns a whole batch in
/// one monomorphic loop: hash every row, then probe.
trait KeyStore: Send {
    /// Appends the group of every row of `columns` to `out`, using
    /// `hashes` as scratch. The columns have no nulls (the caller drops
    /// rows with null keys).
    fn intern(
        &mut self,
        table: &mut Table,
        columns: &[ArrayRef],
        hashes: &mut Vec<u64>,
        out: &mut Vec<u32>,
    ) -> Result<(), ArrowError>;
    /// The distinct keys, one row per group in group order.
    fn emit(&self) -> Result<Vec<ArrayRef>, ArrowError>;
}

/// Integer-like key types whose values are their own identity.
trait IntKey: Copy + PartialEq + Send + 'static {
    fn bits(self) -> u64;
}

macro_rules! int_key {
    ($($t:ty),*) => {$(
        impl IntKey for $t {
            #[inline(always)]
            fn bits(self) -> u64 {
                self as u64
            }
        }
    )*};
}
int_key!(i32, i64, u32, u64);

/// One integer-like key column (ints, dates).
struct PrimitiveKeys<T: ArrowPrimitiveType> {
    values: Vec<T::Native>,
    data_type: DataType,
}

impl<T> KeyStore for PrimitiveKeys<T>
where
    T: ArrowPrimitiveType,
    T::Native: IntKey,
{
    fn intern(
        &mut self,
        table: &mut Table,
        columns: &[ArrayRef],
        hashes: &mut Vec<u64>,
        out: &mut Vec<u32>,
    ) -> Result<(), ArrowError> {
        let array = columns[0]
            .as_primitive_opt::<T>()
            .ok_or_else(|| mismatch(&columns[0], &self.data_type))?;
        let keys = array.values();
        let hasher = Hasher::new();
        hashes.clear();
        hashes.extend(keys.iter().map(|v| hasher.u64(v.bits())));
        table.intern_all(
            hashes,
            out,
            &mut self.values,
            |values, row, g| values[g] == keys[row],
            |values, row| values.push(keys[row]),
        )
    }

    fn emit(&self) -> Result<Vec<ArrayRef>, ArrowError> {
        let array = PrimitiveArray::<T>::from_iter_values(self.values.iter().copied())
            .with_data_type(self.data_type.clone());
        Ok(vec![Arc::new(array)])
    }
}

/// Distinct byte strings, end to end in one buffer (no allocation per
/// key).
#[derive(Default)]
struct Arena {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Arena {
    #[inline(always)]
    fn get(&self, g: usize) -> &[u8] {
        let start = if g == 0 { 0 } else { self.ends[g - 1] };
        &self.bytes[start..self.ends[g]]
    }

    #[inline(always)]
    fn push(&mut self, key: &[u8]) {
        self.bytes.extend_from_slice(key);
        self.ends.push(self.bytes.len());
    }

    fn iter(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.ends.len()).map(|g| self.get(g))
    }

    /// Interns every key `key(row)` of `hashes.len()` rows.
    #[inline(always)]
    fn intern_all<'k>(
        &mut self,
        table: &mut Table,
        rows: usize,
        key: impl Fn(usize) -> &'k [u8],
        hashes: &mut Vec<u64>,
        out: &mut Vec<u32>,
    ) -> Result<(), ArrowError> {
        let hasher = Hasher::new();
        hashes.clear();
        hashes.extend((0..rows).map(|row| hasher.bytes(key(row))));
        table.intern_all(
            hashes,
            out,
            self,
            |arena, row, g| same_bytes(arena.get(g), key(row)),
            |arena, row| arena.push(key(row)),
        )
    }
}

/// `a == b`, inline for the short keys that are the common case (two
/// overlapping word compares instead of a call to `memcmp`).
#[inline(always)]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let len = a.len();
    if len != b.len() {
        return false;
    }
    if (8..=16).contains(&len) {
        word(a, 0) == word(b, 0) && word(a, len - 8) == word(b, len - 8)
    } else {
        a == b
    }
}

/// One string column (`Utf8`, `LargeUtf8` or `Utf8View`).
struct StringKeys {
    arena: Arena,
    data_type: DataType,
}

impl StringKeys {
    fn intern_offsets<O: OffsetSizeTrait>(
        &mut self,
        table: &mut Table,
        array: &GenericStringArray<O>,
        hashes: &mut Vec<u64>,
        out: &mut Vec<u32>,
    ) -> Result<(), ArrowError> {
        // Straight from the offsets: no UTF-8 re-checks per row.
        let data = array.value_data();
        let offsets = array.value_offsets();
        let key = |row: usize| &data[offsets[row].as_usize()..offsets[row + 1].as_usize()];
        self.arena.intern_all(table, array.len(), key, hashes, out)
    }
}

impl KeyStore for StringKeys {
    fn intern(
        &mut self,
        table: &mut Table,
        columns: &[ArrayRef],
        hashes: &mut Vec<u64>,
        out: &mut Vec<u32>,
    ) -> Result<(), ArrowError> {
        let column = &columns[0];
        match column.data_type() {
            DataType::Utf8 => self.intern_offsets(table, column.as_string::<i32>(), hashes, out),
            DataType::LargeUtf8 => {
                self.intern_offsets(table, column.as_string::<i64>(), hashes, out)
            }
            DataType::Utf8View => {
                let array = column.as_string_view();
                let key = |row: usize| array.value(row).as_bytes();
                self.arena.intern_all(table, array.len(), key, hashes, out)
            }
            _ => Err(mismatch(column, &self.data_type)),
        }
    }

    fn emit(&self) -> Result<Vec<ArrayRef>, ArrowError> {
        // The arena holds whole values of valid UTF-8 columns.
        let strs = self
            .arena
            .iter()
            .map(std::str::from_utf8)
            .collect::<Result<Vec<&str>, _>>()
            .map_err(|e| ArrowError::ComputeError(format!("group key is not UTF-8: {e}")))?;
        let array: ArrayRef = match self.data_type {
            DataType::LargeUtf8 => Arc::new(LargeStringArray::from_iter_values(strs)),
            DataType::Utf8View => Arc::new(StringViewArray::from_iter_values(strs)),
            _ => Arc::new(StringArray::from_iter_values(strs)),
        };
        Ok(vec![array])
    }
}

/// Any key columns, through arrow-row's byte encoding.
struct RowKeys {
    converter: RowConverter,
    arena: Arena,
}

impl KeyStore for RowKeys {
    fn intern(
        &mut self,
        table: &mut Table,
        columns: &[ArrayRef],
        hashes: &mut Vec<u64>,
        out: &mut Vec<u32>,
    ) -> Result<(), ArrowError> {
        let columns = columns
            .iter()
            .map(normalize_floats)
            .collect::<Result<Vec<_>, _>>()?;
        let rows = self.converter.convert_columns(&columns)?;
        let key = |row: usize| rows.row(row).data();
        self.arena
            .intern_all(table, rows.num_rows(), key, hashes, out)
    }

    fn emit(&self) -> Result<Vec<ArrayRef>, ArrowError> {
        let parser = self.converter.parser();
        self.converter
            .convert_rows(self.arena.iter().map(|bytes| parser.parse(bytes)))
    }
}

fn mismatch(column: &ArrayRef, expected: &DataType) -> ArrowError {
    ArrowError::InvalidArgumentError(format!(
        "group key column of type {} where {expected} was expected",
        column.data_type()
    ))
}

/// Maps rows of key columns to dense group indices; see the module docs.
pub(crate) struct Grouper {
    /// `None` for zero key columns: one group, 0, that always exists (so a
    /// whole-frame aggregation of no rows still has its one row).
    store: Option<Box<dyn KeyStore>>,
    table: Table,
    /// Scratch: the hash of each row of the batch at hand.
    hashes: Vec<u64>,
}

impl Grouper {
    /// A grouper for key columns of these types; an error for types that
    /// arrow-row cannot encode.
    pub(crate) fn new(key_types: &[DataType]) -> Result<Grouper, ArrowError> {
        let store: Option<Box<dyn KeyStore>> = match key_types {
            [] => None,
            [t] => Some(match t {
                DataType::Int32 => primitive::<Int32Type>(t),
                DataType::Int64 => primitive::<Int64Type>(t),
                DataType::UInt32 => primitive::<UInt32Type>(t),
                DataType::UInt64 => primitive::<UInt64Type>(t),
                DataType::Date32 => primitive::<Date32Type>(t),
                DataType::Date64 => primitive::<Date64Type>(t),
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Box::new(StringKeys {
                    arena: Arena::default(),
                    data_type: t.clone(),
                }),
                _ => rows(key_types)?,
            }),
            _ => Some(rows(key_types)?),
        };
        Ok(Grouper {
            store,
            table: Table::new(),
            hashes: Vec::new(),
        })
    }

    /// The number of groups so far.
    pub(crate) fn len(&self) -> usize {
        match self.store {
            None => 1,
            Some(_) => self.table.hashes.len(),
        }
    }

    /// The group of every row (`rows` of them) of the key `columns`, in
    /// `out` (cleared first). The columns must have no nulls.
    pub(crate) fn intern(
        &mut self,
        columns: &[ArrayRef],
        rows: usize,
        out: &mut Vec<u32>,
    ) -> Result<(), ArrowError> {
        out.clear();
        match &mut self.store {
            None => out.resize(rows, 0),
            Some(store) => store.intern(&mut self.table, columns, &mut self.hashes, out)?,
        }
        Ok(())
    }

    /// The distinct keys as columns, one row per group in group order.
    pub(crate) fn emit(&self) -> Result<Vec<ArrayRef>, ArrowError> {
        match &self.store {
            None => Ok(Vec::new()),
            Some(store) => store.emit(),
        }
    }

    /// The hash of every group's key (empty without key columns): equal
    /// keys have equal hashes in every grouper of the process, whatever
    /// partition they come from.
    pub(crate) fn hashes(&self) -> &[u64] {
        &self.table.hashes
    }
}

fn primitive<T>(t: &DataType) -> Box<dyn KeyStore>
where
    T: ArrowPrimitiveType,
    T::Native: IntKey,
{
    Box::new(PrimitiveKeys::<T> {
        values: Vec::new(),
        data_type: t.clone(),
    })
}

fn rows(key_types: &[DataType]) -> Result<Box<dyn KeyStore>, ArrowError> {
    let fields = key_types
        .iter()
        .map(|t| SortField::new(t.clone()))
        .collect();
    Ok(Box::new(RowKeys {
        converter: RowConverter::new(fields)?,
        arena: Arena::default(),
    }))
}

/// Whether arrow-row can encode (so group or count distinct) values of
/// type `t`.
pub(crate) fn groupable(t: &DataType) -> bool {
    RowConverter::supports_fields(&[SortField::new(t.clone())])
}

/// Arrow's half float (the `half` crate's `f16`, by the name Arrow uses).
type F16 = <Float16Type as ArrowPrimitiveType>::Native;

/// `array` with `-0.0` as `0.0` and every NaN as the canonical NaN, for
/// float arrays (others are returned as they are): floats that compare
/// equal then encode equal.
pub(crate) fn normalize_floats(array: &ArrayRef) -> Result<ArrayRef, ArrowError> {
    // `x + 0.0` turns -0.0 into 0.0 and keeps every other number.
    Ok(match array.data_type() {
        DataType::Float16 => Arc::new(
            array
                .as_primitive::<Float16Type>()
                .unary::<_, Float16Type>(|x| if x.is_nan() { F16::NAN } else { x + F16::ZERO }),
        ),
        DataType::Float32 => Arc::new(
            array
                .as_primitive::<Float32Type>()
                .unary::<_, Float32Type>(|x| if x.is_nan() { f32::NAN } else { x + 0.0 }),
        ),
        DataType::Float64 => Arc::new(
            array
                .as_primitive::<Float64Type>()
                .unary::<_, Float64Type>(|x| if x.is_nan() { f64::NAN } else { x + 0.0 }),
        ),
        _ => array.clone(),
    })
}
