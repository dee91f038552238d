use dagwood::prelude::*;

fn main() {
    let _f = graph! {
        #![distributed]
        |x: i32| {
            let a = x + 1;
            a
        }
    };
}
