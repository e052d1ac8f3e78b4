//! Re-solving after new values on the same pattern allocates nothing: a counting global
//! allocator watches every solver (triangular sweep, banded and sprs-ldl LDLᵀ, LU) and a whole
//! engine evaluation of every built-in problem, at small sizes and above the two-thread and
//! streaming-store thresholds.

use adjoint::dag::DagPattern;
use adjoint::problems::tridiagonal::Tridiagonal;
use adjoint::solve::Factorization;
use adjoint::solve::TriangularSolver;
use adjoint::{AdjointWorkspace, SolverKind};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_during(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    f();
    ALLOCATIONS.load(Ordering::SeqCst) - before
}

// One test function: the counter is global, and tests in one binary run in parallel.
#[test]
fn hot_paths_do_not_allocate() {
    // the counter sees allocations at all
    assert!(
        allocations_during(|| {
            std::hint::black_box(vec![1u8; 16]);
        }) > 0
    );

    // a permuted DAG: 0 → 2 → 1 → 3
    let mut t = sprs::TriMat::new((4, 4));
    for (i, j, v) in [
        (0, 0, 1.0),
        (1, 1, 2.0),
        (2, 2, 1.0),
        (3, 3, 4.0),
        (2, 0, 0.5),
        (1, 2, -1.0),
        (3, 1, 3.0),
    ] {
        t.add_triplet(i, j, v);
    }
    let mut a: sprs::CsMat<f64> = t.to_csc();
    let pattern = sprs::CsStructure::new_csc(
        a.shape(),
        a.indptr().to_proper().into_owned(),
        a.indices().to_vec(),
        vec![(); a.nnz()],
    );
    let mut solver = TriangularSolver::new(DagPattern::check(pattern.view()).unwrap()).unwrap();
    let mut x = vec![1.0; 4];
    solver.factor(&a, "J").unwrap();
    let n = allocations_during(|| {
        a.data_mut().iter_mut().for_each(|v| *v *= 1.5);
        solver.factor(&a, "J").unwrap();
        solver.solve_transpose_in_place(&mut x).unwrap();
        solver.solve_in_place(&mut x).unwrap();
    });
    assert_eq!(n, 0, "triangular re-solve allocated {n} times");

    let (p, theta) = Tridiagonal::random(200, 1).unwrap();
    let (_, theta2) = Tridiagonal::random(200, 2).unwrap();
    let mut ws = AdjointWorkspace::new(&p, SolverKind::Auto).unwrap();
    ws.evaluate(&p, &theta).unwrap();
    let n = allocations_during(|| {
        ws.evaluate(&p, &theta2).unwrap();
        ws.evaluate(&p, &theta).unwrap();
    });
    assert_eq!(n, 0, "LDLᵀ engine evaluation allocated {n} times");

    // the network: the fast path and the explicit engine (triangular sweep)
    use adjoint::problems::mlp::{fast::MlpGradient, Activation, Mlp, Target};
    let (mlp, theta) =
        Mlp::random(&[6, 5, 4, 2], Activation::Tanh, Target::Scalar(0.5), 0.1, 3).unwrap();
    let mut fast = MlpGradient::new(&mlp);
    let mut explicit = AdjointWorkspace::new(&mlp, SolverKind::Auto).unwrap();
    fast.evaluate(&mlp, &theta).unwrap();
    explicit.evaluate(&mlp, &theta).unwrap();
    let n = allocations_during(|| {
        fast.evaluate(&mlp, &theta).unwrap();
    });
    assert_eq!(n, 0, "fast network gradient allocated {n} times");
    let n = allocations_during(|| {
        explicit.evaluate(&mlp, &theta).unwrap();
    });
    assert_eq!(n, 0, "explicit network gradient allocated {n} times");

    // every solver's refactorization and both solves, on a nonsymmetric (LU) and a symmetric
    // non-tridiagonal (sprs-ldl) pattern
    use adjoint::solve::{LdltSolver, LuSolver, Ordering};
    let n = 30;
    let mut t = sprs::TriMat::new((n, n));
    for i in 0..n {
        t.add_triplet(i, i, 4.0 + i as f64);
        t.add_triplet((i + 1) % n, i, -1.0);
        t.add_triplet((i + 7) % n, i, 0.5);
    }
    let mut general: sprs::CsMat<f64> = t.to_csc();
    let sym_pattern = |m: &sprs::CsMat<f64>| {
        sprs::CsStructure::new_csc(
            m.shape(),
            m.indptr().to_proper().into_owned(),
            m.indices().to_vec(),
            vec![(); m.nnz()],
        )
    };
    let mut lu = LuSolver::analyze(&sym_pattern(&general)).unwrap();
    lu.factor(&general, "A").unwrap();
    let mut x = vec![1.0; n];
    let k = allocations_during(|| {
        general.data_mut().iter_mut().for_each(|v| *v *= 1.25);
        lu.factor(&general, "A").unwrap();
        lu.solve_in_place(&mut x).unwrap();
        lu.solve_transpose_in_place(&mut x).unwrap();
    });
    assert_eq!(k, 0, "LU refactor and solves allocated {k} times");
    let mut t = sprs::TriMat::new((n, n));
    for i in 0..n {
        t.add_triplet(i, i, 10.0);
        for d in [1, 5] {
            if i + d < n {
                t.add_triplet(i + d, i, -1.0);
                t.add_triplet(i, i + d, -1.0);
            }
        }
    }
    let mut sym: sprs::CsMat<f64> = t.to_csc();
    for ordering in [Ordering::Auto, Ordering::Natural, Ordering::Amd] {
        let mut ldlt = LdltSolver::analyze(&sym_pattern(&sym), ordering).unwrap();
        ldlt.factor(&sym, "A").unwrap();
        let k = allocations_during(|| {
            sym.data_mut().iter_mut().for_each(|v| *v *= 1.25);
            ldlt.factor(&sym, "A").unwrap();
            ldlt.solve_in_place(&mut x).unwrap();
        });
        assert_eq!(
            k, 0,
            "LDLᵀ ({ordering:?}) refactor and solve allocated {k} times"
        );
    }

    // the general parametrized linear problem (A₀ + Σ θ_k E_k) u = b
    let (tri, theta_l) = Tridiagonal::random(40, 6).unwrap();
    let lin =
        adjoint::problems::linear::ParamLinear::tridiagonal(tri.c().to_vec(), tri.b().to_vec())
            .unwrap();
    let mut ws = AdjointWorkspace::new(&lin, SolverKind::Auto).unwrap();
    ws.evaluate(&lin, &theta_l).unwrap();
    let k = allocations_during(|| {
        ws.evaluate(&lin, &theta_l).unwrap();
    });
    assert_eq!(k, 0, "ParamLinear evaluation allocated {k} times");

    // a derived model: Newton, compressed Jacobians, the taped objective
    struct Rd(usize);
    impl adjoint::Model for Rd {
        fn n_state(&self) -> usize {
            self.0
        }
        fn n_params(&self) -> usize {
            self.0
        }
        fn residual<T: adjoint::Scalar>(&self, u: &[T], th: &[T], f: &mut [T]) {
            let n = self.0;
            for i in 0..n {
                let l = if i > 0 { u[i - 1] } else { T::zero() };
                let r = if i + 1 < n { u[i + 1] } else { T::zero() };
                f[i] = (u[i] * 2.0 - l - r) * 100.0 + th[i] * u[i].powi(3) - 1.0;
            }
        }
        fn objective<T: adjoint::Scalar>(&self, u: &[T], th: &[T]) -> T {
            u.iter()
                .zip(th)
                .fold(T::zero(), |s, (&x, &t)| s + x * x * t)
        }
    }
    let d = adjoint::Derived::new(Rd(50)).unwrap();
    let th1 = vec![1.0; 50];
    let th2 = vec![2.0; 50];
    let mut ws = AdjointWorkspace::new(&d, SolverKind::Auto).unwrap();
    ws.evaluate(&d, &th1).unwrap();
    ws.evaluate(&d, &th2).unwrap();
    let k = allocations_during(|| {
        ws.evaluate(&d, &th1).unwrap();
        ws.evaluate(&d, &th2).unwrap();
    });
    assert_eq!(k, 0, "derived model evaluation allocated {k} times");

    // the engine with each forced solver that applies
    for kind in [SolverKind::Ldlt, SolverKind::Lu] {
        let (p, theta) = Tridiagonal::random(300, 4).unwrap();
        let mut ws = AdjointWorkspace::new(&p, kind).unwrap();
        ws.evaluate(&p, &theta).unwrap();
        let k = allocations_during(|| {
            ws.evaluate(&p, &theta).unwrap();
        });
        assert_eq!(k, 0, "engine with {kind} allocated {k} times");
    }

    // above the thresholds: two threads (2¹⁹ entries) and streaming stores (2²⁰)
    let (p, theta) = Tridiagonal::random((1 << 20) + 1, 5).unwrap();
    let mut ws = AdjointWorkspace::new(&p, SolverKind::Auto).unwrap();
    ws.evaluate(&p, &theta).unwrap();
    ws.evaluate(&p, &theta).unwrap();
    let k = allocations_during(|| {
        ws.evaluate(&p, &theta).unwrap();
    });
    assert_eq!(k, 0, "large tridiagonal evaluation allocated {k} times");
    let (mlp, theta) = Mlp::random(
        &[1024, 1024, 1],
        Activation::Tanh,
        Target::Scalar(0.5),
        0.0,
        3,
    )
    .unwrap();
    let mut fast = MlpGradient::new(&mlp);
    let mut explicit = AdjointWorkspace::new(&mlp, SolverKind::Auto).unwrap();
    fast.evaluate(&mlp, &theta).unwrap();
    explicit.evaluate(&mlp, &theta).unwrap();
    explicit.evaluate(&mlp, &theta).unwrap();
    let k = allocations_during(|| {
        fast.evaluate(&mlp, &theta).unwrap();
        explicit.evaluate(&mlp, &theta).unwrap();
    });
    assert_eq!(k, 0, "large network gradients allocated {k} times");

    // a general network (skips, residuals, shared groups) through the engine
    use adjoint::problems::network::{LayerSpec, Network, NetworkFile};
    let file: NetworkFile = serde_json::from_str(
        r#"{"input": 3, "activation": "tanh", "y": 0.5, "regularization": 0.01,
            "layers": [{"size": 4, "inputs": [0], "group": 0},
                       {"size": 4, "inputs": [1], "group": 1, "residual": 1},
                       {"size": 4, "inputs": [2], "group": 1},
                       {"size": 1, "inputs": [3, 0], "group": 2}]}"#,
    )
    .unwrap();
    let _: Option<LayerSpec> = None;
    let (net, theta) = Network::random(&file, 1).unwrap();
    let mut ws = AdjointWorkspace::new(&net, SolverKind::Auto).unwrap();
    ws.evaluate(&net, &theta).unwrap();
    let k = allocations_during(|| {
        ws.evaluate(&net, &theta).unwrap();
    });
    assert_eq!(k, 0, "network engine evaluation allocated {k} times");
}
