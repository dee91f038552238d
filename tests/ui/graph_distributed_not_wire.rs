use dagwood::prelude::*;

/// Not serde: it cannot travel between processes.
#[derive(Clone)]
struct Opaque(i32);

fn main() {
    let _g = graph! {
        #![distributed]
        let a = Opaque(1);
        let b = a.0 + 1;
        b
    };
}
