//! The root README's Rust snippets are parts of the workspace's examples, which CI builds:
//! each snippet's lines (whitespace around them aside) appear, in order and together, in
//! one of the examples, so a snippet cannot drift from code that compiles.

use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The code of every ```rust block of `text`.
fn snippets(text: &str) -> Vec<Vec<String>> {
    let mut blocks = Vec::new();
    let mut current: Option<Vec<String>> = None;
    for line in text.lines() {
        match (&mut current, line.trim_start()) {
            (None, fence) if fence.starts_with("```rust") => current = Some(Vec::new()),
            (Some(_), "```") => blocks.extend(current.take()),
            (Some(block), _) => block.push(line.trim().to_owned()),
            (None, _) => {}
        }
    }
    blocks
}

/// The trimmed lines of every example of the workspace, by file.
fn examples() -> Vec<(PathBuf, Vec<String>)> {
    let mut found = Vec::new();
    for krate in std::fs::read_dir(workspace().join("crates"))
        .unwrap()
        .flatten()
    {
        let Ok(files) = std::fs::read_dir(krate.path().join("examples")) else {
            continue;
        };
        for file in files.flatten() {
            let path = file.path();
            if path.extension().is_some_and(|ext| ext == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                found.push((path, text.lines().map(|l| l.trim().to_owned()).collect()));
            }
        }
    }
    found
}

#[test]
fn every_rust_snippet_of_the_readme_is_part_of_an_example() {
    let readme = std::fs::read_to_string(workspace().join("README.md")).unwrap();
    let snippets = snippets(&readme);
    assert!(snippets.len() >= 3, "the README shows its usage in Rust");
    let examples = examples();
    for snippet in snippets {
        let inside = examples.iter().any(|(_, lines)| {
            lines
                .windows(snippet.len())
                .any(|window| window == snippet.as_slice())
        });
        assert!(
            inside,
            "this README snippet is in no example:\n{}",
            snippet.join("\n")
        );
    }
}
