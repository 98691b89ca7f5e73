//! The references a document busted last, and what came of them. A page names one image in
//! `src`, in `srcset` and in CSS alike, often a few tags apart: busting the same text in the
//! same context again gives the same edits, so they are replayed instead of resolved anew.

use crate::decoded::Edits;
use crate::manifest::KeyHash;
use crate::report::Outcome;
use std::hash::BuildHasher;

/// How many references are remembered (by their hash; a newer one takes an older's place).
const SLOTS: usize = 64;

#[derive(Debug, Clone)]
struct Remembered {
    hash: u64,
    text: String,
    amp: &'static str,
    outcome: Outcome,
    /// In the reference's own coordinates.
    edits: Edits,
}

/// What busting one document's references reuses from one to the next.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    /// Room to build a manifest key in.
    pub(crate) path: String,
    /// The base URL the remembered outcomes hold for.
    base: String,
    slots: Vec<Option<Remembered>>,
}

fn hash(text: &str) -> u64 {
    KeyHash::default().hash_one(text.as_bytes())
}

/// `amp` as one of the two separators the callers use (`&`, or `&amp;` in an attribute that
/// writes its ampersands so), so it can be kept without a copy.
fn static_amp(amp: &str) -> Option<&'static str> {
    match amp {
        "&" => Some("&"),
        "&amp;" => Some("&amp;"),
        _ => None,
    }
}

impl Scratch {
    /// The outcome of busting `t` with `amp` against `base`, if remembered; its edits are
    /// pushed to `out`.
    pub(crate) fn replay(
        &mut self,
        base: &str,
        t: &str,
        amp: &str,
        out: &mut Edits,
    ) -> Option<Outcome> {
        if self.base != base {
            self.base.clear();
            self.base.push_str(base);
            self.slots.iter_mut().for_each(|slot| *slot = None);
            return None;
        }
        let hash = hash(t);
        let slot = self.slots.get(hash as usize % SLOTS)?.as_ref()?;
        if slot.hash != hash || slot.amp != amp || slot.text != t {
            return None;
        }
        out.push_all(&slot.edits, 0);
        Some(slot.outcome)
    }

    /// Remembers that busting `t` with `amp` (against the base last given to
    /// [`Scratch::replay`]) came to `outcome` and the edits of `out` from `mark` on.
    pub(crate) fn remember(
        &mut self,
        t: &str,
        amp: &str,
        outcome: Outcome,
        out: &Edits,
        mark: usize,
    ) {
        let Some(amp) = static_amp(amp) else {
            return;
        };
        if self.slots.is_empty() {
            self.slots = vec![None; SLOTS];
        }
        let hash = hash(t);
        let slot = self.slots[hash as usize % SLOTS].get_or_insert_with(|| Remembered {
            hash,
            text: String::new(),
            amp,
            outcome,
            edits: Edits::default(),
        });
        slot.hash = hash;
        slot.amp = amp;
        slot.outcome = outcome;
        slot.text.clear();
        slot.text.push_str(t);
        slot.edits.clear();
        slot.edits.push_all(out, mark);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replays_what_it_remembers_in_the_same_context_only() {
        let mut scratch = Scratch::default();
        let mut out = Edits::default();
        let base = "https://a.example/";
        assert_eq!(scratch.replay(base, "/a.png", "&", &mut out), None);
        out.push(6..6, &[b"?vh=1"]);
        scratch.remember("/a.png", "&", Outcome::Rewritten, &out, 0);
        let mut again = Edits::default();
        assert_eq!(
            scratch.replay(base, "/a.png", "&", &mut again),
            Some(Outcome::Rewritten)
        );
        assert_eq!(again.iter().collect::<Vec<_>>(), [(6..6, &b"?vh=1"[..])]);
        // Another separator, another text, another base: not remembered.
        assert_eq!(scratch.replay(base, "/a.png", "&amp;", &mut again), None);
        assert_eq!(scratch.replay(base, "/b.png", "&", &mut again), None);
        assert_eq!(
            scratch.replay("https://b.example/", "/a.png", "&", &mut again),
            None
        );
        assert_eq!(scratch.replay(base, "/a.png", "&", &mut again), None);
    }
}
