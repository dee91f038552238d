use dagwood::prelude::*;

fn main() {
    let _g = graph! {
        let a = 1;
        println!("{a}");
        a
    };
}
