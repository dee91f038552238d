use dagwood::prelude::*;

fn main() {
    let _g = graph! {
        let (a, b) = (1, 2);
        a + b
    };
    let _h = graph! {
        let mut c = 1;
        c
    };
    let _i = graph! {
        let _ = 1;
        2
    };
}
