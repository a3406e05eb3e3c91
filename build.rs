//! Generates the prost types for `proto/profile.proto`.
//!
//! protox compiles the schema in pure Rust, so a fresh machine needs no system `protoc`; the generated code
//! can never drift from the committed .proto because it is rebuilt whenever the file changes.
//!
//! It also links libstdc++, whose `__cxa_demangle` (GNU's own demangler, the one c++filt and GNU addr2line use)
//! demangles C++ names: see `src/demangle.rs`.
fn main() {
    println!("cargo:rerun-if-changed=proto/profile.proto");
    println!("cargo:rustc-link-lib=dylib=stdc++");
    let fds = protox::compile(["profile.proto"], ["proto"]).expect("proto/profile.proto compiles");
    prost_build::Config::new()
        .compile_fds(fds)
        .expect("prost-build generates code from proto/profile.proto");
}
