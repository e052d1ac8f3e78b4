//! Export folders in one place: writing them ([`export`]), their `problem.json` schema
//! ([`mlp_json`], [`network_json`], [`check_kind`]) and reading them back
//! ([`read_tridiagonal`], [`read_mlp`], [`read_network`]). Problem types do not parse folders.

pub mod export;
mod read;
mod schema;

pub use read::{read_mlp, read_network, read_tridiagonal};
pub use schema::{check_kind, mlp_json, network_json};
