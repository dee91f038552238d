use dagwood::prelude::*;

fn main() {
    let _g = graph! {
        let a: i32;
        a
    };
}
