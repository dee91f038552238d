use dagwood::prelude::*;

fn main() {
    // Type errors in a task point at the user's expression.
    let _g = graph! {
        let a = String::from("x");
        let b: i32 = a.len();
        b
    };
}
