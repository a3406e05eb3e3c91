//! Generates the prost types for `proto/profile.proto`.
//!
//! protox compiles the schema in pure Rust, so a fresh machine needs no system `protoc`; the generated code
//! can never drift from the committed .proto because it is rebuilt whenever the file changes.
fn main() {
    println!("cargo:rerun-if-changed=proto/profile.proto");
    let fds = protox::compile(["profile.proto"], ["proto"]).expect("proto/profile.proto compiles");
    prost_build::Config::new()
        .compile_fds(fds)
        .expect("prost-build generates code from proto/profile.proto");
}
