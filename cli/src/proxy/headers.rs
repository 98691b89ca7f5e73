//! The header fields a reverse proxy owns: those of one connection (hop-by-hop), those that
//! say who the client was (`X-Forwarded-*`, `Forwarded`, `X-Real-IP`), `Via`, and the
//! `Host` every URL the proxy writes is built from.
//!
//! Order matters: the hop-by-hop fields (including those a peer names in `Connection`) are
//! removed *before* the forwarding fields are set, so that a client naming
//! `X-Forwarded-For` in `Connection` cannot make the application see the proxy as the
//! client (the class of Apache's CVE-2022-31813).

use http::{HeaderMap, HeaderName, HeaderValue, header};
use ipnet::IpNet;
use std::net::IpAddr;

/// Header fields that belong to one connection, not to the message (RFC 9110 §7.6.1), and
/// `Proxy-Connection`, the pre-standard spelling some clients still send.
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "proxy-connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// The fields that say who the client was. From an untrusted peer they are dropped.
const FORWARDING: [&str; 7] = [
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-forwarded-host",
    "x-forwarded-port",
    "x-forwarded-prefix",
    "x-real-ip",
];

/// Fields a `Connection` header may not remove: the message's target and framing. (The
/// forwarding fields are set after the removal, so naming them removes only the peer's.)
const PROTECTED: [&str; 2] = ["host", "content-length"];

/// What the proxy calls itself in `Via`.
pub const VIA: &str = "1.1 cachebust";

/// Removes the hop-by-hop fields and the fields `Connection` names (except [`PROTECTED`]
/// ones). With `keep_upgrade`, `Upgrade` and a `Connection: upgrade` stay (a tunnel
/// being set up).
pub fn remove_hop_by_hop(headers: &mut HeaderMap, keep_upgrade: bool) {
    let named: Vec<String> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|n| n.trim().to_ascii_lowercase())
        .filter(|n| !n.is_empty() && !PROTECTED.contains(&n.as_str()))
        .collect();
    let upgrade = keep_upgrade
        .then(|| headers.get(header::UPGRADE).cloned())
        .flatten();
    for name in HOP_BY_HOP
        .iter()
        .copied()
        .chain(named.iter().map(String::as_str))
    {
        headers.remove(name);
    }
    if let Some(upgrade) = upgrade {
        headers.insert(header::UPGRADE, upgrade);
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    }
}

/// Whether a request asks to switch protocols (a WebSocket): `Upgrade`, and `upgrade` among
/// the `Connection` options.
pub fn is_upgrade(headers: &HeaderMap) -> bool {
    headers.contains_key(header::UPGRADE)
        && headers
            .get_all(header::CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|option| option.trim().eq_ignore_ascii_case("upgrade"))
}

/// Appends the proxy to `Via` (RFC 9110 §7.6.3), in requests and responses alike.
pub fn add_via(headers: &mut HeaderMap) {
    let value = match headers.get(header::VIA).and_then(|v| v.to_str().ok()) {
        Some(earlier) if !earlier.trim().is_empty() => format!("{earlier}, {VIA}"),
        _ => VIA.to_owned(),
    };
    if let Ok(value) = HeaderValue::from_str(&value) {
        headers.insert(header::VIA, value);
    }
}

/// The address ranges whose forwarding fields are trusted (`--trusted-proxy`).
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Reads `--trusted-proxy` values: an address (`10.0.0.7`, `::1`) or a range
    /// (`10.0.0.0/8`).
    pub fn parse(values: &[String]) -> anyhow::Result<Self> {
        values
            .iter()
            .map(|value| {
                let value = value.trim();
                value
                    .parse::<IpNet>()
                    .or_else(|_| value.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        anyhow::anyhow!(
                            "--trusted-proxy {value:?}: not an address or CIDR range (such as 10.0.0.0/8)"
                        )
                    })
            })
            .collect::<anyhow::Result<Vec<_>>>()
            .map(TrustedProxies)
    }

    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }
}

/// An IPv4 address mapped into IPv6 (`::ffff:10.0.0.1`, how a dual-stack socket reports an
/// IPv4 peer) as the IPv4 address it is.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Who the request came from, as the forwarding fields will say.
pub struct Client<'a> {
    /// The peer of the connection.
    pub peer: IpAddr,
    /// The scheme the client spoke to the proxy.
    pub scheme: &'a str,
    /// The client's `Host`, validated.
    pub host: Option<&'a str>,
}

