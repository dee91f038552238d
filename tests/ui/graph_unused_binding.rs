use dagwood::prelude::*;

fn main() {
    let _g = graph! {
        let a = 1;
        let unused = a * 2;
        let _side_effect = a * 3;
        a + 1
    };
}
