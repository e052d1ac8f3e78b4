//! Small dense kernels shared by the hot paths.
//!
//! Outputs larger than the caches are written with non-temporal ("streaming") stores on x86-64:
//! a plain store first reads the destination cache line from memory (read-for-ownership), so
//! streaming them saves one of the three memory passes of `y = a·x`. Streaming stores are
//! only reachable through one guard type, [`StreamingStores`], which issues the closing
//! fence when it drops (and cannot leave its thread), so no caller can forget it.

/// Outputs of at least this many `f64`s (8 MiB) are written with streaming stores.
pub const STREAMING_THRESHOLD: usize = 1 << 20;

/// Non-temporal ("streaming") stores, fenced when the guard drops.
///
/// Streaming stores are weakly ordered: before the memory is read again or handed to another
/// thread, an `sfence` must order them. The guard issues it in [`Drop`], and is neither
/// `Send` nor `Sync`, so the fence runs on the thread that stored. On other architectures the
/// stores are plain.
pub(crate) struct StreamingStores {
    _one_thread: std::marker::PhantomData<*const ()>,
}

impl StreamingStores {
    /// A guard; its stores are ordered before whatever follows its drop.
    #[inline]
    pub(crate) fn new() -> Self {
        StreamingStores {
            _one_thread: std::marker::PhantomData,
        }
    }

    /// `*dst = v` with a non-temporal store on x86-64 (`movnti`), for loops that produce one
    /// value at a time into an output larger than the caches.
    #[inline(always)]
    pub(crate) fn store(&self, dst: &mut f64, v: f64) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: SSE2 is baseline on x86-64; `dst` is a valid, aligned, exclusive `f64`
        // location, and `f64` and `i64` have the same size and alignment.
        unsafe {
            std::arch::x86_64::_mm_stream_si64((dst as *mut f64).cast::<i64>(), v.to_bits() as i64);
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            *dst = v;
        }
    }

    /// `dst[k] = a · src[k]` with non-temporal stores on x86-64.
    ///
    /// # Panics
    /// When the lengths differ (a programming error).
    #[inline]
    pub(crate) fn store_scaled(&self, dst: &mut [f64], src: &[f64], a: f64) {
        assert_eq!(dst.len(), src.len(), "store_scaled: lengths differ");
        let n = dst.len();
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{_mm_loadu_pd, _mm_mul_pd, _mm_set1_pd, _mm_stream_pd};
            // align the destination to 16 bytes
            let head = usize::from(!(dst.as_ptr() as usize).is_multiple_of(16)).min(n);
            for k in 0..head {
                dst[k] = a * src[k];
            }
            let pairs = (n - head) / 2;
            // SAFETY: SSE2 is part of the x86-64 baseline; for each pair `head + 2p + 1 < n`
            // and both slices have length n, so both loads and the store are in bounds, and
            // `dst[head..]` is 16-byte aligned.
            unsafe {
                let va = _mm_set1_pd(a);
                for p in 0..pairs {
                    let k = head + 2 * p;
                    let v = _mm_loadu_pd(src.as_ptr().add(k));
                    _mm_stream_pd(dst.as_mut_ptr().add(k), _mm_mul_pd(va, v));
                }
            }
            for k in head + 2 * pairs..n {
                dst[k] = a * src[k];
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        for (d, &s) in dst.iter_mut().zip(src) {
            *d = a * s;
        }
    }

    /// Two values into the 16-byte-aligned pair `dst[0..2]`.
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn store_pair(&self, dst: &mut [f64], a: f64, b: f64) {
        use std::arch::x86_64::{_mm_set_pd, _mm_stream_pd};
        assert!(dst.len() >= 2 && (dst.as_ptr() as usize).is_multiple_of(16));
        // SAFETY: SSE2 is baseline on x86-64; `dst` holds two `f64`s and is 16-byte aligned
        // (checked above), so the two-lane store is in bounds and aligned.
        unsafe { _mm_stream_pd(dst.as_mut_ptr(), _mm_set_pd(b, a)) };
    }
}

impl Drop for StreamingStores {
    fn drop(&mut self) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: SSE2 is part of the x86-64 baseline.
        unsafe {
            std::arch::x86_64::_mm_sfence();
        }
    }
}

/// `y[k] = f(k)` for every `k`, with streaming stores (fenced before it returns) when
/// `y` has at least [`STREAMING_THRESHOLD`] entries, plain stores otherwise.
///
/// `f` is called once per index, in increasing order.
#[inline(always)]
pub fn fill_with(y: &mut [f64], f: impl FnMut(usize) -> f64) {
    fill_with_mode(y, y.len() >= STREAMING_THRESHOLD, f)
}

/// [`fill_with`] with the choice of streaming stores made by the caller (for a large output
/// written in pieces).
#[inline(always)]
pub fn fill_with_mode(y: &mut [f64], stream: bool, mut f: impl FnMut(usize) -> f64) {
    let n = y.len();
    #[cfg(target_arch = "x86_64")]
    if stream {
        let streaming = StreamingStores::new();
        let head = usize::from(!(y.as_ptr() as usize).is_multiple_of(16)).min(n);
        for (k, yk) in y[..head].iter_mut().enumerate() {
            *yk = f(k);
        }
        let pairs = (n - head) / 2;
        for p in 0..pairs {
            let k = head + 2 * p;
            let (a, b) = (f(k), f(k + 1));
            streaming.store_pair(&mut y[k..k + 2], a, b);
        }
        for (k, yk) in y.iter_mut().enumerate().skip(head + 2 * pairs) {
            *yk = f(k);
        }
        return;
    }
    let _ = stream;
    for (k, yk) in y.iter_mut().enumerate() {
        *yk = f(k);
    }
}

/// `Σ a_k b_k` with eight independent partial sums (so the compiler vectorizes it).
#[inline]
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0f64; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f64 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    acc.iter().sum::<f64>() + tail
}
