use dagwood::prelude::*;

fn f(x: i32) -> i32 {
    x
}

fn main() {
    let _g = graph! {
        let a = f(b);
        let b = f(a);
        b
    };
}
