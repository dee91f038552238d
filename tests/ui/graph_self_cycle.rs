use dagwood::prelude::*;

fn main() {
    let _g = graph! {
        let a = a + 1;
        a
    };
}
