//! Sparsity detection by operator overloading: a [`Tracer`] carries the set of inputs a value
//! depends on, and whether it is nonlinear in the state `u`.
//!
//! The inputs are numbered `0 … n_u − 1` for `u` and `n_u … n_u + n_θ − 1` for `θ`. Running a
//! model's residual once on tracers gives, for every equation `i`, the inputs `f_i` depends
//! on: row `i` of the patterns of `∂f/∂u` and `∂f/∂θ`. The patterns hold for **every**
//! `(u, θ)`: no operation looks at a value (there is none), `abs`, `max`, `min` depend on all
//! their arguments, and [`Scalar::value`] — the only way to branch — is refused.
//!
//! A value is a node in a thread-local arena: a small sorted set stored inline (up to
//! [`SMALL`] inputs), or the union of two nodes, so that a long accumulation `s + x_k²` costs
//! one node per step instead of a copy of a growing set. Sets are only materialized for the
//! outputs, by an iterative walk that visits each node once per output.
//!
//! Linearity: a node is *nonlinear in `u`* when it multiplies two `u`-dependent values,
//! divides by one, or applies a nonlinear function to one. A residual with no nonlinear
//! output is linear in `u`: `∂f/∂u` then does not depend on `u` and the state solve's
//! factorization serves the adjoint solve too.

use super::scalar::Scalar;
use std::cell::RefCell;
use std::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

/// Largest dependency set stored inline in one node.
pub const SMALL: usize = 32;

const U_DEP: u8 = 1;
const NONLINEAR: u8 = 2;

/// A value during sparsity detection (see the module documentation). Only valid inside
/// [`Derived::new`](super::Derived::new), on the thread that runs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tracer(u32);

/// Node 0 is every constant: no dependency, linear.
const CONSTANT: Tracer = Tracer(0);

#[derive(Debug, Clone, Copy)]
enum Node {
    /// `data[start..start + len]`, sorted.
    Small { start: u32, len: u32 },
    /// The union of two nodes.
    Union(u32, u32),
}

#[derive(Debug, Default)]
struct Arena {
    n_u: usize,
    nodes: Vec<Node>,
    flags: Vec<u8>,
    data: Vec<u32>,
    value_called: bool,
}

thread_local! {
    static ARENA: RefCell<Option<Arena>> = const { RefCell::new(None) };
}

fn with<R>(f: impl FnOnce(&mut Arena) -> R) -> R {
    ARENA.with(|a| {
        let mut a = a.borrow_mut();
        let a = a
            .as_mut()
            .expect("adjoint::Tracer used outside sparsity detection (or on another thread)");
        f(a)
    })
}

impl Arena {
    fn push(&mut self, node: Node, flags: u8) -> Tracer {
        let id = u32::try_from(self.nodes.len()).expect("more than 2³² traced operations");
        self.nodes.push(node);
        self.flags.push(flags);
        Tracer(id)
    }

    fn small_set(&self, t: Tracer) -> Option<&[u32]> {
        match self.nodes[t.0 as usize] {
            Node::Small { start, len } => Some(&self.data[start as usize..(start + len) as usize]),
            Node::Union(..) => None,
        }
    }

    /// The union of `a` and `b`, with the given linearity flag.
    fn union(&mut self, a: Tracer, b: Tracer, nonlinear: bool) -> Tracer {
        let flags = (self.flags[a.0 as usize] | self.flags[b.0 as usize]) & U_DEP
            | if nonlinear { NONLINEAR } else { 0 };
        let same = |arena: &Arena, t: Tracer| arena.flags[t.0 as usize] == flags;
        if a == b && same(self, a) {
            return a;
        }
        if b == CONSTANT && same(self, a) {
            return a;
        }
        if a == CONSTANT && same(self, b) {
            return b;
        }
        if let (Node::Small { start: sa, len: la }, Node::Small { start: sb, len: lb }) =
            (self.nodes[a.0 as usize], self.nodes[b.0 as usize])
        {
            let (sa, la, sb, lb) = (sa as usize, la as usize, sb as usize, lb as usize);
            if la + lb <= 2 * SMALL {
                // merge into the arena's tail (indices stay valid when it grows); keep an
                // operand when nothing is new
                let start = self.data.len();
                let (mut i, mut j) = (0, 0);
                while i < la || j < lb {
                    let p = (i < la).then(|| self.data[sa + i]);
                    let q = (j < lb).then(|| self.data[sb + j]);
                    let v = match (p, q) {
                        (Some(p), Some(q)) if p == q => {
                            i += 1;
                            j += 1;
                            p
                        }
                        (Some(p), Some(q)) if p < q => {
                            i += 1;
                            p
                        }
                        (Some(_), Some(q)) | (None, Some(q)) => {
                            j += 1;
                            q
                        }
                        (Some(p), None) => {
                            i += 1;
                            p
                        }
                        (None, None) => unreachable!("the loop stops when both are done"),
                    };
                    self.data.push(v);
                }
                let len = self.data.len() - start;
                if len == la && same(self, a) {
                    self.data.truncate(start);
                    return a;
                }
                if len == lb && same(self, b) {
                    self.data.truncate(start);
                    return b;
                }
                if len <= SMALL {
                    let node = Node::Small {
                        start: start as u32,
                        len: len as u32,
                    };
                    return self.push(node, flags);
                }
                self.data.truncate(start);
            }
        }
        self.push(Node::Union(a.0, b.0), flags)
    }

