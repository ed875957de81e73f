use super::*;

#[test]
fn minimal_config_gets_the_embedded_defaults() {
    let config = Config::from_toml("version = 1\n", "inline").unwrap();
    assert!(config.source.is_none());
    let TransportConfig::Local(log) = &config.transport else {
        panic!("the default transport is the local log")
    };
    assert_eq!(log.dir, std::path::PathBuf::from("wproc-data/log"));
    let SinkConfig::Files(files) = &config.sink else {
        panic!("the default sink is files")
    };
    assert_eq!(files.path, "{db}/{table}/dt={date}");
}

#[test]
fn unknown_keys_are_rejected_with_their_place() {
    let err = Config::from_toml("version = 1\n[sink.files]\ndirr = \"x\"\n", "f.toml").unwrap_err();
    let text = err.to_string();
    assert!(text.contains("f.toml") && text.contains("dirr"), "{text}");
}

#[test]
fn version_is_checked() {
    let err = Config::from_toml("version = 2\n", "f.toml").unwrap_err();
    assert!(err.to_string().contains("`version`"), "{err}");
}

#[test]
fn env_substitution_and_secrets() {
    let lookup = |name: &str| (name == "PW").then(|| "s3cret".to_owned());
    assert_eq!(
        substitute_env("a=${PW} b=$${PW} c=$x", lookup).unwrap(),
        "a=s3cret b=${PW} c=$x"
    );
    let err = substitute_env("line1\npassword = \"${MISSING}\"", lookup).unwrap_err();
    assert!(err.contains("line 2") && err.contains("MISSING"), "{err}");
    assert!(substitute_env("${bad name}", lookup).is_err());
    assert_eq!(format!("{:?}", Secret::new("s3cret")), "***");
}

#[test]
fn bad_values_name_the_field() {
    let text = "version = 1\n[source.mysql]\nuser = \"u\"\nserver_id = 0\n";
    let err = Config::from_toml(text, "f.toml").unwrap_err();
    assert!(err.to_string().contains("source.mysql.server_id"), "{err}");
    let text = "version = 1\n[sink.files]\npath = \"{nope}\"\n";
    assert!(
        Config::from_toml(text, "f.toml")
            .unwrap_err()
            .to_string()
            .contains("sink.files.path")
    );
    let text = "version = 1\n[source.mysql]\nuser = \"u\"\nstart = \"bogus\"\n";
    assert!(
        Config::from_toml(text, "f.toml")
            .unwrap_err()
            .to_string()
            .contains("FILE:OFFSET")
    );
}

#[test]
fn example_configs_are_valid() {
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut checked = 0;
    for entry in std::fs::read_dir(&examples).unwrap() {
        let path = entry.unwrap().path();
        // `sls-server*.toml` configure `wproc sls-server`, not a pipeline: the SLS server's own
        // tests parse them.
        let server_config = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("sls-server"));
        if path.extension().is_some_and(|e| e == "toml") && !server_config {
            let text = std::fs::read_to_string(&path).unwrap();
            let lookup = |_: &str| Some("placeholder".to_owned());
            let text = substitute_env(&text, lookup).unwrap();
            let config: Config =
                toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            config
                .validate()
                .unwrap_or_else(|e| panic!("{}: {}", path.display(), e.message));
            checked += 1;
        }
    }
    assert!(
        checked > 0,
        "no example configs found in {}",
        examples.display()
    );
}

#[test]
fn unknown_keys_name_their_full_path_and_line() {
    let text = "version = 1\n[sink.files]\nmax_evnts = 3\n";
    let err = Config::from_toml(text, "f.toml").unwrap_err().to_string();
    assert!(err.contains("`sink.files.max_evnts`"), "{err}");
    assert!(err.contains("line 3"), "{err}");
    let text = "version = 1\n[telemetry]\nlisten = \"127.0.0.1:9184\"\nlsten = 1\n";
    let err = Config::from_toml(text, "f.toml").unwrap_err().to_string();
    assert!(
        err.contains("`telemetry.lsten`") && err.contains("line 4"),
        "{err}"
    );
}

