//! Loading fast on a real network (issue 24, item 10): the built client and the API's JSON are sent
//! gzip- or brotli-compressed to browsers that accept it, hashed assets are cached for a year as
//! immutable and `index.html` is revalidated. Over the whole app (`tierboard::app`) with a real
//! server state and a client build in a temporary folder.

mod common;

use std::io::{Read, Write};
use std::path::Path;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use tierboard::config::ServeConfig;
use tower::ServiceExt;

use common::{TestServer, sqlite_url};

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Text that compresses like a script: repetitive but not one character.
fn script(n: usize) -> Vec<u8> {
    (0..n)
        .map(|i| format!("export function f{i}(a, b) {{ return a * {i} + b; }}\n"))
        .collect::<String>()
        .into_bytes()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn brotli_encode(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::BrotliCompress(
        &mut &data[..],
        &mut out,
        &brotli::enc::BrotliEncoderParams::default(),
    )
    .unwrap();
    out
}

fn decode(encoding: Option<&str>, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match encoding {
        Some("gzip") => {
            flate2::read::GzDecoder::new(body)
                .read_to_end(&mut out)
                .unwrap();
        }
        Some("br") => {
            brotli::Decompressor::new(body, 4096)
                .read_to_end(&mut out)
                .unwrap();
        }
        None => out = body.to_vec(),
        Some(other) => panic!("unexpected content-encoding {other}"),
    }
    out
}

/// A client build: `index.html`, a precompressed hashed script (as `vite build` writes it) and a
/// hashed stylesheet without precompressed copies (compressed as it is sent).
fn client_build(dir: &Path) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let index = b"<!doctype html><html><head><title>tierboard</title><script type=\"module\" src=\"/assets/index-abc123.js\"></script></head><body><div id=\"root\"></div></body></html>".to_vec();
    let js = script(2000);
    let css = (0..2000)
        .map(|i| {
            format!(
                ".c{i} {{ color: #{:06x}; margin: {}px; }}\n",
                i * 97,
                i % 13
            )
        })
        .collect::<String>()
        .into_bytes();
    std::fs::create_dir_all(dir.join("assets")).unwrap();
    std::fs::write(dir.join("index.html"), &index).unwrap();
    std::fs::write(dir.join("assets/index-abc123.js"), &js).unwrap();
    std::fs::write(dir.join("assets/index-abc123.js.gz"), gzip(&js)).unwrap();
    std::fs::write(dir.join("assets/index-abc123.js.br"), brotli_encode(&js)).unwrap();
    std::fs::write(dir.join("assets/style-def456.css"), &css).unwrap();
    (index, js, css)
}

struct Answer {
    status: StatusCode,
    encoding: Option<String>,
    cache: Option<String>,
    vary: Vec<String>,
    content_type: String,
    raw: Vec<u8>,
    body: Vec<u8>,
}

async fn get(app: &axum::Router, uri: &str, accept: Option<&str>) -> Answer {
    let mut req = Request::builder().uri(uri);
    if let Some(a) = accept {
        req = req.header(header::ACCEPT_ENCODING, a);
    }
    let res = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let h = res.headers().clone();
    let text = |name| {
        h.get(name)
            .map(|v: &header::HeaderValue| v.to_str().unwrap().to_string())
    };
    let encoding = text(header::CONTENT_ENCODING);
    let raw = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    Answer {
        status,
        body: decode(encoding.as_deref(), &raw),
        encoding,
        cache: text(header::CACHE_CONTROL),
        vary: h
            .get_all(header::VARY)
            .iter()
            .map(|v| v.to_str().unwrap().to_lowercase())
            .collect(),
        content_type: text(header::CONTENT_TYPE).unwrap_or_default(),
        raw,
    }
}

async fn app() -> (
    tempfile::TempDir,
    tempfile::TempDir,
    TestServer,
    axum::Router,
    (Vec<u8>, Vec<u8>, Vec<u8>),
) {
    let (db, url) = sqlite_url();
    let dist = tempfile::tempdir().unwrap();
    let files = client_build(dist.path());
    let mut config = ServeConfig::for_test(url, "problems");
    config.static_dir = dist.path().to_path_buf();
    let server = TestServer::start_with(config).await;
    let app = tierboard::app(server.state.clone());
    (db, dist, server, app, files)
}

