use dagwood::prelude::*;

fn main() {
    let _g = graph!(|xs: Vec<u32>| {
        let n = xs.len();
        for x in xs { x + n as u32 }
    });
}
