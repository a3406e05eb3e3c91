// Export the program's symbols, jemalloc's unprefixed malloc among them, so that the C libraries' malloc calls
// bind to it and are profiled: a Rust executable exports no symbols by default, and the libraries would bind to
// glibc's malloc.
fn main() {
    println!("cargo:rustc-link-arg-bins=-Wl,--export-dynamic");
}
