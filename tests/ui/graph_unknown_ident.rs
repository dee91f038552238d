use dagwood::prelude::*;

fn main() {
    let count = 3;
    // An unknown name is left to rustc, which points at the user's token.
    let _g = graph! {
        let a = count + 1;
        let b = a + cuont;
        b
    };
}
