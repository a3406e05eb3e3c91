//! The integration tests, as one test binary (one link of the crate instead of one per file). Each module is a
//! suite of its own; `common` holds the helpers they share.

mod common;

#[path = "../../examples/gen_profile.rs"]
mod gen_profile;

mod addr2line;
mod addrs;
mod bad_input;
mod cli;
mod compare_cli;
mod compare_goldens;
mod compare_merge;
mod compare_native;
mod debuginfod;
mod fidelity;
mod go_top_goldens;
mod gopclntab;
mod gopclntab_corrupt;
mod legacy_goldens;
mod legacy_inputs;
mod native_symbolize;
mod peer_goldens;
mod roundtrip;
mod sites_native;
mod split_dwarf;
mod split_dwarf_profile;
mod symbolize_batch;
mod symbolize_cli;
mod symbolize_goldens;
mod symbolize_profile;
