//! Whether a response came from a cache, read from the headers CDNs and caches send.
//!
//! Each vendor says it its own way; the most specific header present decides, in this
//! order:
//!
//! | header | sent by | a hit |
//! | --- | --- | --- |
//! | `Cache-Status` (RFC 9211) | any cache | the last (closest) member has `hit` |
//! | `CF-Cache-Status` | Cloudflare | `HIT`, `STALE`, `UPDATING`, `REVALIDATED` |
//! | `X-Cache-Status` | nginx (`$upstream_cache_status`) | the same words |
//! | `X-Cache` | CloudFront (`Hit from cloudfront`), Fastly (`MISS, HIT`), Akamai (`TCP_MEM_HIT from ...`), Varnish setups | its last entry says hit |
//! | `X-Cache-Hits` | Fastly | its last count is above 0 |
//! | `X-Varnish` | Varnish | two transaction ids (this one and the cached one's) |
//! | `Age` | every shared cache (RFC 9111) | above 0 |
//!
//! `X-Served-By` (Fastly) names the cache nodes, not what they did; it goes with `X-Cache`.

use http::HeaderMap;

/// What the headers say of one response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Hit,
    Miss,
    /// No cache said anything.
    Unknown,
}

/// What a response's headers said, and which header said it (`X-Cache: Hit from
/// cloudfront`), for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub status: Status,
    pub evidence: Option<String>,
}

/// Reads one header's value.
type Reader = fn(&str) -> Status;

/// Reads `headers`.
pub fn read(headers: &HeaderMap) -> Seen {
    let text = |name: &str| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join(", ")
    };
    // Names as the report shows them; header names are looked up whatever their case.
    let readers: [(&str, Reader); 7] = [
        ("Cache-Status", rfc9211),
        ("CF-Cache-Status", word),
        ("X-Cache-Status", word),
        ("X-Cache", x_cache),
        ("X-Cache-Hits", cache_hits),
        ("X-Varnish", x_varnish),
        ("Age", age),
    ];
    for (name, reader) in readers {
        let value = text(name);
        if value.trim().is_empty() {
            continue;
        }
        let status = reader(&value);
        if status != Status::Unknown {
            return Seen {
                status,
                evidence: Some(format!("{name}: {}", value.trim())),
            };
        }
    }
    Seen {
        status: Status::Unknown,
        evidence: None,
    }
}

/// `Cache-Status: Origin; fwd=miss, Edge; hit`: the last member is the cache nearest the
/// client.
fn rfc9211(value: &str) -> Status {
    let Some(last) = value.rsplit(',').next() else {
        return Status::Unknown;
    };
    let params: Vec<String> = last
        .split(';')
        .skip(1)
        .map(|p| p.trim().to_ascii_lowercase())
        .collect();
    if params.iter().any(|p| p == "hit") {
        Status::Hit
    } else if params.iter().any(|p| p.starts_with("fwd=")) {
        Status::Miss
    } else {
        Status::Unknown
    }
}

/// Cloudflare's and nginx's one word.
fn word(value: &str) -> Status {
    match value.trim().to_ascii_uppercase().as_str() {
        "HIT" | "STALE" | "UPDATING" | "REVALIDATED" => Status::Hit,
        "MISS" | "EXPIRED" | "BYPASS" | "DYNAMIC" => Status::Miss,
        _ => Status::Unknown,
    }
}

/// `Hit from cloudfront`, `RefreshHit from cloudfront`, `MISS, HIT` (Fastly: shield, then
/// edge), `TCP_MEM_HIT from a1-2-3-4.deploy.akamaitechnologies.com (AkamaiGHost/...)`.
fn x_cache(value: &str) -> Status {
    let last = value.rsplit(',').next().unwrap_or_default();
    let first_word = last
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    if first_word.contains("miss") || first_word.starts_with("error") {
        Status::Miss
    } else if first_word.contains("hit") {
        Status::Hit
    } else {
        Status::Unknown
    }
}

/// Fastly's `X-Cache-Hits: 0, 3`: the edge's count is last.
fn cache_hits(value: &str) -> Status {
    match value
        .rsplit(',')
        .next()
        .map(str::trim)
        .map(str::parse::<u64>)
    {
        Some(Ok(0)) => Status::Miss,
        Some(Ok(_)) => Status::Hit,
        _ => Status::Unknown,
    }
}

/// Varnish's `X-Varnish: 32770` (a miss) or `X-Varnish: 32770 32768` (a hit: the cached
/// object's transaction too).
fn x_varnish(value: &str) -> Status {
    match value.split_whitespace().count() {
        1 => Status::Miss,
        2 => Status::Hit,
        _ => Status::Unknown,
    }
}

