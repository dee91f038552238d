use dagwood::prelude::*;

fn main() {
    let _g = graph! {
        #![distributed]
        let xs: Vec<u32> = vec![1, 2, 3];
        let parts = for x in &xs { x * 2 };
        parts
    };
}
