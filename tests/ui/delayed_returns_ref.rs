use dagwood::prelude::*;

#[delayed]
fn first(xs: &Vec<i32>) -> &i32 {
    &xs[0]
}

fn main() {}
