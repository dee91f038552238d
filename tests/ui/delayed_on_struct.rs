use dagwood::prelude::*;

#[delayed]
struct Point {
    x: i32,
}

#[delayed]
impl Point {}

fn main() {}
