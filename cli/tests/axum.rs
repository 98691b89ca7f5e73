//! The README's axum example, run: five lines put cachebust in front of an axum app.

use axum::{Router, response::Html, routing::get};
use cachebust::{Builder, Manifest, http::BustLayer};
use http_body_util::BodyExt;
use tower::ServiceExt;

async fn index() -> Html<&'static str> {
    Html(r#"<img src="/img/logo.png">"#)
}

#[test]
fn an_axum_app_in_five_lines() {
    let dir = tempfile::tempdir().unwrap();
    std::env::set_current_dir(dir.path()).unwrap();
    std::fs::write("versions.json", r#"{"/img/logo.png": "3f9a"}"#).unwrap();
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        // The README's lines:
        let buster = Builder::new(Manifest::load("versions.json").unwrap())
            .build()
            .unwrap();
        let app = Router::new()
            .route("/", get(index))
            .layer(BustLayer::new(buster));

        let request = http::Request::get("/")
            .header("host", "example.com")
            .body(axum::body::Body::empty())
            .unwrap();
        let response = app.oneshot(request).await.unwrap();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(body, r#"<img src="/img/logo.png?vh=3f9a">"#);
    });
}

/// Pages read whole (a `Content-Length` within the limit) come out as the stream would
/// write them; a body longer than its `Content-Length` said goes on as a stream, the bytes
/// read so far first, and a page in a legacy charset keeps its bytes.
#[test]
fn whole_pages_and_streamed_pages_agree() {
    let manifest =
        Manifest::from_json(r#"{"/img/a.png": "v1", "/img/b.png": "v2", "/img/café.png": "v3"}"#)
            .unwrap();
    let buster = Builder::new(manifest).build().unwrap();
    let page: Vec<u8> = [
        &b"<html><head><style>p{background:url(/img/b.png)}</style></head><body>"[..],
        b"<p>caf\xe9</p><img src=\"/img/a.png\" srcset=\"/img/a.png 1x, /img/b.png 2x\">",
        b"<img src=\"/img/caf\xe9.png\">",
        b"<noscript><img src=/img/b.png></noscript></body></html>",
    ]
    .concat();
    let run = |limit: u64, claimed: usize, charset: &'static str| {
        let page = page.clone();
        let layer = BustLayer::new(buster.clone()).with_whole_page_limit(limit);
        let service = tower::service_fn(move |_: http::Request<()>| {
            let page = page.clone();
            async move {
                let body = Chunks(page.chunks(7).map(bytes::Bytes::copy_from_slice).collect());
                Ok::<_, std::convert::Infallible>(
                    http::Response::builder()
                        .header("content-type", format!("text/html; charset={charset}"))
                        .header("content-length", claimed)
                        .body(body)
                        .unwrap(),
                )
            }
        });
        let request = http::Request::get("/")
            .header("host", "example.com")
            .body(())
            .unwrap();
        tokio::runtime::Runtime::new().unwrap().block_on(async {
            let response = tower::Layer::layer(&layer, service)
                .oneshot(request)
                .await
                .unwrap();
            response.into_body().collect().await.unwrap().to_bytes()
        })
    };
    for charset in ["windows-1252", "utf-8"] {
        let streamed = run(0, page.len(), charset);
        assert_eq!(run(1 << 20, page.len(), charset), streamed);
        // Claimed small, sent long: past the limit it streams on.
        assert_eq!(run(40, 10, charset), streamed);
    }
    let streamed = run(0, page.len(), "windows-1252");
    assert!(streamed.windows(b"caf\xe9".len()).any(|w| w == b"caf\xe9"));
    // Read as windows-1252 (the Content-Type's), not sniffed as UTF-8.
    assert!(
        streamed
            .windows(b"caf\xe9.png?vh=v3".len())
            .any(|w| w == b"caf\xe9.png?vh=v3")
    );
    let text = String::from_utf8_lossy(&streamed);
    assert!(text.contains("url(/img/b.png?vh=v2)"), "{text}");
    assert!(
        text.contains(r#"<noscript><img src="/img/b.png?vh=v2">"#),
        "{text}"
    );
    assert!(text.contains(r#"srcset="/img/a.png?vh=v1 1x, /img/b.png?vh=v2 2x""#));
}

/// A body that gives the page in frames of 7 bytes.
struct Chunks(std::collections::VecDeque<bytes::Bytes>);

impl http_body::Body for Chunks {
    type Data = bytes::Bytes;
    type Error = std::convert::Infallible;
    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<bytes::Bytes>, Self::Error>>> {
        std::task::Poll::Ready(self.0.pop_front().map(|c| Ok(http_body::Frame::data(c))))
    }
}
