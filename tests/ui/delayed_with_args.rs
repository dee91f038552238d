use dagwood::prelude::*;

#[delayed(name = "inc")]
fn inc(x: i32) -> i32 {
    x + 1
}

fn main() {}
