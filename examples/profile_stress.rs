//! Rewrites the generated stress page repeatedly, for a profiler:
//! `cargo run --release --example profile_stress -- [MiB] [runs]`.

#[path = "../benches/support/mod.rs"]
mod support;

fn main() {
    let mut args = std::env::args().skip(1);
    let mib: usize = args.next().map_or(10, |a| a.parse().unwrap());
    let runs: usize = args.next().map_or(5, |a| a.parse().unwrap());
    let page = support::stress_page(mib << 20);
    let buster =
        cachebust::Builder::new(cachebust::Manifest::from_json(&page.manifest_json).unwrap())
            .with_page_url("https://shop.example.com/kategorie/")
            .build()
            .unwrap();
    for _ in 0..runs {
        let (out, report) = buster.rewrite_str(&page.html);
        std::hint::black_box((out, report));
    }
}
