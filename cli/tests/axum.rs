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
