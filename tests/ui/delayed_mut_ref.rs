use dagwood::prelude::*;

#[delayed]
fn bump(x: &mut i32) {
    *x += 1;
}

fn main() {}
