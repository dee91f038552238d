use dagwood::prelude::*;

fn main() {
    let _g = graph! {};
    let _f = graph!(|x: i32| {});
}
