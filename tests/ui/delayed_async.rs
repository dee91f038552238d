use dagwood::prelude::*;

#[delayed]
async fn fetch(x: i32) -> i32 {
    x
}

fn main() {}