fn age(value: &str) -> Status {
    match value.trim().parse::<u64>() {
        Ok(0) => Status::Miss,
        Ok(_) => Status::Hit,
        Err(_) => Status::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        map
    }

    fn status(pairs: &[(&str, &str)]) -> Status {
        read(&headers(pairs)).status
    }

    #[test]
    fn cloudfront() {
        let via = ("Via", "1.1 0f2b.cloudfront.net (CloudFront)");
        let pop = ("X-Amz-Cf-Pop", "FRA56-P5");
        assert_eq!(
            status(&[("X-Cache", "Hit from cloudfront"), via, pop]),
            Status::Hit
        );
        assert_eq!(
            status(&[("X-Cache", "RefreshHit from cloudfront"), via]),
            Status::Hit
        );
        assert_eq!(
            status(&[("X-Cache", "Miss from cloudfront"), via, ("Age", "3")]),
            Status::Miss,
            "X-Cache decides before Age"
        );
        assert_eq!(
            status(&[("X-Cache", "Error from cloudfront")]),
            Status::Miss
        );
    }

    #[test]
    fn fastly() {
        let served = (
            "X-Served-By",
            "cache-iad-kiad7000021-IAD, cache-lhr7329-LHR",
        );
        assert_eq!(
            status(&[served, ("X-Cache", "MISS, HIT"), ("X-Cache-Hits", "0, 1")]),
            Status::Hit
        );
        assert_eq!(
            status(&[served, ("X-Cache", "HIT, MISS"), ("X-Cache-Hits", "4, 0")]),
            Status::Miss,
            "the edge (last) missed, whatever the shield did"
        );
        assert_eq!(status(&[served, ("X-Cache-Hits", "0, 2")]), Status::Hit);
        let seen = read(&headers(&[served, ("X-Cache", "MISS, HIT")]));
        assert_eq!(seen.evidence.as_deref(), Some("X-Cache: MISS, HIT"));
    }

    #[test]
    fn cloudflare() {
        let ray = ("CF-Ray", "8c1d2e3f4a5b6c7d-FRA");
        assert_eq!(
            status(&[("CF-Cache-Status", "HIT"), ray, ("Age", "120")]),
            Status::Hit
        );
        assert_eq!(status(&[("CF-Cache-Status", "MISS"), ray]), Status::Miss);
        assert_eq!(status(&[("CF-Cache-Status", "DYNAMIC"), ray]), Status::Miss);
        assert_eq!(
            status(&[("CF-Cache-Status", "REVALIDATED"), ray]),
            Status::Hit
        );
        assert_eq!(
            status(&[("CF-Cache-Status", "EXPIRED"), ("Age", "9")]),
            Status::Miss
        );
    }

    #[test]
    fn akamai() {
        let hit = "TCP_MEM_HIT from a23-45-67-89.deploy.akamaitechnologies.com (AkamaiGHost/22.1.1-1) (-)";
        assert_eq!(status(&[("X-Cache", hit)]), Status::Hit);
        let miss =
            "TCP_MISS from a23-45-67-89.deploy.akamaitechnologies.com (AkamaiGHost/22.1.1-1) (-)";
        assert_eq!(
            status(&[("X-Cache", miss), ("X-Cache-Remote", "TCP_HIT from b")]),
            Status::Miss
        );
        let refresh = "TCP_REFRESH_HIT from a1.deploy.akamaitechnologies.com";
        assert_eq!(status(&[("X-Cache", refresh)]), Status::Hit);
    }

    #[test]
    fn varnish() {
        assert_eq!(
            status(&[
                ("X-Varnish", "32770 32768"),
                ("Via", "1.1 varnish (Varnish/7.4)")
            ]),
            Status::Hit
        );
        assert_eq!(
            status(&[("X-Varnish", "32770"), ("Age", "0")]),
            Status::Miss
        );
        assert_eq!(
            status(&[("X-Cache", "HIT"), ("X-Varnish", "5")]),
            Status::Hit
        );
    }

    #[test]
    fn nginx_and_rfc9211_and_age() {
        assert_eq!(status(&[("X-Cache-Status", "HIT")]), Status::Hit);
        assert_eq!(status(&[("X-Cache-Status", "MISS")]), Status::Miss);
        assert_eq!(
            status(&[(
                "Cache-Status",
                "OriginCache; fwd=uri-miss, ExampleCDN; hit; ttl=30"
            )]),
            Status::Hit
        );
        assert_eq!(
            status(&[("Cache-Status", "ExampleCDN; hit, Edge; fwd=vary-miss")]),
            Status::Miss
        );
        assert_eq!(status(&[("Age", "42")]), Status::Hit);
        assert_eq!(status(&[("Age", "0")]), Status::Miss);
        assert_eq!(status(&[("Server", "nginx")]), Status::Unknown);
        assert_eq!(status(&[("X-Cache", "somewhere")]), Status::Unknown);
    }
}
