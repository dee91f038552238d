use dagwood::prelude::*;

fn main() {
    let _g = graph!(|xs: Vec<u32>| {
        let parts = 'each: for x in xs { x + 1 };
        parts
    });
}
