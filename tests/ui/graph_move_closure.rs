use dagwood::prelude::*;

fn main() {
    let _f = graph!(move |x: i32| {
        let y = x + 1;
        y
    });
}
