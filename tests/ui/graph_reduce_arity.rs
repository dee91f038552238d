use dagwood::prelude::*;

fn main() {
    let _g = graph!(|xs: Vec<u32>| {
        let parts = for x in xs { x * 2 };
        let total = tree_reduce(parts, 8);
        total
    });
}
