//! The README's embedding example is `core-sm/examples/embed.rs`'s `main`, which `cargo test`
//! runs; this keeps the two from drifting apart.

#[test]
fn readme_embedding_snippet_is_the_example() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    let example = std::fs::read_to_string(format!("{root}/core-sm/examples/embed.rs")).unwrap();
    let start = example.find("fn main() {").expect("example has main");
    let end = example[start..].find("\n}\n").map(|e| start + e + 2).expect("end of main");
    let main = &example[start..end];
    assert!(
        readme.contains(main.trim_end()),
        "README's Embedding section must show embed.rs's main verbatim"
    );
    assert!(main.lines().count() <= 30, "the embedding example must stay within 30 lines");
}
