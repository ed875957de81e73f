//! Request authentication: v1 signatures against the configured access keys.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use http::HeaderMap;

use super::config::AccessKeyConfig;
use super::error::ApiError;
use crate::config::Secret;
use crate::sls::sign;

/// Largest accepted clock difference (as the service).
pub const MAX_SKEW: Duration = Duration::from_secs(15 * 60);

/// The configured keys.
pub struct Authenticator {
    keys: HashMap<String, (Secret, Option<Secret>)>,
    check_date: bool,
}

impl Authenticator {
    /// From the configuration; no keys means no authentication.
    pub fn new(keys: &[AccessKeyConfig], check_date: bool) -> Self {
        Self {
            keys: keys
                .iter()
                .map(|k| (k.id.clone(), (k.secret.clone(), k.security_token.clone())))
                .collect(),
            check_date,
        }
    }

    /// Checks the `Authorization` header of a request (path and decoded query as received).
    pub fn check(
        &self,
        method: &str,
        headers: &HeaderMap,
        path: &str,
        query: &[(String, String)],
        now: SystemTime,
    ) -> Result<(), ApiError> {
        if self.keys.is_empty() {
            return Ok(());
        }
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let date = header("date")
            .ok_or_else(|| ApiError::new(400, "MissingDate", "the Date header is required"))?;
        if self.check_date {
            let when = parse_date(date).ok_or_else(|| {
                ApiError::new(400, "InvalidDateFormat", format!("invalid Date {date:?}"))
            })?;
            let skew = now.duration_since(when).unwrap_or_else(|e| e.duration());
            if skew > MAX_SKEW {
                return Err(ApiError::new(
                    400,
                    "RequestTimeTooSkewed",
                    format!(
                        "Date {date:?} is {}s off the server's clock",
                        skew.as_secs()
                    ),
                ));
            }
        }
        let auth = header("authorization").ok_or_else(|| {
            ApiError::new(401, "Unauthorized", "the Authorization header is required")
        })?;
        if auth.starts_with("SLS4-HMAC-SHA256") {
            return Err(ApiError::new(
                401,
                "SignatureNotMatch",
                "signature v4 is not supported by this server; use v1",
            ));
        }
        let (akid, signature) = sign::parse_authorization(auth).ok_or_else(|| {
            ApiError::new(401, "Unauthorized", "the Authorization header is malformed")
        })?;
        let (secret, token) = self.keys.get(akid).ok_or_else(|| {
            ApiError::new(
                401,
                "Unauthorized",
                format!("AccessKeyId {akid} is not found"),
            )
        })?;
        if let Some(token) = token
            && header("x-acs-security-token") != Some(token.expose())
        {
            return Err(ApiError::new(
                401,
                "Unauthorized",
                "the security token is missing or wrong",
            ));
        }
        let to_sign = sign::string_to_sign(method, headers, path, query);
        let expected = sign::signature(secret.expose(), &to_sign);
        if !sign::signatures_equal(&expected, signature) {
            // The string to sign is not secret: it helps clients find what differs.
            return Err(ApiError::new(
                401,
                "SignatureNotMatch",
                format!(
                    "signature {signature} does not match; the server signed {:?}",
                    to_sign
                ),
            ));
        }
        Ok(())
    }
}

/// RFC 1123 dates, also with a one-digit day and a wrong weekday (the Go SDK's test date
/// `Mon, 3 Jan 2010 08:33:47 GMT` is a Sunday).
pub fn parse_date(text: &str) -> Option<SystemTime> {
    let text = text.trim();
    if let Ok(t) = httpdate::parse_http_date(text) {
        return Some(t);
    }
    let (_, rest) = text.split_once(", ")?;
    let (day, rest) = rest.split_once(' ')?;
    let day = if day.len() == 1 {
        format!("0{day}")
    } else {
        day.to_string()
    };
    ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        .iter()
        .find_map(|wday| httpdate::parse_http_date(&format!("{wday}, {day} {rest}")).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn accepts_good_signatures_and_names_what_is_wrong() {
        let auth = Authenticator::new(
            &[AccessKeyConfig {
                id: "ak".into(),
                secret: Secret::new("aksecret"),
                security_token: None,
            }],
            true,
        );
        let mut h = HeaderMap::new();
        h.insert(
            "date",
            HeaderValue::from_static("Tue, 24 Nov 2026 00:26:34 GMT"),
        );
        h.insert("x-log-apiversion", HeaderValue::from_static("0.6.0"));
        h.insert("x-log-bodyrawsize", HeaderValue::from_static("0"));
        h.insert(
            "x-log-signaturemethod",
            HeaderValue::from_static("hmac-sha1"),
        );
        h.insert(
            "authorization",
            HeaderValue::from_static("LOG ak:4Q84plBitT8hQ3by6NRwtOfXIj0="),
        );
        let q = vec![
            ("type".to_string(), "cursor".to_string()),
            ("from".to_string(), "begin".to_string()),
        ];
        let when = parse_date("Tue, 24 Nov 2026 00:30:00 GMT").unwrap();
        let path = "/logstores/store/shards/0";
        auth.check("GET", &h, path, &q, when).unwrap();
        let e = auth
            .check("GET", &h, "/logstores/other/shards/0", &q, when)
            .unwrap_err();
        assert_eq!((e.status, e.code.as_str()), (401, "SignatureNotMatch"));
        let later = when + Duration::from_secs(3600);
        assert_eq!(
            auth.check("GET", &h, path, &q, later).unwrap_err().code,
            "RequestTimeTooSkewed"
        );
        h.insert("authorization", HeaderValue::from_static("LOG other:x"));
        assert_eq!(
            auth.check("GET", &h, path, &q, when).unwrap_err().code,
            "Unauthorized"
        );
        assert!(parse_date("Mon, 3 Jan 2010 08:33:47 GMT").is_some());
    }
}
