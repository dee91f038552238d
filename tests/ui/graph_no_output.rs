use dagwood::prelude::*;

fn main() {
    let _g = graph! {
        let a = 1;
        let _b = a + 1;
    };
    let _h = graph! {
        let a = 1;
        a;
    };
}
