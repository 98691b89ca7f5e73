//! The page entry points of [`Buster`]: a streaming [`Rewriter`], or a whole document in
//! one call (bytes, a response body, a `str`). Each picks its path; the paths themselves
//! are [`super::stream`] and [`super::whole`].

use super::stream::{Rewriter, Sink};
use crate::config::Buster;
use crate::report::Report;
use encoding_rs::Encoding;
use std::sync::Arc;

impl Buster {
    /// A streaming rewriter for one document, writing to `sink`.
    ///
    /// ```
    /// let buster = cachebust::Builder::new(cachebust::Manifest::new()).build()?;
    /// let mut out = Vec::new();
    /// let mut rewriter = buster.rewriter(|chunk: &[u8]| out.extend_from_slice(chunk));
    /// rewriter.write(b"<p>hello</p>");
    /// rewriter.end();
    /// assert_eq!(out, b"<p>hello</p>");
    /// # Ok::<(), cachebust::Error>(())
    /// ```
    pub fn rewriter<O: Sink>(&self, sink: O) -> Rewriter<O> {
        Rewriter::new(Arc::clone(&self.shared), Arc::clone(&self.page), sink)
    }

    /// Rewrites a whole document given as bytes in any ASCII-compatible encoding (set with
    /// [`Builder::with_encoding`](crate::Builder::with_encoding), else sniffed).
    ///
    /// ```
    /// let m = cachebust::Manifest::from_json(r#"{"/a.png": "1"}"#)?;
    /// let buster = cachebust::Builder::new(m).build()?;
    /// let page = b"<meta charset=windows-1252><p>caf\xe9</p><img src=/a.png>";
    /// let (out, report) = buster.rewrite_bytes(page);
    /// assert_eq!(out, b"<meta charset=windows-1252><p>caf\xe9</p><img src=\"/a.png?vh=1\">");
    /// assert_eq!(report.rewritten, 1);
    /// # Ok::<(), cachebust::Error>(())
    /// ```
    pub fn rewrite_bytes(&self, html: &[u8]) -> (Vec<u8>, Report) {
        let mut out = Vec::new();
        let report = self.rewrite_to(html, &mut out);
        (out, report)
    }

    /// Rewrites a whole document like [`Buster::rewrite_bytes`], appending the result to
    /// `out`: one buffer can serve document after document.
    ///
    /// ```
    /// let m = cachebust::Manifest::from_json(r#"{"/a.png": "1"}"#)?;
    /// let buster = cachebust::Builder::new(m).build()?;
    /// let mut out = Vec::new();
    /// for page in [&b"<img src=/a.png>"[..], b"<p>no images</p>"] {
    ///     out.clear();
    ///     let report = buster.rewrite_to(page, &mut out);
    ///     assert!(report.bail_out.is_none());
    /// }
    /// assert_eq!(out, b"<p>no images</p>");
    /// # Ok::<(), cachebust::Error>(())
    /// ```
    pub fn rewrite_to(&self, html: &[u8], out: &mut Vec<u8>) -> Report {
        super::whole::rewrite(&self.shared, &self.page, html, false, None, out)
    }

    /// Rewrites a whole HTTP response body like [`Buster::rewrite_to`], read in `charset`
    /// (a `Content-Type` label) when it names one lol_html reads, as
    /// [`Rewriter::with_charset`] would stream it: the same output, at the cost of the
    /// whole-document path.
    ///
    /// ```
    /// let m = cachebust::Manifest::from_json(r#"{"/a.png": "1"}"#)?;
    /// let buster = cachebust::Builder::new(m).build()?;
    /// let mut out = Vec::new();
    /// buster.rewrite_response_to(b"<p>caf\xe9</p><img src=/a.png>", Some("windows-1252"), &mut out);
    /// assert_eq!(out, b"<p>caf\xe9</p><img src=\"/a.png?vh=1\">");
    /// # Ok::<(), cachebust::Error>(())
    /// ```
    pub fn rewrite_response_to(
        &self,
        html: &[u8],
        charset: Option<&str>,
        out: &mut Vec<u8>,
    ) -> Report {
        let charset = charset.and_then(|label| Encoding::for_label(label.trim().as_bytes()));
        super::whole::rewrite(&self.shared, &self.page, html, false, charset, out)
    }

    /// The element names whose start tags a whole-document rewrite of `html` has lol_html
    /// find and reads (lower case), or `None` when it reads every element: what lol_html
    /// alone costs for this page depends on it (see `examples/throughput.rs`).
    ///
    /// ```
    /// let buster = cachebust::Builder::new(cachebust::Manifest::new()).build()?;
    /// let names = buster.handled_elements(b"<p style='color:red'><img src=a.png><a href=b>");
    /// assert_eq!(names, Some(vec!["p".to_string(), "img".to_string()]));
    /// # Ok::<(), cachebust::Error>(())
    /// ```
    pub fn handled_elements(&self, html: &[u8]) -> Option<Vec<String>> {
        let plan = super::plan::plan(html, &self.shared);
        plan.elements.names().map(<[String]>::to_vec)
    }

    /// Rewrites a whole document held as a `str` (so UTF-8, whatever its `<meta>` says).
    ///
    /// ```
    /// let m = cachebust::Manifest::from_json(r#"{"/a.png": "1"}"#)?;
    /// let buster = cachebust::Builder::new(m).build()?;
    /// let (html, report) = buster.rewrite_str(r#"<img src="/a.png" alt="é">"#);
    /// assert_eq!(html, r#"<img src="/a.png?vh=1" alt="é">"#);
    /// # Ok::<(), cachebust::Error>(())
    /// ```
    pub fn rewrite_str(&self, html: &str) -> (String, Report) {
        let mut out = Vec::new();
        let mut report = super::whole::rewrite(
            &self.shared,
            &self.page,
            html.as_bytes(),
            true,
            None,
            &mut out,
        );
        match String::from_utf8(out) {
            Ok(out) => (out, report),
            Err(_) => {
                report
                    .warnings
                    .push("the output was not UTF-8; the input is returned".into());
                (html.to_owned(), report)
            }
        }
    }
}
