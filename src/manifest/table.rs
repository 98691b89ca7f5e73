//! The entries of one kind of key (paths, or absolute URLs), laid out for the lookup every
//! reference makes.
//!
//! A page's references hit the table in no order the manifest knows, so each lookup is a
//! few cache misses, and they are most of its cost. A map of boxed keys to boxed versions
//! costs four (control bytes, bucket, key, version); here the index holds small slots keyed
//! by the key's full hash, and each key's bytes are followed by its entry's text in one
//! buffer: the bucket, then one line or two of text.

use super::{Entry, Stored};
use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};

/// What a lookup finds: the entry's text, borrowed from the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Found<'m> {
    Version(&'m str),
    Rename(&'m str),
}

/// Where a key and its entry stand.
#[derive(Debug, Clone, Copy)]
struct Slot {
    /// Start of the key's bytes in [`Table::text`]; the entry's text follows them.
    at: usize,
    key_len: u32,
    entry_len: u32,
    /// The entry in [`Table::records`].
    record: u32,
    rename: bool,
}

/// The hasher of the index: its keys are hashes already.
#[derive(Default)]
struct Identity(u64);

impl Hasher for Identity {
    fn write(&mut self, _: &[u8]) {
        unreachable!("the index hashes u64 keys only");
    }

    fn write_u64(&mut self, hash: u64) {
        self.0 = hash;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Table {
    index: HashMap<u64, Slot, BuildHasherDefault<Identity>>,
    /// Keys whose hash another key has already (never seen, handled all the same).
    collided: HashMap<Box<str>, Slot>,
    text: String,
    /// The entries and their keys as written, for [`super::Manifest::get`] and friends.
    records: Vec<Stored>,
}

fn hash(key: &str) -> u64 {
    super::KeyHash::default().hash_one(key)
}

impl Table {
    pub(crate) fn len(&self) -> usize {
        self.index.len() + self.collided.len()
    }

    fn slot(&self, key: &str) -> Option<&Slot> {
        let slot = self.index.get(&hash(key))?;
        if self.key_of(slot) == key {
            return Some(slot);
        }
        self.collided.get(key)
    }

    fn key_of(&self, slot: &Slot) -> &str {
        &self.text[slot.at..slot.at + slot.key_len as usize]
    }

    /// The entry stored under the normalised `key`.
    pub(crate) fn find(&self, key: &str) -> Option<Found<'_>> {
        let slot = self.slot(key)?;
        let start = slot.at + slot.key_len as usize;
        let text = &self.text[start..start + slot.entry_len as usize];
        Some(if slot.rename {
            Found::Rename(text)
        } else {
            Found::Version(text)
        })
    }

    /// The entry and key as written stored under the normalised `key`.
    pub(crate) fn get(&self, key: &str) -> Option<&Stored> {
        self.slot(key)
            .map(|slot| &self.records[slot.record as usize])
    }

    /// Stores `stored` under the normalised `key`, replacing what was there.
    pub(crate) fn insert(&mut self, key: &str, stored: Stored) {
        let at = self.text.len();
        self.text.push_str(key);
        let (text, rename) = match &stored.entry {
            Entry::Version(text) => (text, false),
            Entry::Rename(text) => (text, true),
        };
        self.text.push_str(text);
        let entry_len = u32::try_from(text.len()).expect("entries are checked short");
        let record = match self.slot(key).map(|slot| slot.record) {
            Some(record) => {
                self.records[record as usize] = stored;
                record
            }
            None => {
                self.records.push(stored);
                u32::try_from(self.records.len() - 1).expect("under 4G entries")
            }
        };
        let slot = Slot {
            at,
            key_len: u32::try_from(key.len()).expect("keys are checked short"),
            entry_len,
            record,
            rename,
        };
        let hash = hash(key);
        match self.index.get(&hash) {
            Some(other) if self.key_of(other) != key => {
                self.collided.insert(key.into(), slot);
            }
            _ => {
                self.index.insert(hash, slot);
            }
        }
    }

    /// Every entry with its key as written.
    pub(crate) fn records(&self) -> impl Iterator<Item = &Stored> {
        self.records.iter()
    }

    /// Every entry with its normalised key, to copy into another table.
    pub(crate) fn entries(&self) -> impl Iterator<Item = (&str, &Stored)> {
        self.index
            .values()
            .chain(self.collided.values())
            .map(|slot| (self.key_of(slot), &self.records[slot.record as usize]))
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
    fn finds_replaces_and_tells_colliding_keys_apart() {
        let mut table = Table::default();
        table.insert("/a.png", stored("1"));
        table.insert("/b.png", stored("2"));
        table.insert("/a.png", stored("3"));
        assert_eq!(table.find("/a.png"), Some(Found::Version("3")));
        assert_eq!(table.find("/b.png"), Some(Found::Version("2")));
        assert_eq!(table.find("/c.png"), None);
        assert_eq!(table.len(), 2);
        assert_eq!(table.records().count(), 2);
        // Two keys under one hash: the index holds one, the other goes aside.
        let mut forced = Table::default();
        forced.insert("/x", stored("x"));
        let slot = *forced.index.values().next().unwrap();
        forced.index.clear();
        forced.index.insert(hash("/y"), slot);
        forced.insert("/y", stored("y"));
        assert_eq!(forced.find("/y"), Some(Found::Version("y")));
        assert_eq!(forced.find("/x"), None);
    }
}
