use dagwood::prelude::*;

struct Counter(i32);

impl Counter {
    #[delayed]
    fn get(&self) -> i32 {
        self.0
    }
}

fn main() {}
