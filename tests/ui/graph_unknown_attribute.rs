use dagwood::prelude::*;

fn main() {
    let _g = graph! {
        #![parallel]
        let a = 1;
        a
    };
}
