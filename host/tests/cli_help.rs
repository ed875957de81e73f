//! `--help` is complete and agrees with the README: every command and subcommand answers
//! `--help` with exit 0, every argument has a help text, every flag the README documents for a
//! command appears in that command's help, and every command has a README section (sections
//! marked "in progress" are for commands not built yet, and must not name an existing one).

use std::process::Command;

use clap::CommandFactory;
use wproc::cli::Cli;

fn wproc(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_wproc"))
        .args(args)
        .output()
        .expect("run wproc");
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// Every command path: [], ["run"], ["binlog"], ["binlog", "dump"], ...
fn command_paths(command: &clap::Command, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    out.push(prefix.clone());
    for sub in command.get_subcommands() {
        if sub.get_name() == "help" {
            continue;
        }
        let mut path = prefix.clone();
        path.push(sub.get_name().to_owned());
        command_paths(sub, path, out);
    }
}

fn find<'a>(root: &'a clap::Command, path: &[String]) -> &'a clap::Command {
    path.iter().fold(root, |c, name| {
        c.find_subcommand(name).expect("path comes from the tree")
    })
}

/// README sections `### \`wproc …\``: (command words, in progress, section text).
fn readme_sections() -> Vec<(Vec<String>, bool, String)> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md");
    let mut sections = Vec::new();
    for block in readme.split("\n### `wproc ").skip(1) {
        let (heading, body) = block.split_once('\n').unwrap_or((block, ""));
        let (words, rest) = heading.split_once('`').expect("closing backtick");
        let body = body.split("\n## ").next().unwrap_or_default();
        sections.push((
            words.split_whitespace().map(str::to_owned).collect(),
            rest.contains("in progress"),
            body.to_owned(),
        ));
    }
    sections
}

/// `--flag` tokens in a text.
fn flags(text: &str) -> Vec<String> {
    let mut found: Vec<String> = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|w| w.len() > 2 && w.starts_with("--") && w.as_bytes()[2].is_ascii_lowercase())
        .map(str::to_owned)
        .collect();
    found.sort();
    found.dedup();
    found
}

#[test]
fn every_command_has_complete_help() {
    let root = Cli::command();
    let mut paths = Vec::new();
    command_paths(&root, Vec::new(), &mut paths);
    assert!(paths.len() >= 6, "{paths:?}");
    for path in &paths {
        let command = find(&root, path);
        assert!(
            command.get_about().is_some(),
            "`wproc {}` has no description",
            path.join(" ")
        );
        for arg in command.get_arguments() {
            let id = arg.get_id().as_str();
            if id == "help" || id == "version" {
                continue;
            }
            assert!(
                arg.get_help()
                    .is_some_and(|h| !h.to_string().trim().is_empty()),
                "`wproc {}`: argument `{id}` has no help",
                path.join(" ")
            );
        }
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let (ok, text) = wproc(&args);
        assert!(ok, "`wproc {}` failed:\n{text}", args.join(" "));
        assert!(text.contains("Usage: wproc"), "{text}");
    }
}

#[test]
fn readme_documents_every_command_and_its_flags() {
    let root = Cli::command();
    let mut paths = Vec::new();
    command_paths(&root, Vec::new(), &mut paths);
    let sections = readme_sections();
    assert!(
        !sections.is_empty(),
        "no `### \\`wproc …\\`` sections in README.md"
    );

    // Each leaf command has a README section that is not marked in progress.
    for path in paths.iter().filter(|p| !p.is_empty()) {
        if find(&root, path).has_subcommands() {
            continue;
        }
        let section = sections.iter().find(|(words, _, _)| words == path);
        match section {
            None => panic!(
                "README.md has no section `### \\`wproc {}\\``",
                path.join(" ")
            ),
            Some((_, true, _)) => panic!(
                "README.md marks `wproc {}` as in progress, but it exists: document it",
                path.join(" ")
            ),
            Some(_) => {}
        }
    }

    // Each documented flag is in the command's --help.
    for (words, in_progress, body) in &sections {
        if *in_progress {
            continue;
        }
        let mut args: Vec<&str> = words.iter().map(String::as_str).collect();
        args.push("--help");
        let (ok, help) = wproc(&args);
        assert!(ok, "`wproc {}` failed:\n{help}", args.join(" "));
        for flag in flags(body) {
            assert!(
                help.contains(&flag),
                "README documents {flag} for `wproc {}`, its --help does not mention it",
                words.join(" ")
            );
        }
    }
}