#[test]
fn telemetry_and_shutdown_defaults() {
    let config = Config::from_toml("version = 1\n", "inline").unwrap();
    assert_eq!(config.telemetry.listen, None);
    assert_eq!(
        config.shutdown.drain_timeout,
        std::time::Duration::from_secs(30)
    );
    let text = "version = 1\n[shutdown]\ndrain_timeout = \"0s\"\n";
    let err = Config::from_toml(text, "f.toml").unwrap_err().to_string();
    assert!(err.contains("shutdown.drain_timeout"), "{err}");
}

#[test]
fn overrides_replace_file_values_and_are_checked_like_the_file() {
    let text = "version = 1\n[sink.files]\ndir = \"from-file\"\nmax_events = 7\n";
    let overrides: Vec<Override> = [
        "sink.files.dir=from-cli",
        "sink.files.max_wait=250ms",
        "telemetry.listen=127.0.0.1:0",
        "transport.local.shards=4",
    ]
    .iter()
    .map(|s| s.parse().unwrap())
    .collect();
    let config = Config::from_toml_with(text, "f.toml", &overrides).unwrap();
    let SinkConfig::Files(files) = &config.sink else {
        panic!("files sink expected")
    };
    assert_eq!(files.dir, std::path::PathBuf::from("from-cli"));
    assert_eq!(files.max_events.get(), 7, "values not overridden stay");
    assert_eq!(files.max_wait, std::time::Duration::from_millis(250));
    assert_eq!(config.telemetry.listen.unwrap().port(), 0);
    let TransportConfig::Local(log) = &config.transport else {
        panic!("the transport is the local log")
    };
    assert_eq!(log.shards.get(), 4, "a TOML integer stays an integer");

    // Later overrides win.
    let later: Vec<Override> = ["sink.files.dir=a", "sink.files.dir=b"]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
    let config = Config::from_toml_with(text, "f.toml", &later).unwrap();
    let SinkConfig::Files(files) = &config.sink else {
        panic!("files sink expected")
    };
    assert_eq!(files.dir, std::path::PathBuf::from("b"));

    let typo: Override = "sink.files.max_evnts=1".parse().unwrap();
    let err = Config::from_toml_with(text, "f.toml", &[typo])
        .unwrap_err()
        .to_string();
    assert!(err.contains("`sink.files.max_evnts`"), "{err}");
    let bad_value: Override = "sink.files.max_wait=soon".parse().unwrap();
    let err = Config::from_toml_with(text, "f.toml", &[bad_value])
        .unwrap_err()
        .to_string();
    assert!(err.contains("sink.files.max_wait"), "{err}");
    let through_value: Override = "version.x=1".parse().unwrap();
    assert!(Config::from_toml_with(text, "f.toml", &[through_value]).is_err());
}

#[test]
fn secrets_cannot_be_overridden_on_the_command_line() {
    for key in [
        "source.mysql.password",
        "transport.sls.access_key_secret",
        "transport.sls.access_key_id",
        "transport.sls.security_token",
    ] {
        let err = format!("{key}=x").parse::<Override>().unwrap_err();
        assert!(err.contains("secret"), "{key}: {err}");
    }
    assert!("no-equals-sign".parse::<Override>().is_err());
    assert!("a..b=1".parse::<Override>().is_err());
    assert_eq!(
        "a.b=\"quoted\"".parse::<Override>().unwrap().value,
        toml::Value::String("quoted".into())
    );
    assert_eq!(
        "a.b=true".parse::<Override>().unwrap().value,
        toml::Value::Boolean(true)
    );
}

