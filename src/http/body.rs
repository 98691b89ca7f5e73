//! A response body rewritten as it streams.

use crate::filter::BodyFilter;
use crate::report::Report;
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

/// What to do with a finished page's report (log it, count it).
pub type OnReport = Arc<dyn Fn(&str, &Report) + Send + Sync>;

pin_project_lite::pin_project! {
    /// A response body: rewritten as it streams, or passed through untouched.
    ///
    /// An error of the inner body is passed on as it is, so that a client sees a failed
    /// body rather than a clean but truncated page.
    pub struct BustBody<B> {
        #[pin]
        inner: B,
        filter: Option<BodyFilter>,
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
        self.filter.is_none() && self.trailers.is_none() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        if self.filter.is_some() {
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
