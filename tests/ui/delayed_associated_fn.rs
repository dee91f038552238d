use dagwood::prelude::*;

struct Meters(f64);

impl Meters {
    // Without a `self` receiver the attribute cannot tell it is inside an `impl`;
    // rustc rejects the `enum` it adds there.
    #[delayed]
    fn new(x: f64) -> Meters {
        Meters(x)
    }
}

fn main() {}