#[test]
fn alibaba_credentials_prefer_the_file_then_the_standard_variables() {
    let env = |name: &str| match name {
        "ALIBABA_CLOUD_ACCESS_KEY_ID" => Some("env-id".to_owned()),
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET" => Some("env-secret".to_owned()),
        "ALIBABA_CLOUD_SECURITY_TOKEN" => Some("env-token".to_owned()),
        _ => None,
    };
    let no_env = |_: &str| None;
    let (id, secret, token) = (
        Secret::new("file-id"),
        Secret::new("file-secret"),
        Secret::new("file-token"),
    );

    // The file sets the pair: used, the environment ignored (even its token).
    let fields = CredentialFields {
        access_key_id: Some(&id),
        access_key_secret: Some(&secret),
        security_token: None,
    };
    let c = alibaba_credentials_from("transport.sls", fields, env).unwrap();
    assert_eq!(
        (c.access_key_id.expose(), c.access_key_secret.expose()),
        ("file-id", "file-secret")
    );
    assert_eq!(c.security_token, None);
    assert_eq!(c.origin, "config file");
    let with_token = CredentialFields {
        security_token: Some(&token),
        ..fields
    };
    let c = alibaba_credentials_from("transport.sls", with_token, env).unwrap();
    assert_eq!(c.security_token.unwrap().expose(), "file-token");

    // The file sets nothing: the three standard variables.
    let c = alibaba_credentials_from("transport.sls", CredentialFields::default(), env).unwrap();
    assert_eq!(
        (
            c.access_key_id.expose(),
            c.access_key_secret.expose(),
            c.security_token.as_ref().map(Secret::expose)
        ),
        ("env-id", "env-secret", Some("env-token"))
    );
    assert_eq!(c.origin, "environment");
    assert_eq!(format!("{c:?}").matches("***").count(), 3, "{c:?}");

    // Half a pair in the file is an error, not a mix with the environment.
    let half = CredentialFields {
        access_key_id: Some(&id),
        ..Default::default()
    };
    let err = alibaba_credentials_from("transport.sls", half, env).unwrap_err();
    assert_eq!(err.field, "transport.sls");
    // Nothing anywhere: the error names the variables.
    let err =
        alibaba_credentials_from("transport.sls", CredentialFields::default(), no_env).unwrap_err();
    assert!(
        err.message.contains("ALIBABA_CLOUD_ACCESS_KEY_ID"),
        "{}",
        err.message
    );
    // Empty values count as unset.
    let empty = Secret::new("");
    let blank = CredentialFields {
        access_key_id: Some(&empty),
        access_key_secret: Some(&empty),
        security_token: None,
    };
    let c = alibaba_credentials_from("transport.sls", blank, env).unwrap();
    assert_eq!(c.origin, "environment");
}

/// Rows of the reference tables: (key, default cell) for every "| `key` | … |" line.
fn documented_keys(doc: &str) -> Vec<(String, String)> {
    doc.lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            // "", key, type, default, meaning, ""
            if cells.len() < 5 {
                return None;
            }
            let key = cells[1].strip_prefix('`')?.strip_suffix('`')?;
            key.contains('.')
                .then(|| (key.to_owned(), cells[3].to_owned()))
                .or_else(|| (key == "version").then(|| (key.to_owned(), cells[3].to_owned())))
        })
        .collect()
}

/// Dotted keys set in an example file, commented-out ones (`# key = value`) included.
fn example_keys(text: &str) -> Vec<String> {
    let mut section = String::new();
    let mut keys = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        let body = line.strip_prefix('#').map(str::trim).unwrap_or(line);
        if let Some(header) = line.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            section = header.trim_matches(['[', ']']).to_owned();
            continue;
        }
        let Some((key, _)) = body.split_once('=') else {
            continue;
        };
        let key = key.trim();
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
            continue;
        }
        keys.push(if section.is_empty() {
            key.to_owned()
        } else {
            format!("{section}.{key}")
        });
    }
    keys
}

/// The section of a dotted key (`sink.files` for `sink.files.dir`; `""` for `version`).
fn section_of(key: &str) -> &str {
    key.rsplit_once('.').map_or("", |(section, _)| section)
}

/// Which example shows which sections of the reference, and a minimal valid configuration with
/// those sections, against which their documented defaults are checked.
const REFERENCE_EXAMPLES: [(&str, &[&str], &str); 3] = [
    (
        "examples/wproc.toml",
        &[
            "",
            "source.mysql",
            "source.mysql.filter",
            "transport.local",
            "sink.files",
            "telemetry",
            "shutdown",
        ],
        "version = 1\n[source.mysql]\nuser = \"u\"\n",
    ),
    (
        "examples/sls.toml",
        &["transport.sls", "transport.sls.consumer"],
        "version = 1\n[transport.sls]\nendpoint = \"cn-hangzhou.log.aliyuncs.com\"\n\
         project = \"p\"\nlogstore = \"l\"\n",
    ),
    (
        "examples/hdfs.toml",
        &["sink.hdfs"],
        "version = 1\n[sink.hdfs]\n",
    ),
];

