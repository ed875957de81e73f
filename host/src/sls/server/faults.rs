//! Fault injection: rules that make matching requests fail or wait, for tests.
//!
//! A rule matches on method and a substring of the path (and optionally of the decoded query,
//! e.g. `type=heartbeat`). A matching request first sleeps `delay`, then, when `status` is set,
//! fails with `{status, code, message}`: `phase = "before"` (the default) fails it without
//! doing anything, `phase = "after"` performs the operation (a PutLogs is durably written) and
//! then answers the error, like a response lost on the way back. `skip` lets that many matching
//! requests through first; `count` bounds how many requests the rule hits (absent: forever).
//!
//! Control: `POST /_wproc/faults` with a rule as JSON adds it (answers `{"id": N}`),
//! `GET /_wproc/faults` lists the rules, `DELETE /_wproc/faults` removes them all. These paths are
//! not authenticated: the server is a test tool.

use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// When a failing rule answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FaultPhase {
    /// Instead of performing the operation.
    #[default]
    Before,
    /// After performing it.
    After,
}

/// One fault rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    /// HTTP method to match (any when absent).
    #[serde(default)]
    pub method: Option<String>,
    /// Substring of the path to match (any when absent), e.g. `/shards/lb`.
    #[serde(default)]
    pub path: Option<String>,
    /// Substring of the decoded query `k=v&k=v` (sorted by key) to match, e.g. `type=heartbeat`.
    #[serde(default)]
    pub query: Option<String>,
    /// Project to match (any when absent).
    #[serde(default)]
    pub project: Option<String>,
    /// Error status to answer (none: only delay).
    #[serde(default)]
    pub status: Option<u16>,
    /// `errorCode` of the error (default from the status: 503 ServerBusy, 403
    /// ShardWriteQuotaExceed, 500 InternalServerError, else ParameterInvalid).
    #[serde(default)]
    pub code: Option<String>,
    /// `errorMessage` of the error.
    #[serde(default)]
    pub message: Option<String>,
    /// Delay before answering, e.g. `"500ms"`.
    #[serde(default, with = "humantime_serde")]
    pub delay: Option<Duration>,
    /// Before or after the operation.
    #[serde(default)]
    pub phase: FaultPhase,
    /// Matching requests let through before the rule starts hitting.
    #[serde(default)]
    pub skip: u32,
    /// Requests the rule hits before it expires (absent: forever).
    #[serde(default)]
    pub count: Option<u32>,
}

impl FaultRule {
    /// Checks the status.
    pub fn validate(&self) -> Result<(), String> {
        match self.status {
            Some(s) if !(400..=599).contains(&s) => {
                Err(format!("fault status {s} is not an error status"))
            }
            _ => Ok(()),
        }
    }

    fn matches(&self, req: &RequestKey<'_>) -> bool {
        self.method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(req.method))
            && self.path.as_deref().is_none_or(|p| req.path.contains(p))
            && self.query.as_deref().is_none_or(|q| req.query.contains(q))
            && self.project.as_deref().is_none_or(|p| p == req.project)
    }

    /// The error code to answer.
    pub fn error_code(&self) -> String {
        if let Some(code) = &self.code {
            return code.clone();
        }
        match self.status {
            Some(503) => "ServerBusy",
            Some(403) => "ShardWriteQuotaExceed",
            Some(s) if s >= 500 => "InternalServerError",
            _ => "ParameterInvalid",
        }
        .to_string()
    }
}

/// What a request is matched on.
pub struct RequestKey<'a> {
    /// Method.
    pub method: &'a str,
    /// Path.
    pub path: &'a str,
    /// Decoded, sorted `k=v&k=v`.
    pub query: &'a str,
    /// Project from the Host header.
    pub project: &'a str,
}

/// What a hit does to the request.
#[derive(Debug, Clone, Default)]
pub struct FaultAction {
    /// Sleep this long first.
    pub delay: Option<Duration>,
    /// Then fail with (status, code, message, phase).
    pub fail: Option<(u16, String, String, FaultPhase)>,
}

#[derive(Debug)]
struct Installed {
    id: u64,
    rule: FaultRule,
    seen: u32,
    hits: u32,
}

/// The active rules.
#[derive(Debug, Default)]
pub struct Faults {
    rules: Mutex<(u64, Vec<Installed>)>,
}

impl Faults {
    /// Adds a rule; returns its id.
    pub fn add(&self, rule: FaultRule) -> u64 {
        let mut guard = self.rules.lock().unwrap_or_else(|p| p.into_inner());
        guard.0 += 1;
        let id = guard.0;
        guard.1.push(Installed {
            id,
            rule,
            seen: 0,
            hits: 0,
        });
        id
    }

    /// Removes every rule.
    pub fn clear(&self) {
        self.rules
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .1
            .clear();
    }

    /// The rules as JSON values (with `id` and `hits`).
    pub fn list(&self) -> Vec<serde_json::Value> {
        let guard = self.rules.lock().unwrap_or_else(|p| p.into_inner());
        guard
            .1
            .iter()
            .map(|r| serde_json::json!({"id": r.id, "hits": r.hits, "rule": r.rule}))
            .collect()
    }

    /// The first rule that hits `req` (counting it), as an action.
    pub fn check(&self, req: &RequestKey<'_>) -> FaultAction {
        let mut guard = self.rules.lock().unwrap_or_else(|p| p.into_inner());
        let rules = &mut guard.1;
        let mut action = FaultAction::default();
        let mut expired = None;
        for (i, r) in rules.iter_mut().enumerate() {
            if !r.rule.matches(req) {
                continue;
            }
            r.seen += 1;
            if r.seen <= r.rule.skip {
                continue;
            }
            r.hits += 1;
            if r.rule.count.is_some_and(|c| r.hits >= c) {
                expired = Some(i);
            }
            action.delay = r.rule.delay;
            action.fail = r.rule.status.map(|status| {
                let code = r.rule.error_code();
                let message = r
                    .rule
                    .message
                    .clone()
                    .unwrap_or_else(|| format!("injected fault {}", r.id));
                (status, code, message, r.rule.phase)
            });
            break;
        }
        if let Some(i) = expired {
            rules.remove(i);
        }
        action
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_skip_count_and_expire() {
        let faults = Faults::default();
        let rule: FaultRule = serde_json::from_str(
            r#"{"method":"post","path":"/shards/lb","status":503,"skip":1,"count":2}"#,
        )
        .unwrap();
        faults.add(rule);
        let put = RequestKey {
            method: "POST",
            path: "/logstores/s/shards/lb",
            query: "",
            project: "p",
        };
        let get = RequestKey {
            method: "GET",
            ..put
        };
        assert!(faults.check(&get).fail.is_none());
        assert!(faults.check(&put).fail.is_none(), "skipped");
        let hit = faults.check(&put).fail.unwrap();
        assert_eq!((hit.0, hit.1.as_str()), (503, "ServerBusy"));
        assert!(faults.check(&put).fail.is_some());
        assert!(faults.check(&put).fail.is_none(), "expired after 2 hits");
        assert!(faults.list().is_empty());
    }
}
