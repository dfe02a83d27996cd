// A Rust program for BinaryKindTests, compiled by the test with rustc (v0 and legacy mangling):
// two large allocations kept until exit, each made by a function of its own, whose addresses it
// prints. Lines the tests check as sites carry `// @site:NAME` markers.
mod cache {
    pub struct Table {
        pub data: Vec<u64>,
    }

    impl Table {
        #[inline(never)]
        pub fn with_capacity(n: usize) -> Table {
            Table { data: vec![7u64; n] } // @site:rust_table
        }
    }
}

#[inline(never)]
fn make_buffer(n: usize) -> Vec<u8> {
    let mut v = vec![0u8; n]; // @site:rust_buffer
    v[n - 1] = 1;
    v
}

fn main() {
    let buffer = make_buffer(4 << 20);
    let table = cache::Table::with_capacity(1 << 19);
    println!("buffer={:p}", buffer.as_ptr());
    println!("table={:p}", table.data.as_ptr());
    // Both stay mapped until the exit snapshot.
    std::mem::forget(buffer);
    std::mem::forget(table);
}
