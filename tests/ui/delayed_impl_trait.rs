use dagwood::prelude::*;

#[delayed]
fn show(x: impl std::fmt::Display) -> String {
    x.to_string()
}

#[delayed]
fn numbers(n: u32) -> impl Iterator<Item = u32> {
    0..n
}

fn main() {}
