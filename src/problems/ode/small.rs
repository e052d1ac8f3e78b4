//! Forward mode on [`Dual<N>`](crate::derived::dual::Dual) (`N` = 2, 4 or 8) for small ODEs: the Jacobians of
//! `g` and the gradients of `l` by one evaluation with every direction seeded, with no
//! coloring, locking or decompression plan — at a few species those cost more than the
//! model. Used when the seeded side has at most [`SMALL`] entries; the values equal the
//! compressed evaluation's (the same dual arithmetic, one direction per column).

use super::OdeModel;
use crate::derived::dual::Dual;
use sprs::CsStructure;
use std::cell::RefCell;

/// The most inputs seeded at once.
pub(crate) const SMALL: usize = 8;

/// Dual buffers of one width and one seeded side; the seeds stay between calls, only the
/// values are rewritten.
#[derive(Default)]
struct Buf<const N: usize> {
    x: Vec<Dual<N>>,
    t: Vec<Dual<N>>,
    f: Vec<Dual<N>>,
}

impl<const N: usize> Buf<N> {
    fn load(&mut self, x: &[f64], theta: &[f64], wrt_theta: bool) {
        if self.x.len() != x.len() || self.t.len() != theta.len() {
            let seed = |v: &[f64], on: bool| -> Vec<Dual<N>> {
                v.iter()
                    .enumerate()
                    .map(|(i, &re)| {
                        let mut d = Dual::constant(re);
                        if on {
                            d.eps[i] = 1.0;
                        }
                        d
                    })
                    .collect()
            };
            self.x = seed(x, !wrt_theta);
            self.t = seed(theta, wrt_theta);
            self.f = vec![Dual::constant(0.0); x.len()];
        }
        for (d, &v) in self.x.iter_mut().zip(x) {
            d.re = v;
        }
        for (d, &v) in self.t.iter_mut().zip(theta) {
            d.re = v;
        }
    }
}

thread_local! {
    static X2: RefCell<Buf<2>> = RefCell::new(Buf::default());
    static X4: RefCell<Buf<4>> = RefCell::new(Buf::default());
    static X8: RefCell<Buf<8>> = RefCell::new(Buf::default());
    static T2: RefCell<Buf<2>> = RefCell::new(Buf::default());
    static T4: RefCell<Buf<4>> = RefCell::new(Buf::default());
    static T8: RefCell<Buf<8>> = RefCell::new(Buf::default());
}

/// Runs the body with the buffers of the narrowest width that holds `width` directions,
/// seeded on `x` or on `θ`.
macro_rules! with_width {
    ($width:expr, $wrt_theta:expr, |$b:ident| $body:expr) => {
        match ($width, $wrt_theta) {
            (0..=2, false) => X2.with(|$b| $body),
            (3..=4, false) => X4.with(|$b| $body),
            (_, false) => X8.with(|$b| $body),
            (0..=2, true) => T2.with(|$b| $body),
            (3..=4, true) => T4.with(|$b| $body),
            (_, true) => T8.with(|$b| $body),
        }
    };
}

/// The values of `∂g/∂x` (or `∂g/∂θ` when `wrt_theta`) at `(t, x, θ)` in the storage order
/// of `pattern`.
pub(crate) fn rhs_jacobian<M: OdeModel>(
    ode: &M,
    t: f64,
    x: &[f64],
    theta: &[f64],
    wrt_theta: bool,
    pattern: &CsStructure,
    out: &mut [f64],
) {
    let width = if wrt_theta { theta.len() } else { x.len() };
    debug_assert!(width <= SMALL);
    with_width!(width, wrt_theta, |b| {
        let b = &mut *b.borrow_mut();
        b.load(x, theta, wrt_theta);
        b.f.fill(Dual::constant(0.0));
        ode.rhs(t, &b.x, &b.t, &mut b.f);
        for ((_, (i, j)), o) in pattern.iter().zip(out.iter_mut()) {
            *o = b.f[i].eps[j];
        }
    })
}

/// `l(t, x, θ)` and its gradient with respect to `x` (or `θ` when `wrt_theta`) into `out`.
pub(crate) fn cost_gradient<M: OdeModel>(
    ode: &M,
    t: f64,
    x: &[f64],
    theta: &[f64],
    wrt_theta: bool,
    out: &mut [f64],
) -> f64 {
    let width = if wrt_theta { theta.len() } else { x.len() };
    debug_assert!(width <= SMALL);
    with_width!(width, wrt_theta, |b| {
        let b = &mut *b.borrow_mut();
        b.load(x, theta, wrt_theta);
        let l = ode.running_cost(t, &b.x, &b.t);
        for (o, &e) in out.iter_mut().zip(&l.eps) {
            *o = e;
        }
        l.re
    })
}