#[tokio::test]
async fn assets_are_compressed_and_cached_by_kind() {
    let (_db, _dist, server, app, (index, js, css)) = app().await;

    // The precompressed script, in either encoding, decodes to the file; cached for a year.
    for (accept, want) in [
        ("br", "br"),
        ("gzip", "gzip"),
        ("gzip, deflate, br, zstd", "br"),
    ] {
        let a = get(&app, "/assets/index-abc123.js", Some(accept)).await;
        assert_eq!(a.status, StatusCode::OK);
        assert_eq!(a.encoding.as_deref(), Some(want), "{accept}");
        assert_eq!(a.body, js, "{accept}: decodes to the original");
        assert!(
            a.raw.len() * 5 < js.len(),
            "{accept}: {} of {} bytes",
            a.raw.len(),
            js.len()
        );
        assert_eq!(a.cache.as_deref(), Some(IMMUTABLE));
        assert!(
            a.vary.iter().any(|v| v.contains("accept-encoding")),
            "{:?}",
            a.vary
        );
        assert!(
            a.content_type.starts_with("text/javascript"),
            "{}",
            a.content_type
        );
    }
    // Without Accept-Encoding: the file as it is.
    let a = get(&app, "/assets/index-abc123.js", None).await;
    assert_eq!((a.encoding.as_deref(), &a.raw), (None, &js));
    assert_eq!(a.cache.as_deref(), Some(IMMUTABLE));

    // A file the build did not precompress is compressed as it is sent.
    for enc in ["br", "gzip"] {
        let a = get(&app, "/assets/style-def456.css", Some(enc)).await;
        assert_eq!(a.encoding.as_deref(), Some(enc));
        assert_eq!(a.body, css);
        assert!(a.raw.len() * 3 < css.len());
        assert_eq!(a.cache.as_deref(), Some(IMMUTABLE));
    }

    // index.html, at / and at a client route: revalidated on every load.
    for uri in ["/", "/index.html", "/p/classic-rate-limiter", "/r/abc"] {
        let a = get(&app, uri, Some("gzip, br")).await;
        assert_eq!(a.status, StatusCode::OK, "{uri}");
        assert_eq!(a.body, index, "{uri}");
        assert_eq!(a.cache.as_deref(), Some("no-cache"), "{uri}");
        assert!(
            a.content_type.starts_with("text/html"),
            "{uri}: {}",
            a.content_type
        );
    }

    // A missing hashed file is a 404, not index.html cached for a year.
    let res = app
        .clone()
        .oneshot(
            Request::builder()
                .uri("/assets/index-gone99.js")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_ne!(
        res.headers()
            .get(header::CACHE_CONTROL)
            .map(|v| v.to_str().unwrap()),
        Some(IMMUTABLE)
    );
    server.stop().await;
}

#[tokio::test]
async fn api_json_is_compressed_and_decodes_to_the_same_answer() {
    let (_db, _dist, server, app, _) = app().await;
    for uri in [
        "/api/problems?per_page=100",
        "/api/problems/classic-rate-limiter",
        "/api/components",
    ] {
        let plain = get(&app, uri, None).await;
        assert_eq!(plain.encoding, None, "{uri}");
        assert!(plain.content_type.starts_with("application/json"), "{uri}");
        let plain_json: serde_json::Value = serde_json::from_slice(&plain.body).unwrap();
        for enc in ["gzip", "br"] {
            let a = get(&app, uri, Some(enc)).await;
            assert_eq!(a.encoding.as_deref(), Some(enc), "{uri}");
            assert!(
                a.raw.len() * 2 < plain.raw.len(),
                "{uri} {enc}: {} of {} bytes",
                a.raw.len(),
                plain.raw.len()
            );
            let json: serde_json::Value = serde_json::from_slice(&a.body).unwrap();
            assert_eq!(json, plain_json, "{uri} {enc}");
            assert!(a.vary.iter().any(|v| v.contains("accept-encoding")));
        }
    }
    server.stop().await;
}
