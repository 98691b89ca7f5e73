//! A response body rewritten as it streams.

use crate::config::Buster;
use crate::filter::BodyFilter;
use crate::report::Report;
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

/// What to do with a finished page's report (log it, count it).
pub type OnReport = Arc<dyn Fn(&str, &Report) + Send + Sync>;

/// A page read whole before it is rewritten (its `Content-Length` was small): the
/// whole-document path costs several times less than the stream's. A body longer than
/// it said goes on as a stream, the bytes read so far first.
pub(crate) struct Whole {
    pub buster: Buster,
    pub charset: Option<String>,
    pub buffer: Vec<u8>,
    pub limit: usize,
}

impl Whole {
    fn streaming(self) -> (BodyFilter, Vec<u8>) {
        let mut filter = match &self.charset {
            Some(charset) => BodyFilter::with_charset(&self.buster, charset),
            None => BodyFilter::new(&self.buster),
        };
        let out = filter.push(&self.buffer);
        (filter, out)
    }

    fn finish(self, page: &str, on_report: &Option<OnReport>) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.buffer.len() + self.buffer.len() / 16);
        let report =
            self.buster
                .rewrite_response_to(&self.buffer, self.charset.as_deref(), &mut out);
        if let Some(on_report) = on_report {
            on_report(page, &report);
        }
        out
    }
}

pin_project_lite::pin_project! {
    /// A response body: rewritten as it streams, or passed through untouched.
    ///
    /// An error of the inner body is passed on as it is, so that a client sees a failed
    /// body rather than a clean but truncated page.
    pub struct BustBody<B> {
        #[pin]
        inner: B,
        filter: Option<BodyFilter>,
        whole: Option<Whole>,
        page: String,
        on_report: Option<OnReport>,
        trailers: Option<Frame<Bytes>>,
    }
}

impl<B> BustBody<B> {
    /// The body as it is.
    pub fn passthrough(inner: B) -> Self {
        BustBody {
            inner,
            filter: None,
            whole: None,
            page: String::new(),
            on_report: None,
            trailers: None,
        }
    }

    /// The body rewritten by `filter` for `page`.
    pub fn rewriting(
        inner: B,
        filter: BodyFilter,
        page: String,
        on_report: Option<OnReport>,
    ) -> Self {
        BustBody {
            inner,
            filter: Some(filter),
            whole: None,
            page,
            on_report,
            trailers: None,
        }
    }

    /// The body read whole, then rewritten in one pass.
    pub(crate) fn whole(inner: B, whole: Whole, page: String, on_report: Option<OnReport>) -> Self {
        BustBody {
            inner,
            filter: None,
            whole: Some(whole),
            page,
            on_report,
            trailers: None,
        }
    }
}

impl<B> Body for BustBody<B>
where
    B: Body<Data = Bytes>,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let mut this = self.project();
        while let Some(whole) = this.whole.as_mut() {
            match ready!(this.inner.as_mut().poll_frame(cx)) {
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => {
                        whole.buffer.extend_from_slice(&data);
                        if whole.buffer.len() > whole.limit {
                            let (filter, out) = this.whole.take().expect("some").streaming();
                            *this.filter = Some(filter);
                            if !out.is_empty() {
                                return Poll::Ready(Some(Ok(Frame::data(Bytes::from(out)))));
                            }
                        }
                    }
                    // Trailers end the body: finish the page first.
                    Err(trailers) => {
                        *this.trailers = Some(trailers);
                        let whole = this.whole.take().expect("some");
                        let out = whole.finish(this.page, this.on_report);
                        return Poll::Ready(Some(Ok(Frame::data(Bytes::from(out)))));
                    }
                },
                Some(Err(error)) => {
                    this.whole.take();
                    return Poll::Ready(Some(Err(error)));
                }
                None => {
                    let whole = this.whole.take().expect("some");
                    let out = whole.finish(this.page, this.on_report);
                    if out.is_empty() {
                        return Poll::Ready(None);
                    }
                    return Poll::Ready(Some(Ok(Frame::data(Bytes::from(out)))));
                }
            }
        }
        loop {
            if this.filter.is_none() {
                if let Some(trailers) = this.trailers.take() {
                    return Poll::Ready(Some(Ok(trailers)));
                }
                return this.inner.as_mut().poll_frame(cx);
            }
            match ready!(this.inner.as_mut().poll_frame(cx)) {
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => {
                        let filter = this.filter.as_mut().expect("checked above");
                        let out = filter.push(&data);
                        if !out.is_empty() {
                            return Poll::Ready(Some(Ok(Frame::data(Bytes::from(out)))));
                        }
                    }
                    // Trailers end the body: finish the page first.
                    Err(trailers) => {
                        *this.trailers = Some(trailers);
                        let out = finish(this.filter, this.page, this.on_report);
                        return Poll::Ready(Some(Ok(Frame::data(Bytes::from(out)))));
                    }
                },
                Some(Err(error)) => {
                    this.filter.take();
                    return Poll::Ready(Some(Err(error)));
                }
                None => {
                    let out = finish(this.filter, this.page, this.on_report);
                    if out.is_empty() {
                        return Poll::Ready(None);
                    }
                    return Poll::Ready(Some(Ok(Frame::data(Bytes::from(out)))));
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.filter.is_none()
            && self.whole.is_none()
            && self.trailers.is_none()
            && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        if self.filter.is_some() || self.whole.is_some() {
            SizeHint::default()
        } else {
            self.inner.size_hint()
        }
    }
}

fn finish(filter: &mut Option<BodyFilter>, page: &str, on_report: &Option<OnReport>) -> Vec<u8> {
    let Some(filter) = filter.take() else {
        return Vec::new();
    };
    let (out, report) = filter.finish();
    if let Some(on_report) = on_report {
        on_report(page, &report);
    }
    out
}
