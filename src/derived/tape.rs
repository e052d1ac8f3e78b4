//! Reverse mode on a tape: the gradient of a scalar function (the objective) in one forward
//! evaluation and one backward sweep, whatever the number of inputs.
//!
//! Every operation on an [`Adjoint`] value appends one entry — its two operands and the
//! partial derivatives with respect to them — to a thread-local tape. With `v̄_k = ∂L/∂v_k`,
//! the backward sweep visits the entries last to first:
//!
//! ```text
//!     v̄_L = 1;    for k = last … first:   v̄_{a_k} += (∂v_k/∂a_k) v̄_k,   v̄_{b_k} += (∂v_k/∂b_k) v̄_k
//! ```
//!
//! and leaves `∂L/∂x_j = v̄_j` on the inputs. The tape's storage is owned by the caller
//! ([`Tape`]) and lent to the thread for one evaluation, so repeated evaluations reuse it and
//! allocate nothing once it has grown to the function's size.

use super::scalar::Scalar;
use std::cell::RefCell;
use std::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

/// No operand (constants, and the second operand of unary operations).
const NONE: u32 = u32::MAX;

/// A value in reverse mode: its primal value and its entry on the tape. Only valid inside a
/// [`Tape::gradient`] evaluation, on the thread that runs it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Adjoint {
    value: f64,
    id: u32,
}

/// One recorded operation.
#[derive(Debug, Clone, Copy)]
struct Entry {
    a: u32,
    b: u32,
    da: f64,
    db: f64,
}

/// The storage of a tape, reused across evaluations.
#[derive(Debug, Default)]
pub struct Tape {
    entries: Vec<Entry>,
    adjoints: Vec<f64>,
}

/// The tape being recorded on this thread: the number of inputs and the operations.
struct Recording {
    n: u32,
    entries: Vec<Entry>,
}

thread_local! {
    static TAPE: RefCell<Option<Recording>> = const { RefCell::new(None) };
}

fn record(a: u32, b: u32, da: f64, db: f64, value: f64) -> Adjoint {
    if a == NONE && b == NONE {
        return Adjoint { value, id: NONE };
    }
    TAPE.with(|t| {
        let mut t = t.borrow_mut();
        let t = t
            .as_mut()
            .expect("adjoint::Adjoint used outside a tape evaluation (or on another thread)");
        let id =
            t.n.checked_add(u32::try_from(t.entries.len()).unwrap_or(u32::MAX))
                .filter(|&id| id != NONE)
                .expect("more than 2³² recorded operations");
        t.entries.push(Entry { a, b, da, db });
        Adjoint { value, id }
    })
}

/// Puts the tape back into its owner, also on a panic inside the function.
struct Lend<'a>(&'a mut Vec<Entry>);

impl Drop for Lend<'_> {
    fn drop(&mut self) {
        if let Some(t) = TAPE.with(|t| t.borrow_mut().take()) {
            *self.0 = t.entries;
        }
    }
}

impl Tape {
    /// Evaluates `f` at the inputs `x` (the concatenation of the slices `parts`), then
    /// sweeps the tape backward and calls `read(f(x), ∇f(x))`. The inputs have no tape
    /// entries (ids `0 … n−1`); operation `k` has id `n + k`.
    pub fn gradient<R>(
        &mut self,
        parts: &[&[f64]],
        inputs: &mut Vec<Adjoint>,
        f: impl FnOnce(&[Adjoint]) -> Adjoint,
        read: impl FnOnce(f64, &[f64]) -> R,
    ) -> R {
        let n: usize = parts.iter().map(|p| p.len()).sum();
        let mut entries = std::mem::take(&mut self.entries);
        entries.clear();
        inputs.clear();
        inputs.extend(
            parts
                .iter()
                .flat_map(|p| p.iter())
                .enumerate()
                .map(|(k, &v)| Adjoint {
                    value: v,
                    id: k as u32,
                }),
        );
        TAPE.with(|t| {
            *t.borrow_mut() = Some(Recording {
                n: n as u32,
                entries,
            })
        });
        let out = {
            let _lend = Lend(&mut self.entries);
            f(inputs)
        };
        let entries = &self.entries;
        self.adjoints.clear();
        self.adjoints.resize(n + entries.len(), 0.0);
        if out.id != NONE {
            self.adjoints[out.id as usize] = 1.0;
        }
        let adj = &mut self.adjoints;
        for (k, e) in entries.iter().enumerate().rev() {
            let w = adj[n + k];
            if w == 0.0 {
                continue;
            }
            if e.a != NONE {
                adj[e.a as usize] += e.da * w;
            }
            if e.b != NONE {
                adj[e.b as usize] += e.db * w;
            }
        }
        read(out.value, &self.adjoints[..n])
    }
}

