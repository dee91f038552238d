use dagwood::prelude::*;

struct NotClone(u32);

fn eat(n: NotClone) -> u32 {
    n.0
}

fn main() {
    // An element body that consumes a binding clones it per element: the
    // binding's type must be Clone, and the error points at the mention.
    let _g = graph!(|xs: Vec<u32>| {
        let big = NotClone(7);
        let parts = for x in xs { x + eat(big) };
        parts
    });
}
