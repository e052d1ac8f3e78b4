//! The two-way parallelism of an evaluation (rayon's thread pool).
//!
//! One adjoint gradient is mostly memory-bound passes (assembling `∂f/∂θ`, checking inputs,
//! the gradient product) around latency-bound recurrences (factorization, triangular solves).
//! On this kind of machine one core streams about 9–11 GB/s from memory and two about twice
//! that, so the engine (a) fills `∂f/∂θ` on a second thread while the adjoint solve runs, and
//! (b) splits the large passes into two halves. Below [`PARALLEL_THRESHOLD`] entries everything
//! stays on the calling thread (a fork/join costs microseconds).
//!
//! The number of threads is rayon's: `RAYON_NUM_THREADS=1` (or a one-thread pool installed by
//! the caller) makes every evaluation sequential, with the same results bit for bit: the
//! halves compute exactly what one pass would.

/// Passes over at least this many `f64`s (4 MiB) are split across two threads.
pub const PARALLEL_THRESHOLD: usize = 1 << 19;

/// Runs `a` and `b`, in parallel when `parallel` (and rayon has more than one thread).
#[inline]
pub fn join_if<A, B, RA, RB>(parallel: bool, a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA + Send,
    B: FnOnce() -> RB + Send,
    RA: Send,
    RB: Send,
{
    if parallel {
        rayon::join(a, b)
    } else {
        (a(), b())
    }
}
