use dagwood::prelude::*;

fn main() {
    let _g = graph! {
        let a = b + 1;
        let b = 1;
        a
    };
}