impl Adjoint {
    #[inline]
    fn unary(self, value: f64, d: f64) -> Adjoint {
        if self.id == NONE {
            Adjoint { value, id: NONE }
        } else {
            record(self.id, NONE, d, 0.0, value)
        }
    }
    #[inline]
    fn binary(self, o: Adjoint, value: f64, da: f64, db: f64) -> Adjoint {
        match (self.id == NONE, o.id == NONE) {
            (true, true) => Adjoint { value, id: NONE },
            (false, true) => record(self.id, NONE, da, 0.0, value),
            (true, false) => record(o.id, NONE, db, 0.0, value),
            (false, false) => record(self.id, o.id, da, db, value),
        }
    }
    #[inline]
    fn constant(value: f64) -> Adjoint {
        Adjoint { value, id: NONE }
    }
}

impl Add for Adjoint {
    type Output = Self;
    #[inline]
    fn add(self, o: Self) -> Self {
        self.binary(o, self.value + o.value, 1.0, 1.0)
    }
}
impl Sub for Adjoint {
    type Output = Self;
    #[inline]
    fn sub(self, o: Self) -> Self {
        self.binary(o, self.value - o.value, 1.0, -1.0)
    }
}
impl Mul for Adjoint {
    type Output = Self;
    #[inline]
    fn mul(self, o: Self) -> Self {
        self.binary(o, self.value * o.value, o.value, self.value)
    }
}
impl Div for Adjoint {
    type Output = Self;
    #[inline]
    fn div(self, o: Self) -> Self {
        let inv = 1.0 / o.value;
        let q = self.value * inv;
        self.binary(o, q, inv, -q * inv)
    }
}
impl Neg for Adjoint {
    type Output = Self;
    #[inline]
    fn neg(self) -> Self {
        self.unary(-self.value, -1.0)
    }
}
// x ± c keeps the operand's tape entry: ∂(x ± c)/∂x = 1, so the adjoints of both uses add up
// in the same slot, exactly as a recorded entry would pass them on.
impl Add<f64> for Adjoint {
    type Output = Self;
    #[inline]
    fn add(self, c: f64) -> Self {
        Adjoint {
            value: self.value + c,
            id: self.id,
        }
    }
}
impl Sub<f64> for Adjoint {
    type Output = Self;
    #[inline]
    fn sub(self, c: f64) -> Self {
        Adjoint {
            value: self.value - c,
            id: self.id,
        }
    }
}
impl Mul<f64> for Adjoint {
    type Output = Self;
    #[inline]
    fn mul(self, c: f64) -> Self {
        self.unary(self.value * c, c)
    }
}
impl Div<f64> for Adjoint {
    type Output = Self;
    #[inline]
    fn div(self, c: f64) -> Self {
        let inv = 1.0 / c;
        self.unary(self.value * inv, inv)
    }
}

macro_rules! assign {
    ($tr:ident, $m:ident, $op:ident) => {
        impl $tr for Adjoint {
            #[inline]
            fn $m(&mut self, o: Self) {
                *self = (*self).$op(o);
            }
        }
    };
}
assign!(AddAssign, add_assign, add);
assign!(SubAssign, sub_assign, sub);
assign!(MulAssign, mul_assign, mul);
assign!(DivAssign, div_assign, div);

impl Scalar for Adjoint {
    fn zero() -> Self {
        Adjoint::constant(0.0)
    }
    fn one() -> Self {
        Adjoint::constant(1.0)
    }
    fn from_f64(c: f64) -> Self {
        Adjoint::constant(c)
    }
    fn value(self) -> f64 {
        self.value
    }
    fn powi(self, n: i32) -> Self {
        match n {
            0 => Adjoint::constant(1.0),
            1 => self,
            // the value as f64 computes it (xⁿ⁻¹·x would give NaN for x = 0, n < 0)
            _ => {
                let d = match n.checked_sub(1) {
                    Some(m) => self.value.powi(m),
                    None => self.value.powf(n as f64 - 1.0),
                };
                self.unary(self.value.powi(n), n as f64 * d)
            }
        }
    }
    fn powf(self, p: f64) -> Self {
        if p == 0.0 {
            return Adjoint::constant(1.0);
        }
        self.unary(self.value.powf(p), p * self.value.powf(p - 1.0))
    }
    fn sqrt(self) -> Self {
        let s = self.value.sqrt();
        self.unary(s, 0.5 / s)
    }
    fn exp(self) -> Self {
        let e = self.value.exp();
        self.unary(e, e)
    }
    fn ln(self) -> Self {
        self.unary(self.value.ln(), 1.0 / self.value)
    }
    fn sin(self) -> Self {
        let (s, c) = self.value.sin_cos();
        self.unary(s, c)
    }
    fn cos(self) -> Self {
        let (s, c) = self.value.sin_cos();
        self.unary(c, -s)
    }
    fn tanh(self) -> Self {
        let t = self.value.tanh();
        self.unary(t, 1.0 - t * t)
    }
    fn recip(self) -> Self {
        let r = 1.0 / self.value;
        self.unary(r, -r * r)
    }
    fn abs(self) -> Self {
        let s = if self.value > 0.0 {
            1.0
        } else if self.value < 0.0 {
            -1.0
        } else {
            0.0
        };
        self.unary(self.value.abs(), s)
    }
    fn max(self, other: Self) -> Self {
        if other.value > self.value {
            other
        } else {
            self
        }
    }
    fn min(self, other: Self) -> Self {
        if other.value < self.value {
            other
        } else {
            self
        }
    }
}
