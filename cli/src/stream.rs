//! Documents too large to hold (README guarantee 6: memory bounded by configuration, not
//! by page size): above [`WHOLE_LIMIT`] a file, or standard input, goes through the
//! streaming rewriter in chunks, into a temporary file (or stdout), with the same output as
//! a whole-document rewrite. Whether it changed is told by hashing what went in and what
//! came out, so neither is ever held whole.

use anyhow::{Context, Result};
use cachebust::{BodyFilter, Buster, Report};
use std::io::{Read, Write};

/// Documents up to this size are read whole (the faster path); larger ones stream.
pub const WHOLE_LIMIT: u64 = 16 << 20;

/// Bytes read at a time.
const CHUNK: usize = 64 << 10;

/// What a streamed rewrite did.
pub struct Streamed {
    pub report: Report,
    /// Whether the output differs from the input.
    pub changed: bool,
}

/// Rewrites `input` (a page, or a stylesheet) into `out` chunk by chunk, `prefix` (bytes
/// already read from `input`) first, in chunks too, and let go of before the rest is read.
pub fn rewrite(
    buster: &Buster,
    stylesheet: bool,
    prefix: Vec<u8>,
    input: &mut impl Read,
    out: &mut impl Write,
) -> Result<Streamed> {
    let mut filter = if stylesheet {
        BodyFilter::stylesheet(buster, None)
    } else {
        BodyFilter::new(buster)
    };
    let (mut read_hash, mut written_hash) = (blake3::Hasher::new(), blake3::Hasher::new());
    let mut emit = |bytes: &[u8]| -> Result<()> {
        written_hash.update(bytes);
        out.write_all(bytes).context("writing the output")
    };
    read_hash.update(&prefix);
    for piece in prefix.chunks(CHUNK) {
        emit(&filter.push(piece))?;
    }
    drop(prefix);
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e).context("reading the input"),
        };
        read_hash.update(&buf[..n]);
        emit(&filter.push(&buf[..n]))?;
    }
    let (rest, report) = filter.finish();
    emit(&rest)?;
    out.flush().context("writing the output")?;
    Ok(Streamed {
        report,
        changed: read_hash.finalize() != written_hash.finalize(),
    })
}

/// The blake3 hash of a file's bytes, read in chunks.
pub fn hash_file(path: &std::path::Path) -> Result<blake3::Hash> {
    let mut hasher = blake3::Hasher::new();
    let file = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    hasher
        .update_reader(file)
        .with_context(|| format!("reading {}", path.display()))?;
    Ok(hasher.finalize())
}
