//! The entries of one kind of key (paths, or absolute URLs), laid out for the lookup every
//! reference makes.
//!
//! A page's references hit the table in no order the manifest knows, so on a large page
//! each lookup is a cache miss, and the lookups are much of the cost. A map of boxed keys to
//! boxed versions costs four misses (control bytes, bucket, key, version); an index of
//! offsets into a buffer of keys costs two. Here each key has a bucket of one cache line
//! holding its hash tag, its record and, when they fit (a path and a version usually do),
//! the key and its entry's text themselves: one miss per lookup. Longer ones spill into a
//! buffer beside the buckets. Collisions probe the next bucket, the next line in memory.

use super::{Entry, KeyHash, Stored};
use std::hash::BuildHasher;

/// What a lookup finds: the entry's text, borrowed from the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Found<'m> {
    Version(&'m str),
    Rename(&'m str),
}

/// Bytes of a bucket: tag (4), record + 1 (4; `0` is empty), key length (1; [`SPILLED`]
/// when the texts are in [`Table::spilled`]), entry length (1), rename (1), then the key
/// and the entry's text, or where they were spilled (4).
const LINE: usize = 64;
const INLINE_AT: usize = 11;
/// How much key and entry text a bucket holds itself.
const INLINE: usize = LINE - INLINE_AT;
const SPILLED: u8 = u8::MAX;

#[derive(Clone)]
#[repr(align(64))]
struct Bucket([u8; LINE]);

impl Bucket {
    const EMPTY: Bucket = Bucket([0; LINE]);

    fn word(&self, at: usize) -> u32 {
        u32::from_le_bytes(self.0[at..at + 4].try_into().expect("4 bytes"))
    }

    fn tag(&self) -> u32 {
        self.word(0)
    }

    /// The record's index, `None` for an empty bucket.
    fn record(&self) -> Option<usize> {
        (self.word(4) as usize).checked_sub(1)
    }

    fn rename(&self) -> bool {
        self.0[10] == 1
    }
}

#[derive(Clone, Default)]
pub(crate) struct Table {
    /// Open addressing, linear probing; a power of two long.
    buckets: Vec<Bucket>,
    len: usize,
    /// Keys and entries too long for their bucket: each key's length and entry's length
    /// (4 bytes each, little-endian), the key, the entry's text.
    spilled: Vec<u8>,
    /// The entries and their keys as written, for [`super::Manifest::get`] and friends.
    records: Vec<Stored>,
}

impl std::fmt::Debug for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.entries()).finish()
    }
}

fn hash(key: &[u8]) -> u64 {
    KeyHash::default().hash_one(key)
}

/// Whether `entries` keep `buckets` at most five-eighths full (linear probing slows past).
fn fits(entries: usize, buckets: usize) -> bool {
    entries * 8 <= buckets * 5
}

fn word(n: usize) -> u32 {
    u32::try_from(n).expect("manifests are far under 4 GiB")
}

