//! Compile-fail tests: every misuse of `#[delayed]` and `graph!` is a compile error
//! pointing at the user's tokens. Regenerate the expected output with
//! `TRYBUILD=overwrite cargo test --test ui` and review the diff.
#![cfg(feature = "cluster")]

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
