//! The entries of one kind of key (paths, or absolute URLs), laid out for the lookup every
//! reference makes.
//!
//! A page's references hit the table in no order the manifest knows, so each lookup is a
//! cache miss or two, and on a large page they are much of the cost. A map of boxed keys to
//! boxed versions costs four (control bytes, bucket, key, version). Here the index is an
//! open-addressing array of 8-byte slots (a 32-bit hash tag and where the key stands), small
//! enough to stay in cache, and each key's bytes are followed by its entry's text in one
//! buffer: one miss per lookup, a line or two of text.

use super::{Entry, KeyHash, Stored};
use std::hash::BuildHasher;

/// What a lookup finds: the entry's text, borrowed from the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Found<'m> {
    Version(&'m str),
    Rename(&'m str),
}

/// Before each key in [`Table::text`]: its length, its entry's length and kind, and its
/// record; little-endian.
const HEADER: usize = 4 + 4 + 4 + 1;

#[derive(Debug, Clone, Default)]
pub(crate) struct Table {
    /// Open addressing, linear probing; `0` is empty, else `tag << 32 | (at + 1)` where `tag`
    /// is the key hash's high half and `at` where its header starts in `text`.
    slots: Vec<u64>,
    len: usize,
    /// Headers, keys and entries' texts, one after the other.
    text: Vec<u8>,
    /// The entries and their keys as written, for [`super::Manifest::get`] and friends.
    records: Vec<Stored>,
}

fn hash(key: &[u8]) -> u64 {
    KeyHash::default().hash_one(key)
}

/// A stored key's header, read.
struct Header {
    key_len: usize,
    entry_len: usize,
    record: usize,
    rename: bool,
}

impl Table {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    fn header(&self, at: usize) -> Header {
        let word = |n: usize| {
            let bytes: [u8; 4] = self.text[at + 4 * n..at + 4 * n + 4]
                .try_into()
                .expect("4 bytes");
            u32::from_le_bytes(bytes) as usize
        };
        Header {
            key_len: word(0),
            entry_len: word(1),
            record: word(2),
            rename: self.text[at + 12] == 1,
        }
    }

    fn key_at(&self, at: usize, header: &Header) -> &[u8] {
        &self.text[at + HEADER..at + HEADER + header.key_len]
    }

    /// Where `key`'s slot is, or the empty slot it would take.
    fn probe(&self, key: &[u8], hash: u64) -> (usize, Option<usize>) {
        let mask = self.slots.len() - 1;
        let tag = hash >> 32;
        let mut index = hash as usize & mask;
        loop {
            let slot = self.slots[index];
            if slot == 0 {
                return (index, None);
            }
            if slot >> 32 == tag {
                let at = (slot & 0xffff_ffff) as usize - 1;
                if self.key_at(at, &self.header(at)) == key {
                    return (index, Some(at));
                }
            }
            index = (index + 1) & mask;
        }
    }

    fn find_at(&self, key: &str) -> Option<usize> {
        if self.len == 0 {
            return None;
        }
        self.probe(key.as_bytes(), hash(key.as_bytes())).1
    }

    /// The entry stored under the normalised `key`.
    pub(crate) fn find(&self, key: &str) -> Option<Found<'_>> {
        let at = self.find_at(key)?;
        let header = self.header(at);
        let start = at + HEADER + header.key_len;
        let text = std::str::from_utf8(&self.text[start..start + header.entry_len])
            .expect("stored from a str");
        Some(if header.rename {
            Found::Rename(text)
        } else {
            Found::Version(text)
        })
    }

    /// The entry and key as written stored under the normalised `key`.
    pub(crate) fn get(&self, key: &str) -> Option<&Stored> {
        let at = self.find_at(key)?;
        Some(&self.records[self.header(at).record])
    }

    /// Stores `stored` under the normalised `key`, replacing what was there.
    pub(crate) fn insert(&mut self, key: &str, stored: Stored) {
        if (self.len + 1) * 8 > self.slots.len() * 5 {
            self.grow();
        }
        let hash = hash(key.as_bytes());
        let (index, existing) = self.probe(key.as_bytes(), hash);
        let record = match existing {
            Some(at) => {
                let record = self.header(at).record;
                self.records[record] = stored;
                record
            }
            None => {
                self.len += 1;
                self.records.push(stored);
                self.records.len() - 1
            }
        };
        let Table {
            text: buf,
            records,
            slots,
            ..
        } = self;
        let (text, rename) = match &records[record].entry {
            Entry::Version(text) => (text.as_bytes(), false),
            Entry::Rename(text) => (text.as_bytes(), true),
        };
        let at = buf.len();
        let word = |n: usize| u32::try_from(n).expect("manifests are far under 4 GiB");
        for n in [key.len(), text.len(), record] {
            buf.extend_from_slice(&word(n).to_le_bytes());
        }
        buf.push(u8::from(rename));
        buf.extend_from_slice(key.as_bytes());
        buf.extend_from_slice(text);
        slots[index] = (hash >> 32) << 32 | u64::from(word(at + 1));
    }

    fn grow(&mut self) {
        let old = std::mem::take(&mut self.slots);
        self.slots = vec![0; (old.len() * 2).max(16)];
        let mask = self.slots.len() - 1;
        for slot in old.into_iter().filter(|&slot| slot != 0) {
            let at = (slot & 0xffff_ffff) as usize - 1;
            let mut index = hash(self.key_at(at, &self.header(at))) as usize & mask;
            while self.slots[index] != 0 {
                index = (index + 1) & mask;
            }
            self.slots[index] = slot;
        }
    }

    /// Every entry with its key as written.
    pub(crate) fn records(&self) -> impl Iterator<Item = &Stored> {
        self.records.iter()
    }

    /// Every entry with its normalised key, to copy into another table.
    pub(crate) fn entries(&self) -> impl Iterator<Item = (&str, &Stored)> {
        self.slots.iter().filter(|&&slot| slot != 0).map(|&slot| {
            let at = (slot & 0xffff_ffff) as usize - 1;
            let header = self.header(at);
            let key = std::str::from_utf8(self.key_at(at, &header)).expect("stored from a str");
            (key, &self.records[header.record])
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
    fn keys_sharing_a_tag_and_a_slot_are_told_apart() {
        let mut table = Table::default();
        table.insert("/x", stored("x"));
        // Force a second key into the first one's slot chain, under the same tag.
        let hash_y = hash(b"/y");
        let x_slot = table.slots.iter().position(|&s| s != 0).unwrap();
        let x = table.slots[x_slot];
        table.slots[x_slot] = 0;
        let y_home = hash_y as usize & (table.slots.len() - 1);
        table.slots[y_home] = (hash_y >> 32) << 32 | (x & 0xffff_ffff);
        table.insert("/y", stored("y"));
        assert_eq!(table.find("/y"), Some(Found::Version("y")));
    }
}