    /// `a` marked nonlinear (a nonlinear function of a `u`-dependent value).
    fn nonlinear(&mut self, a: Tracer) -> Tracer {
        let f = self.flags[a.0 as usize];
        if f & U_DEP == 0 || f & NONLINEAR != 0 {
            return a;
        }
        let node = self.nodes[a.0 as usize];
        self.push(node, f | NONLINEAR)
    }

    fn u_dep(&self, t: Tracer) -> bool {
        self.flags[t.0 as usize] & U_DEP != 0
    }

    /// The inputs `t` depends on, sorted, into `out`; `mark`/`seen` are scratch (epoch-stamped).
    fn collect(&self, t: Tracer, out: &mut Vec<u32>, scratch: &mut Scratch) {
        out.clear();
        if let Some(s) = self.small_set(t) {
            out.extend_from_slice(s);
            return;
        }
        scratch.epoch += 1;
        let epoch = scratch.epoch;
        scratch.node_mark.resize(self.nodes.len(), 0);
        let mut stack = std::mem::take(&mut scratch.stack);
        stack.clear();
        stack.push(t.0);
        while let Some(k) = stack.pop() {
            let k = k as usize;
            if scratch.node_mark[k] == epoch {
                continue;
            }
            scratch.node_mark[k] = epoch;
            match self.nodes[k] {
                Node::Small { start, len } => {
                    for &v in &self.data[start as usize..(start + len) as usize] {
                        if scratch.input_mark[v as usize] != epoch {
                            scratch.input_mark[v as usize] = epoch;
                            out.push(v);
                        }
                    }
                }
                Node::Union(a, b) => {
                    stack.push(a);
                    stack.push(b);
                }
            }
        }
        scratch.stack = stack;
        out.sort_unstable();
    }
}

/// Scratch space of [`Arena::collect`].
#[derive(Debug, Default)]
struct Scratch {
    epoch: u32,
    node_mark: Vec<u32>,
    input_mark: Vec<u32>,
    stack: Vec<u32>,
}

/// What one detection run found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Traced {
    /// For each output, the inputs it depends on (sorted; `θ` inputs offset by `n_u`).
    pub rows: Vec<Vec<u32>>,
    /// Whether any output is nonlinear in `u`.
    pub nonlinear_in_u: bool,
}

/// Removes the arena when detection ends, also on a panic inside the model.
struct Session;

impl Drop for Session {
    fn drop(&mut self) {
        ARENA.with(|a| *a.borrow_mut() = None);
    }
}

/// Runs `f` on tracers for `n_u` state and `n_θ` parameter inputs, then reads the dependency
/// sets of the outputs it returns. `Err(())` when the model called [`Scalar::value`].
pub(crate) fn trace(
    n_u: usize,
    n_t: usize,
    f: impl FnOnce(&[Tracer], &[Tracer]) -> Vec<Tracer>,
) -> std::result::Result<Traced, ()> {
    let n = n_u + n_t;
    let mut arena = Arena {
        n_u,
        nodes: Vec::with_capacity(n + 1),
        flags: Vec::with_capacity(n + 1),
        data: Vec::with_capacity(n),
        value_called: false,
    };
    arena.push(Node::Small { start: 0, len: 0 }, 0);
    let mut inputs = Vec::with_capacity(n);
    for k in 0..n {
        arena.data.push(k as u32);
        let flags = if k < n_u { U_DEP } else { 0 };
        inputs.push(arena.push(
            Node::Small {
                start: k as u32,
                len: 1,
            },
            flags,
        ));
    }
    let _session = Session;
    ARENA.with(|a| *a.borrow_mut() = Some(arena));
    let outputs = f(&inputs[..n_u], &inputs[n_u..]);
    let arena = ARENA
        .with(|a| a.borrow_mut().take())
        .expect("the arena is in place");
    if arena.value_called {
        return Err(());
    }
    let mut scratch = Scratch {
        input_mark: vec![0; n],
        ..Scratch::default()
    };
    let mut nonlinear_in_u = false;
    let mut rows = Vec::with_capacity(outputs.len());
    let mut buf = Vec::new();
    for t in outputs {
        nonlinear_in_u |= arena.flags[t.0 as usize] & NONLINEAR != 0;
        arena.collect(t, &mut buf, &mut scratch);
        rows.push(buf.clone());
    }
    debug_assert!(arena.n_u == n_u);
    Ok(Traced {
        rows,
        nonlinear_in_u,
    })
}

