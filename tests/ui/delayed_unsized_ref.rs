use dagwood::prelude::*;

#[delayed]
fn word_count(text: &str) -> usize {
    text.split_whitespace().count()
}

#[delayed]
fn total(xs: &[i64]) -> i64 {
    xs.iter().sum()
}

fn main() {}
