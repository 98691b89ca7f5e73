//! Throughput of the full rewrite beside lol_html itself (passthrough: no handlers; floor:
//! the selector set a straightforward RULES §2 implementation registers, handlers empty) and
//! the naive regex rewriter, on generated pages: `cargo bench`.

mod support;

use cachebust::{Builder, Manifest};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

fn pages(c: &mut Criterion) {
    for (name, page) in [
        ("typical-100k", support::typical_page(100 << 10)),
        ("listing-100k", support::unstyled_listing(100 << 10)),
        ("large-1m", support::stress_page(1 << 20)),
        ("stress-10m", support::stress_page(10 << 20)),
    ] {
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Bytes(page.html.len() as u64));
        if page.html.len() > 1 << 20 {
            group.sample_size(10);
        }
        let html = page.html.as_bytes();
        let mut out = Vec::with_capacity(html.len() * 2);
        group.bench_function(BenchmarkId::new("passthrough", name), |b| {
            b.iter(|| support::passthrough(html, &mut out))
        });
        group.bench_function(BenchmarkId::new("floor", name), |b| {
            b.iter(|| support::floor(html, &mut out))
        });
        let buster = Builder::new(Manifest::from_json(&page.manifest_json).unwrap())
            .with_page_url("https://shop.example.com/kategorie/")
            .build()
            .unwrap();
        group.bench_function(BenchmarkId::new("cachebust", name), |b| {
            b.iter(|| {
                out.clear();
                buster.rewrite_to(html, &mut out)
            })
        });
        let regex = support::RegexRewriter::new(&page.manifest_json);
        group.bench_function(BenchmarkId::new("regex", name), |b| {
            b.iter(|| regex.rewrite(&page.html))
        });
        group.finish();
    }
}

criterion_group!(benches, pages);
criterion_main!(benches);