macro_rules! binary {
    ($tr:ident, $m:ident, $nonlinear:expr) => {
        impl $tr for Tracer {
            type Output = Tracer;
            #[inline]
            fn $m(self, o: Tracer) -> Tracer {
                with(|a| {
                    let nl: fn(&Arena, Tracer, Tracer) -> bool = $nonlinear;
                    let nonlinear = nl(a, self, o);
                    a.union(self, o, nonlinear)
                })
            }
        }
    };
}

fn flag(a: &Arena, t: Tracer) -> bool {
    a.flags[t.0 as usize] & NONLINEAR != 0
}

binary!(Add, add, |a, x, y| flag(a, x) || flag(a, y));
binary!(Sub, sub, |a, x, y| flag(a, x) || flag(a, y));
binary!(Mul, mul, |a, x, y| flag(a, x)
    || flag(a, y)
    || (a.u_dep(x) && a.u_dep(y)));
binary!(Div, div, |a, x, y| flag(a, x) || flag(a, y) || a.u_dep(y));

impl Neg for Tracer {
    type Output = Tracer;
    #[inline]
    fn neg(self) -> Tracer {
        self
    }
}

macro_rules! with_constant {
    ($tr:ident, $m:ident) => {
        impl $tr<f64> for Tracer {
            type Output = Tracer;
            #[inline]
            fn $m(self, _c: f64) -> Tracer {
                self
            }
        }
    };
}
with_constant!(Add, add);
with_constant!(Sub, sub);
with_constant!(Mul, mul);
with_constant!(Div, div);

macro_rules! assign {
    ($tr:ident, $m:ident, $op:ident) => {
        impl $tr for Tracer {
            #[inline]
            fn $m(&mut self, o: Tracer) {
                *self = (*self).$op(o);
            }
        }
    };
}
assign!(AddAssign, add_assign, add);
assign!(SubAssign, sub_assign, sub);
assign!(MulAssign, mul_assign, mul);
assign!(DivAssign, div_assign, div);

impl Scalar for Tracer {
    fn zero() -> Self {
        CONSTANT
    }
    fn one() -> Self {
        CONSTANT
    }
    fn from_f64(_c: f64) -> Self {
        CONSTANT
    }
    /// Refused during detection: the detected pattern must not depend on a branch.
    fn value(self) -> f64 {
        with(|a| a.value_called = true);
        f64::NAN
    }
    fn powi(self, n: i32) -> Self {
        match n {
            0 => CONSTANT,
            1 => self,
            _ => with(|a| a.nonlinear(self)),
        }
    }
    fn powf(self, p: f64) -> Self {
        if p == 0.0 {
            CONSTANT
        } else if p == 1.0 {
            self
        } else {
            with(|a| a.nonlinear(self))
        }
    }
    fn sqrt(self) -> Self {
        with(|a| a.nonlinear(self))
    }
    fn exp(self) -> Self {
        with(|a| a.nonlinear(self))
    }
    fn ln(self) -> Self {
        with(|a| a.nonlinear(self))
    }
    fn sin(self) -> Self {
        with(|a| a.nonlinear(self))
    }
    fn cos(self) -> Self {
        with(|a| a.nonlinear(self))
    }
    fn tanh(self) -> Self {
        with(|a| a.nonlinear(self))
    }
    fn recip(self) -> Self {
        with(|a| a.nonlinear(self))
    }
    fn abs(self) -> Self {
        with(|a| a.nonlinear(self))
    }
    /// Depends on both arguments (either branch may be taken for some input).
    fn max(self, other: Self) -> Self {
        with(|a| {
            let nonlinear = flag(a, self) || flag(a, other) || a.u_dep(self) || a.u_dep(other);
            a.union(self, other, nonlinear)
        })
    }
    /// Depends on both arguments.
    fn min(self, other: Self) -> Self {
        self.max(other)
    }
}
