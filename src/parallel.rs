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
    // with one thread, rayon::join from outside the pool would still hand both halves to
    // the pool's one worker and park the caller
    if parallel && rayon::current_num_threads() > 1 {
        rayon::join(a, b)
    } else {
        (a(), b())
    }
}

/// Runs `f` on a thread of rayon's pool when `parallel` and the caller is not on one already.
///
/// A [`join_if`] from outside the pool hands both halves to the pool and parks the caller
/// (tens of microseconds of wake-ups per join, measured on the 784-512-512-256-1 network's
/// fast path); inside the pool a join is a push to the worker's own deque that the other
/// worker steals while still spinning. A pass with several joins in a row enters the pool
/// once with this.
pub fn in_pool<R: Send>(parallel: bool, f: impl FnOnce() -> R + Send) -> R {
    if parallel && rayon::current_num_threads() > 1 && rayon::current_thread_index().is_none() {
        rayon::scope(|_| f())
    } else {
        f()
    }
}