/// Sets the forwarding fields. A trusted peer's are kept and appended to, and `X-Real-IP`
/// is the last address in `X-Forwarded-For` that is not a trusted proxy (nginx's
/// `real_ip_recursive`); anyone else's are replaced by what the proxy saw.
pub fn set_forwarding(headers: &mut HeaderMap, client: &Client<'_>, trusted: &TrustedProxies) {
    let peer = canonical(client.peer);
    let trust = trusted.trusts(peer);
    // Every X-Forwarded-For line, in order: a list may be split over several.
    let earlier: Vec<String> = if trust {
        headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_owned)
            .collect()
    } else {
        Vec::new()
    };
    let forwarded_earlier: Vec<String> = if trust {
        headers
            .get_all("forwarded")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_owned)
            .collect()
    } else {
        Vec::new()
    };
    if !trust {
        for name in FORWARDING {
            headers.remove(name);
        }
    }
    let mut chain = earlier;
    chain.push(peer.to_string());
    let real = chain
        .iter()
        .rev()
        .find(|a| a.parse::<IpAddr>().map_or(true, |ip| !trusted.trusts(ip)))
        .unwrap_or(&chain[0])
        .clone();
    set(headers, "x-forwarded-for", &chain.join(", "));
    set(headers, "x-real-ip", &real);
    if !trust || !headers.contains_key("x-forwarded-proto") {
        set(headers, "x-forwarded-proto", client.scheme);
    }
    if let Some(host) = client.host
        && (!trust || !headers.contains_key("x-forwarded-host"))
    {
        set(headers, "x-forwarded-host", host);
    }
    // RFC 7239: an IPv6 address is quoted and bracketed.
    let node = match peer {
        IpAddr::V6(v6) => format!("\"[{v6}]\""),
        IpAddr::V4(v4) => v4.to_string(),
    };
    let mut element = format!("for={node};proto={}", client.scheme);
    if let Some(host) = client.host {
        element.push_str(&format!(";host=\"{host}\""));
    }
    let mut forwarded = forwarded_earlier;
    forwarded.push(element);
    set(headers, "forwarded", &forwarded.join(", "));
}

fn set(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(HeaderName::from_static(name), value);
    }
}

/// Why a request's `Host` is refused.
#[derive(Debug, PartialEq, Eq)]
pub enum BadHost {
    Missing,
    Several,
    Invalid,
}

impl BadHost {
    pub fn message(&self) -> &'static str {
        match self {
            BadHost::Missing => "a Host header field is required\n",
            BadHost::Several => "more than one Host header field\n",
            BadHost::Invalid => "the Host header field is not a host[:port]\n",
        }
    }
}

/// The request's `Host`, checked as RFC 9112 §3.2 asks: exactly one in HTTP/1.1 (none is
/// allowed in HTTP/1.0), of the form `uri-host [":" port]` (no user information, path,
/// query or anything else a URL would read as the authority's end). An absolute-form
/// target's authority replaces `Host`, which must then still be a single valid field.
pub fn valid_host(headers: &HeaderMap, http10: bool) -> Result<Option<String>, BadHost> {
    let mut values = headers.get_all(header::HOST).iter();
    let Some(value) = values.next() else {
        return if http10 {
            Ok(None)
        } else {
            Err(BadHost::Missing)
        };
    };
    if values.next().is_some() {
        return Err(BadHost::Several);
    }
    let host = value.to_str().map_err(|_| BadHost::Invalid)?;
    if is_authority(host) {
        Ok(Some(host.to_ascii_lowercase()))
    } else {
        Err(BadHost::Invalid)
    }
}

