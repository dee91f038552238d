use dagwood::prelude::*;

fn main() {
    let _f = graph!(|x, y: i32| {
        let s = x + y;
        s
    });
}