#[test]
fn configuration_reference_matches() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let doc = std::fs::read_to_string(root.join("docs/configuration.md")).unwrap();
    let documented = documented_keys(&doc);
    assert!(documented.len() > 20, "reference tables not found");
    for (key, _) in &documented {
        assert!(
            REFERENCE_EXAMPLES
                .iter()
                .any(|(_, sections, _)| sections.contains(&section_of(key))),
            "{key}: no example in REFERENCE_EXAMPLES shows its section"
        );
    }

    for (file, sections, base) in REFERENCE_EXAMPLES {
        let example = std::fs::read_to_string(root.join(file)).unwrap();
        let ours = |key: &str| sections.contains(&section_of(key));

        // The example uses exactly the documented keys of its sections.
        let mut in_doc: Vec<&str> = documented
            .iter()
            .map(|(k, _)| k.as_str())
            .filter(|k| ours(k))
            .collect();
        let mut in_example: Vec<String> = example_keys(&example)
            .into_iter()
            .filter(|k| ours(k))
            .collect();
        in_doc.sort_unstable();
        in_example.sort_unstable();
        assert_eq!(
            in_doc, in_example,
            "docs/configuration.md and {file} list different keys of {sections:?}"
        );

        // Every documented key exists, and its documented default is the real default.
        let defaults = format!("{:?}", Config::from_toml(base, "base").unwrap());
        for (key, default) in documented.iter().filter(|(k, _)| ours(k)) {
            let Some(literal) = default.strip_prefix('`').and_then(|d| d.strip_suffix('`')) else {
                // "required" or "—": no default to compare; the key must still exist and take
                // a value of its type.
                let value = sample_value(key).unwrap_or_else(|| {
                    panic!("{key} has no documented default: add a value to sample_value")
                });
                with_value(base, key, value)
                    .unwrap_or_else(|e| panic!("documented key {key} = {value}: {e}"));
                continue;
            };
            let o = Override {
                key: key.clone(),
                value: overrides::parse_value(literal),
            };
            let config = Config::from_toml_with(base, "doc", &[o])
                .unwrap_or_else(|e| panic!("documented key {key} = {literal}: {e}"));
            assert_eq!(
                format!("{config:?}"),
                defaults,
                "{key}: the documented default {literal} is not the default"
            );
        }
    }
}

/// A value for a documented key without a default (required, or absent unless set).
fn sample_value(key: &str) -> Option<&'static str> {
    Some(match key {
        "version" => "1",
        "source.mysql.user" => "u",
        "source.mysql.password" => "x",
        "telemetry.listen" => "127.0.0.1:9184",
        "transport.sls.endpoint" => "http://127.0.0.1:8080",
        "transport.sls.project" => "other-project",
        "transport.sls.logstore" => "other_logstore",
        "transport.sls.access_key_id" => "id",
        "transport.sls.access_key_secret" | "transport.sls.security_token" => "x",
        "transport.sls.source" => "some-host",
        "transport.sls.host" => "10.0.0.5",
        "transport.sls.consumer.name" => "consumer-1",
        "sink.hdfs.url" => "hdfs://namenode:8020",
        "sink.hdfs.config_dir" => "/etc/hadoop/conf",
        "sink.hdfs.user" => "etl",
        "sink.hdfs.kerberos_principal" => "wproc/host@EXAMPLE.COM",
        "sink.hdfs.kerberos_keytab" => "/etc/wproc.keytab",
        "sink.hdfs.kerberos_cache" => "/tmp/krb5cc_1000",
        _ => return None,
    })
}

/// Parses `base` with `key` set to `value` (a TOML value or a bare string). Only parses, without
/// [`Config::validate`]: a key such as `access_key_id` is valid only together with another.
/// Secret keys are set here although `--set` refuses them.
fn with_value(base: &str, key: &str, value: &str) -> Result<Config, String> {
    let mut table: toml::Table = toml::from_str(base).map_err(|e| e.to_string())?;
    let o = Override {
        key: key.to_owned(),
        value: overrides::parse_value(value),
    };
    overrides::apply(&mut table, &o)?;
    Config::deserialize(toml::Value::Table(table)).map_err(|e| e.to_string())
}