/// `uri-host [":" port]`: a reg-name (unreserved, sub-delims, percent-encodings), an IPv4
/// address or a bracketed IPv6 literal, then an optional all-digit port.
pub fn is_authority(text: &str) -> bool {
    if text.is_empty() || text.len() > 255 {
        return false;
    }
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let Some(end) = rest.find(']') else {
            return false;
        };
        if rest[..end].parse::<std::net::Ipv6Addr>().is_err() {
            return false;
        }
        let after = &rest[end + 1..];
        match after.strip_prefix(':') {
            Some(port) => (None, Some(port)),
            None if after.is_empty() => (None, None),
            None => return false,
        }
    } else {
        match text.rsplit_once(':') {
            Some((host, port)) => (Some(host), Some(port)),
            None => (Some(text), None),
        }
    };
    if let Some(port) = port {
        if port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
        if port.parse::<u32>().map_or(true, |p| p > 65535) {
            return false;
        }
    }
    match host {
        None => true,
        Some(host) => {
            !host.is_empty()
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=%".contains(&b))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(fields: &[(&str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in fields {
            headers.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        headers
    }

    #[test]
    fn connection_cannot_remove_host_or_the_forwarding_fields() {
        let mut headers = map(&[
            ("host", "site.test"),
            (
                "connection",
                "close, X-Forwarded-For, host, x-real-ip, cookie",
            ),
            ("x-forwarded-for", "6.6.6.6"),
            ("cookie", "a=1"),
            ("proxy-connection", "keep-alive"),
        ]);
        remove_hop_by_hop(&mut headers, false);
        assert!(headers.contains_key("host"));
        assert!(!headers.contains_key("cookie"));
        assert!(!headers.contains_key("proxy-connection"));
        let client = Client {
            peer: "192.0.2.9".parse().unwrap(),
            scheme: "http",
            host: Some("site.test"),
        };
        set_forwarding(&mut headers, &client, &TrustedProxies::default());
        assert_eq!(headers["x-forwarded-for"], "192.0.2.9");
        assert_eq!(headers["x-real-ip"], "192.0.2.9");
        assert_eq!(
            headers["forwarded"],
            "for=192.0.2.9;proto=http;host=\"site.test\""
        );
    }

    #[test]
    fn untrusted_forwarding_fields_are_replaced_trusted_ones_appended() {
        let spoofed = [
            ("x-forwarded-for", "1.1.1.1"),
            ("x-forwarded-for", "2.2.2.2, 10.0.0.3"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "evil.test"),
            ("x-forwarded-port", "1"),
            ("x-forwarded-prefix", "/evil"),
            ("x-real-ip", "1.1.1.1"),
            ("forwarded", "for=1.1.1.1"),
        ];
        let client = Client {
            peer: "10.0.0.2".parse().unwrap(),
            scheme: "http",
            host: Some("site.test"),
        };
        let mut headers = map(&spoofed);
        set_forwarding(&mut headers, &client, &TrustedProxies::default());
        assert_eq!(headers["x-forwarded-for"], "10.0.0.2");
        assert_eq!(headers["x-forwarded-proto"], "http");
        assert_eq!(headers["x-forwarded-host"], "site.test");
        assert_eq!(headers["x-real-ip"], "10.0.0.2");
        assert!(!headers.contains_key("x-forwarded-port"));
        assert!(!headers.contains_key("x-forwarded-prefix"));
        assert_eq!(headers.get_all("forwarded").iter().count(), 1);

        let trusted = TrustedProxies::parse(&["10.0.0.0/8".into()]).unwrap();
        let mut headers = map(&spoofed);
        set_forwarding(&mut headers, &client, &trusted);
        assert_eq!(
            headers["x-forwarded-for"],
            "1.1.1.1, 2.2.2.2, 10.0.0.3, 10.0.0.2"
        );
        // The last address not a trusted proxy's.
        assert_eq!(headers["x-real-ip"], "2.2.2.2");
        assert_eq!(headers["x-forwarded-proto"], "https");
        assert_eq!(headers["x-forwarded-host"], "evil.test");
        assert_eq!(
            headers["forwarded"],
            "for=1.1.1.1, for=10.0.0.2;proto=http;host=\"site.test\""
        );
        // An IPv4 peer seen through a dual-stack socket is the same peer.
        assert!(trusted.trusts("::ffff:10.1.2.3".parse().unwrap()));
        assert!(TrustedProxies::parse(&["10.0.0.0/33".into()]).is_err());
        assert!(TrustedProxies::parse(&["::1".into()]).is_ok());
    }

    #[test]
    fn hosts_as_rfc_9112_has_them() {
        for good in [
            "site.test",
            "site.test:8080",
            "127.0.0.1:1",
            "[::1]:80",
            "[::1]",
            "xn--bcher-kva.example",
        ] {
            assert!(is_authority(good), "{good}");
        }
        for bad in [
            "a@evil.example",
            "evil.example/x?",
            "evil.example/",
            "site.test:",
            "site.test:99999",
            "site.test:8a",
            "[::1",
            "[nope]",
            "a b",
            "",
            "site.test#x",
        ] {
            assert!(!is_authority(bad), "{bad}");
        }
        assert_eq!(valid_host(&map(&[]), false), Err(BadHost::Missing));
        assert_eq!(valid_host(&map(&[]), true), Ok(None));
        assert_eq!(
            valid_host(&map(&[("host", "a.test"), ("host", "b.test")]), false),
            Err(BadHost::Several)
        );
        assert_eq!(
            valid_host(&map(&[("host", "A.Test")]), false),
            Ok(Some("a.test".into()))
        );
    }
}
