use super::*;

#[test]
fn minimal_config_gets_the_embedded_defaults() {
    let config = Config::from_toml("version = 1\n", "inline").unwrap();
    assert!(config.source.is_none());
    let TransportConfig::Local(log) = &config.transport;
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
        if path.extension().is_some_and(|e| e == "toml") {
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
