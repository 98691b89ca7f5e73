//! A response body fed through a channel, for upstreams that stream, pause and fail on
//! cue (`#[path]`-included by the proxy tests).

use bytes::Bytes;
use hyper::body::Frame;

/// A body fed through a channel.
pub struct ChannelBody(pub tokio::sync::mpsc::Receiver<Result<Frame<Bytes>, std::io::Error>>);

impl http_body::Body for ChannelBody {
    type Data = Bytes;
    type Error = std::io::Error;
    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        self.0.poll_recv(cx)
    }
}
