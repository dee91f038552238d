use dagwood::prelude::*;

fn main() {
    let _g = graph! {
        let output = 1 + 1;
        output * 2
    };
}
