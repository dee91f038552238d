use dagwood::prelude::*;

fn main() {
    let _g = graph! {
        let a = 1;
        let a = a + 1;
        a
    };
    let _f = graph!(|x: i32| {
        let x = 2;
        x
    });
}
