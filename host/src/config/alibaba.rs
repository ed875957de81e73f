//! Alibaba Cloud credentials: from the configuration file, else the standard variables.
//!
//! Resolution, first match wins (the file is explicit, so it beats the ambient environment; a
//! file can still read any variable with `${NAME}`):
//! 1. the file sets `access_key_id` and `access_key_secret` (and optionally
//!    `security_token`): those are used, and the environment is not read;
//! 2. the file sets neither: `ALIBABA_CLOUD_ACCESS_KEY_ID`, `ALIBABA_CLOUD_ACCESS_KEY_SECRET`
//!    and, when set, `ALIBABA_CLOUD_SECURITY_TOKEN` (STS) are used, as by Alibaba Cloud's SDKs
//!    and CLI;
//! 3. otherwise the configuration is invalid, naming the fields and the variables.
//!
//! Setting only one of the pair in the file is an error rather than a silent mix of sources.
//! An empty value counts as unset.

use super::{InvalidField, Secret};

/// Standard variable for the AccessKey ID.
pub const ENV_ACCESS_KEY_ID: &str = "ALIBABA_CLOUD_ACCESS_KEY_ID";
/// Standard variable for the AccessKey secret.
pub const ENV_ACCESS_KEY_SECRET: &str = "ALIBABA_CLOUD_ACCESS_KEY_SECRET";
/// Standard variable for an STS security token.
pub const ENV_SECURITY_TOKEN: &str = "ALIBABA_CLOUD_SECURITY_TOKEN";

/// Credentials as written in a config section (all optional).
#[derive(Clone, Copy, Debug, Default)]
pub struct CredentialFields<'a> {
    /// `access_key_id` from the file.
    pub access_key_id: Option<&'a Secret>,
    /// `access_key_secret` from the file.
    pub access_key_secret: Option<&'a Secret>,
    /// `security_token` from the file.
    pub security_token: Option<&'a Secret>,
}

/// Resolved Alibaba Cloud credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlibabaCredentials {
    /// AccessKey ID.
    pub access_key_id: Secret,
    /// AccessKey secret.
    pub access_key_secret: Secret,
    /// STS security token, sent as `x-acs-security-token`.
    pub security_token: Option<Secret>,
    /// Where they came from, for logs: `"config file"` or `"environment"`.
    pub origin: &'static str,
}

/// Resolves credentials for the section at `section` (e.g. `transport.sls`), reading the
/// process environment. See the module docs for the order.
pub fn alibaba_credentials(
    section: &str,
    fields: CredentialFields<'_>,
) -> Result<AlibabaCredentials, InvalidField> {
    alibaba_credentials_from(section, fields, |name| std::env::var(name).ok())
}

/// [`alibaba_credentials`] with an explicit environment, for tests.
pub fn alibaba_credentials_from(
    section: &str,
    fields: CredentialFields<'_>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<AlibabaCredentials, InvalidField> {
    let set = |s: Option<&Secret>| s.filter(|s| !s.expose().is_empty()).cloned();
    match (set(fields.access_key_id), set(fields.access_key_secret)) {
        (Some(access_key_id), Some(access_key_secret)) => Ok(AlibabaCredentials {
            access_key_id,
            access_key_secret,
            security_token: set(fields.security_token),
            origin: "config file",
        }),
        (Some(_), None) | (None, Some(_)) => Err(InvalidField::new(
            section,
            "set both access_key_id and access_key_secret, or neither (then \
             ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET are read)",
        )),
        (None, None) => {
            if set(fields.security_token).is_some() {
                return Err(InvalidField::new(
                    format!("{section}.security_token"),
                    "a security token needs access_key_id and access_key_secret in the file",
                ));
            }
            let var = |name: &str| env(name).filter(|v| !v.is_empty()).map(Secret::new);
            match (var(ENV_ACCESS_KEY_ID), var(ENV_ACCESS_KEY_SECRET)) {
                (Some(access_key_id), Some(access_key_secret)) => Ok(AlibabaCredentials {
                    access_key_id,
                    access_key_secret,
                    security_token: var(ENV_SECURITY_TOKEN),
                    origin: "environment",
                }),
                _ => Err(InvalidField::new(
                    section,
                    format!(
                        "no credentials: set access_key_id and access_key_secret (e.g. \
                         \"${{MY_VAR}}\"), or the variables {ENV_ACCESS_KEY_ID} and \
                         {ENV_ACCESS_KEY_SECRET} (and {ENV_SECURITY_TOKEN} for STS)"
                    ),
                )),
            }
        }
    }
}
