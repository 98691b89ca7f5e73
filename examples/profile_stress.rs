//! Rewrites the generated stress page repeatedly, for a profiler:
//! `cargo run --release --example profile_stress -- [MiB] [runs]` (0 MiB: the
//! typical page).

#[path = "../benches/support/mod.rs"]
mod support;

fn main() {
    let mut args = std::env::args().skip(1);
    let mib: usize = args.next().map_or(10, |a| a.parse().unwrap());
    let runs: usize = args.next().map_or(5, |a| a.parse().unwrap());
    // `0` MiB: the typical 100 KiB page instead.
    let page = if mib == 0 {
        support::typical_page(100 << 10)
    } else {
        support::stress_page(mib << 20)
    };
    let buster =
        cachebust::Builder::new(cachebust::Manifest::from_json(&page.manifest_json).unwrap())
            .with_page_url("https://shop.example.com/kategorie/")
            .build()
            .unwrap();
    let mut out = Vec::new();
    for _ in 0..runs {
        out.clear();
        std::hint::black_box(buster.rewrite_to(page.html.as_bytes(), &mut out));
    }
}