impl Table {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The key and entry text of a full bucket.
    fn texts<'t>(&'t self, bucket: &'t Bucket) -> (&'t [u8], &'t [u8]) {
        let bytes = &bucket.0;
        if bytes[8] != SPILLED {
            let (key_len, entry_len) = (usize::from(bytes[8]), usize::from(bytes[9]));
            let key_end = INLINE_AT + key_len;
            return (
                &bytes[INLINE_AT..key_end],
                &bytes[key_end..key_end + entry_len],
            );
        }
        let at = bucket.word(12) as usize;
        let length = |n: usize| {
            u32::from_le_bytes(self.spilled[n..n + 4].try_into().expect("4 bytes")) as usize
        };
        let (key_len, entry_len) = (length(at), length(at + 4));
        let key_at = at + 8;
        (
            &self.spilled[key_at..key_at + key_len],
            &self.spilled[key_at + key_len..key_at + key_len + entry_len],
        )
    }

    /// Where `key`'s bucket is, and whether it is full (else it is the empty one `key`
    /// would take).
    fn probe(&self, key: &[u8], hash: u64) -> (usize, bool) {
        let mask = self.buckets.len() - 1;
        let tag = (hash >> 32) as u32;
        let mut index = hash as usize & mask;
        loop {
            let bucket = &self.buckets[index];
            if bucket.record().is_none() {
                return (index, false);
            }
            if bucket.tag() == tag && self.texts(bucket).0 == key {
                return (index, true);
            }
            index = (index + 1) & mask;
        }
    }

    fn find_bucket(&self, key: &str) -> Option<&Bucket> {
        if self.len == 0 {
            return None;
        }
        let (index, full) = self.probe(key.as_bytes(), hash(key.as_bytes()));
        full.then(|| &self.buckets[index])
    }

    /// The entry stored under the normalised `key`.
    pub(crate) fn find(&self, key: &str) -> Option<Found<'_>> {
        let bucket = self.find_bucket(key)?;
        let text = std::str::from_utf8(self.texts(bucket).1).expect("stored from a str");
        Some(if bucket.rename() {
            Found::Rename(text)
        } else {
            Found::Version(text)
        })
    }

    /// The entry and key as written stored under the normalised `key`.
    pub(crate) fn get(&self, key: &str) -> Option<&Stored> {
        let record = self.find_bucket(key)?.record().expect("a full bucket");
        Some(&self.records[record])
    }

    /// Stores `stored` under the normalised `key`, replacing what was there; returns its
    /// record's index.
    pub(crate) fn insert(&mut self, key: &str, stored: Stored) -> usize {
        if !fits(self.len + 1, self.buckets.len()) {
            self.grow();
        }
        let hash = hash(key.as_bytes());
        let (index, full) = self.probe(key.as_bytes(), hash);
        let record = if full {
            let record = self.buckets[index].record().expect("a full bucket");
            self.records[record] = stored;
            record
        } else {
            self.len += 1;
            self.records.push(stored);
            self.records.len() - 1
        };
        let (text, rename) = match &self.records[record].entry {
            Entry::Version(text) => (text.as_bytes(), false),
            Entry::Rename(text) => (text.as_bytes(), true),
        };
        let mut bucket = Bucket::EMPTY;
        let bytes = &mut bucket.0;
        bytes[..4].copy_from_slice(&((hash >> 32) as u32).to_le_bytes());
        bytes[4..8].copy_from_slice(&word(record + 1).to_le_bytes());
        bytes[10] = u8::from(rename);
        if key.len() + text.len() <= INLINE {
            bytes[8] = key.len() as u8;
            bytes[9] = text.len() as u8;
            let key_end = INLINE_AT + key.len();
            bytes[INLINE_AT..key_end].copy_from_slice(key.as_bytes());
            bytes[key_end..key_end + text.len()].copy_from_slice(text);
        } else {
            bytes[8] = SPILLED;
            bytes[12..16].copy_from_slice(&word(self.spilled.len()).to_le_bytes());
            self.spilled
                .extend_from_slice(&word(key.len()).to_le_bytes());
            self.spilled
                .extend_from_slice(&word(text.len()).to_le_bytes());
            self.spilled.extend_from_slice(key.as_bytes());
            self.spilled.extend_from_slice(text);
        }
        self.buckets[index] = bucket;
        record
    }

    /// The record at `index`, as [`Table::insert`] returned it.
    pub(crate) fn record_mut(&mut self, index: usize) -> &mut Stored {
        &mut self.records[index]
    }

    fn grow(&mut self) {
        self.rehash((self.buckets.len() * 2).max(16));
    }

    /// Makes room for `additional` more entries at once: a manifest's entries are known
    /// before they are stored, and growing step by step would rehash them and touch every
    /// intermediate table's fresh memory.
    pub(crate) fn reserve(&mut self, additional: usize) {
        let wanted = self.len + additional;
        let mut buckets = self.buckets.len().max(16);
        while !fits(wanted, buckets) {
            buckets *= 2;
        }
        if buckets > self.buckets.len() {
            self.rehash(buckets);
        }
        self.records.reserve(additional);
    }

    fn rehash(&mut self, buckets: usize) {
        let old = std::mem::take(&mut self.buckets);
        self.buckets = vec![Bucket::EMPTY; buckets];
        let mask = self.buckets.len() - 1;
        for bucket in old.into_iter().filter(|b| b.record().is_some()) {
            let mut index = hash(self.texts(&bucket).0) as usize & mask;
            while self.buckets[index].record().is_some() {
                index = (index + 1) & mask;
            }
            self.buckets[index] = bucket;
        }
    }

    /// Every entry with its key as written.
    pub(crate) fn records(&self) -> impl Iterator<Item = &Stored> {
        self.records.iter()
    }

    /// Every entry with its normalised key, to copy into another table.
    pub(crate) fn entries(&self) -> impl Iterator<Item = (&str, &Stored)> {
        self.buckets.iter().filter_map(|bucket| {
            let record = bucket.record()?;
            let key = std::str::from_utf8(self.texts(bucket).0).expect("stored from a str");
            Some((key, &self.records[record]))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(version: &str) -> Stored {
        Stored {
            entry: Entry::Version(version.into()),
            key: "as written".into(),
        }
    }

    #[test]
    fn reserving_keeps_what_is_there_and_grows_once() {
        let mut table = Table::default();
        table.insert("/a.png", stored("1"));
        table.reserve(3000);
        let buckets = table.buckets.len();
        assert!(3001 * 8 <= buckets * 5, "{buckets} buckets");
        for n in 0..3000 {
            table.insert(&format!("/img/{n}.png"), stored(&n.to_string()));
        }
        assert_eq!(table.buckets.len(), buckets, "no growth after reserving");
        assert_eq!(table.len(), 3001);
        assert_eq!(table.find("/a.png"), Some(Found::Version("1")));
        assert_eq!(table.find("/img/2999.png"), Some(Found::Version("2999")));
        // Reserving less than there is room for changes nothing.
        table.reserve(1);
        assert_eq!(table.buckets.len(), buckets);
        assert_eq!(table.find("/img/0.png"), Some(Found::Version("0")));
    }

    #[test]
    fn finds_replaces_and_grows() {
        let mut table = Table::default();
        assert_eq!(table.find("/a.png"), None);
        table.insert("/a.png", stored("1"));
        table.insert("/b.png", stored("2"));
        table.insert("/a.png", stored("3"));
        assert_eq!(table.find("/a.png"), Some(Found::Version("3")));
        assert_eq!(table.find("/b.png"), Some(Found::Version("2")));
        assert_eq!(table.find("/c.png"), None);
        assert_eq!((table.len(), table.records().count()), (2, 2));
        for n in 0..1000 {
            table.insert(&format!("/img/{n}.png"), stored(&n.to_string()));
        }
        assert_eq!(table.len(), 1002);
        assert_eq!(table.find("/img/999.png"), Some(Found::Version("999")));
        assert_eq!(table.find("/a.png"), Some(Found::Version("3")));
        assert_eq!(table.entries().count(), 1002);
    }

    #[test]
    fn keys_sharing_a_tag_and_a_bucket_are_told_apart() {
        let mut table = Table::default();
        table.insert("/x", stored("x"));
        // Move the first key into the second one's home bucket, under the second one's tag.
        let hash_y = hash(b"/y");
        let x_at = table
            .buckets
            .iter()
            .position(|b| b.record().is_some())
            .unwrap();
        let mut x = std::mem::replace(&mut table.buckets[x_at], Bucket::EMPTY);
        x.0[..4].copy_from_slice(&((hash_y >> 32) as u32).to_le_bytes());
        let y_home = hash_y as usize & (table.buckets.len() - 1);
        table.buckets[y_home] = x;
        table.insert("/y", stored("y"));
        assert_eq!(table.find("/y"), Some(Found::Version("y")));
        assert_eq!(table.len(), 2);
    }

    #[test]
    fn long_keys_and_entries_spill_and_come_back() {
        let mut table = Table::default();
        let long_key = format!("/{}.png", "k".repeat(300));
        let long_version = "v".repeat(INLINE);
        // Exactly what fits, one byte more, a long key, a long entry, a rename.
        let fits = format!("/{}", "f".repeat(INLINE - 2));
        table.insert(&fits, stored("1"));
        let over = format!("/{}", "o".repeat(INLINE - 1));
        table.insert(&over, stored("1"));
        table.insert(&long_key, stored("2"));
        table.insert("/short.png", stored(&long_version));
        table.insert(
            "/old.css",
            Stored {
                entry: Entry::Rename("/old.1234.css".into()),
                key: "old.css".into(),
            },
        );
        for n in 0..500 {
            table.insert(
                &format!("/img/{n}-{}.png", "x".repeat(n % 80)),
                stored(&n.to_string()),
            );
        }
        assert_eq!(table.find(&fits), Some(Found::Version("1")));
        assert_eq!(table.find(&over), Some(Found::Version("1")));
        assert_eq!(table.find(&long_key), Some(Found::Version("2")));
        assert_eq!(
            table.find("/short.png"),
            Some(Found::Version(&long_version))
        );
        assert_eq!(table.find("/old.css"), Some(Found::Rename("/old.1234.css")));
        assert_eq!(table.get("/old.css").map(|s| &*s.key), Some("old.css"));
        for n in 0..500 {
            let key = format!("/img/{n}-{}.png", "x".repeat(n % 80));
            assert_eq!(
                table.find(&key),
                Some(Found::Version(&n.to_string())),
                "{key}"
            );
        }
        // Replacing a spilled entry with an inline one, and the other way round.
        table.insert(&long_key, stored("3"));
        table.insert("/short.png", stored("4"));
        table.insert(&fits, stored(&long_version));
        assert_eq!(table.find(&long_key), Some(Found::Version("3")));
        assert_eq!(table.find("/short.png"), Some(Found::Version("4")));
        assert_eq!(table.find(&fits), Some(Found::Version(&long_version)));
        assert_eq!(table.find("/img/500-.png"), None);
        assert_eq!(table.len(), 505);
        let mut keys: Vec<&str> = table.entries().map(|(key, _)| key).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), 505);
    }
}
