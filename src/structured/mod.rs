//! Structured operators that are applied without being formed.
//!
//! - [`kron::RowKron`]: `[u; 1]ᵀ ⊗ I_n`, the building block of a network's `∂Φ_i/∂θ_i`.

pub mod kron;
