//! The MBB beam of the 88-line code: element stiffness, the adjoint (λ = −u, the classic
//! sensitivity, finite differences and dual numbers), the paper's three compliances.

#![allow(clippy::needless_range_loop)] // matrices indexed as in the paper

use adjoint::check::compare_with_derived;
use adjoint::problems::topopt::mesh::{element_dofs, element_stiffness};
use adjoint::problems::topopt::{optimize, FilterKind, MbbBeam, OcOptions};
use adjoint::{AdjointWorkspace, Derived, Objective, SolverKind};

fn random_densities(n: usize, seed: u64) -> Vec<f64> {
    // a small LCG: the densities only need to differ from element to element
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            0.2 + 0.8 * ((s >> 11) as f64 / (1u64 << 53) as f64)
        })
        .collect()
}

#[test]
fn element_stiffness_is_the_closed_form_and_has_three_rigid_body_modes() {
    let ke = element_stiffness(0.3);
    let c = 1.0 / (1.0 - 0.09);
    // the paper's k vector: KE's first row is c·[k1 k2 k3 k4 k5 k6 k7 k8]
    let nu = 0.3;
    let k = [
        0.5 - nu / 6.0,
        0.125 + nu / 8.0,
        -0.25 - nu / 12.0,
        -0.125 + 3.0 * nu / 8.0,
        -0.25 + nu / 12.0,
        -0.125 - nu / 8.0,
        nu / 6.0,
        0.125 - 3.0 * nu / 8.0,
    ];
    // the 99-line code's table of KE in these k's (the 88-line paper's closed form is the same
    // matrix)
    let table = [
        [1, 2, 3, 4, 5, 6, 7, 8],
        [2, 1, 8, 7, 6, 5, 4, 3],
        [3, 8, 1, 6, 7, 4, 5, 2],
        [4, 7, 6, 1, 8, 3, 2, 5],
        [5, 6, 7, 8, 1, 2, 3, 4],
        [6, 5, 4, 3, 2, 1, 8, 7],
        [7, 4, 5, 2, 3, 8, 1, 6],
        [8, 3, 2, 5, 4, 7, 6, 1],
    ];
    for a in 0..8 {
        for b in 0..8 {
            let want = c * k[table[a][b] - 1];
            assert!(
                (ke[a][b] - want).abs() < 1e-15,
                "KE[{a}][{b}] = {} vs {want}",
                ke[a][b]
            );
        }
    }
    for a in 0..8 {
        for b in 0..8 {
            assert_eq!(ke[a][b], ke[b][a], "symmetry at ({a}, {b})");
        }
    }
    // node coordinates (x right, y up) in KE's order: bottom-left, bottom-right, top-right,
    // top-left of the unit square
    let xy = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)];
    let tx: Vec<f64> = (0..8).map(|i| if i % 2 == 0 { 1.0 } else { 0.0 }).collect();
    let ty: Vec<f64> = (0..8).map(|i| if i % 2 == 1 { 1.0 } else { 0.0 }).collect();
    let rot: Vec<f64> = (0..8)
        .map(|i| {
            let (x, y) = xy[i / 2];
            if i % 2 == 0 {
                -y
            } else {
                x
            }
        })
        .collect();
    for (name, mode) in [("x", &tx), ("y", &ty), ("rotation", &rot)] {
        for (a, row) in ke.iter().enumerate() {
            let f: f64 = row.iter().zip(mode.iter()).map(|(k, v)| k * v).sum();
            assert!(f.abs() < 1e-14, "{name} mode: (KE v)[{a}] = {f}");
        }
    }
    // and a stretch is not a rigid mode
    let stretch: Vec<f64> = (0..8)
        .map(|i| if i % 2 == 0 { xy[i / 2].0 } else { 0.0 })
        .collect();
    let energy: f64 = (0..8)
        .map(|a| stretch[a] * (0..8).map(|b| ke[a][b] * stretch[b]).sum::<f64>())
        .sum();
    assert!(energy > 0.1, "stretch energy {energy}");
}

#[test]
fn element_dofs_follow_the_paper() {
    // nely = 2: element (ex = 1, ey = 0) has nodes bottom-left (1, 1) = 4, bottom-right
    // (2, 1) = 7, top-right (2, 0) = 6, top-left (1, 0) = 3
    assert_eq!(element_dofs(2, 1, 0), [8, 9, 14, 15, 12, 13, 6, 7]);
}

#[test]
fn the_adjoint_is_minus_u_and_the_gradient_is_the_classic_sensitivity() {
    for (nelx, nely, seed) in [(6, 3, 1), (6, 3, 2), (9, 4, 3), (2, 1, 4)] {
        for penal in [1.0, 3.0] {
            let beam = MbbBeam::new(nelx, nely, penal).unwrap();
            let x = random_densities(beam.n_elements(), seed);
            let mut ws = AdjointWorkspace::new(&beam, SolverKind::Auto).unwrap();
            let c = ws.evaluate(&beam, &x).unwrap();
            let u = ws.u().to_vec();
            let scale = u.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
            for (l, v) in ws.lambda().iter().zip(&u) {
                assert!((l + v).abs() <= 1e-12 * scale, "λ = −u: {l} vs {v}");
            }
            let mut energy = vec![0.0; beam.n_elements()];
            beam.element_energies(&u, &mut energy);
            // compliance = Σ_e E(x_e) u_eᵀ KE u_e
            let sum: f64 = x
                .iter()
                .zip(&energy)
                .map(|(&xe, en)| beam.modulus(xe) * en)
                .sum();
            assert!((sum - c).abs() <= 1e-10 * c, "{sum} vs {c}");
            for (e, (g, en)) in ws.gradient().iter().zip(&energy).enumerate() {
                let classic = -beam.modulus_derivative(x[e]) * en;
                assert!(
                    (g - classic).abs() <= 1e-10 * classic.abs().max(1e-12),
                    "{nelx}×{nely} p={penal} e={e}: {g} vs {classic}"
                );
            }
        }
    }
}

#[test]
fn the_gradient_agrees_with_finite_differences_and_dual_numbers() {
    for (nelx, nely, seed) in [(6, 3, 7), (6, 3, 8), (5, 4, 9)] {
        let beam = MbbBeam::new(nelx, nely, 3.0).unwrap();
        let x = random_densities(beam.n_elements(), seed);
        let mut ws = AdjointWorkspace::new(&beam, SolverKind::Auto).unwrap();
        ws.evaluate(&beam, &x).unwrap();
        let grad = ws.gradient().to_vec();
        let compliance = |x: &[f64]| {
            let mut w = AdjointWorkspace::new(&beam, SolverKind::Lu).unwrap();
            w.evaluate(&beam, x).unwrap()
        };
        for e in 0..beam.n_elements() {
            let h = 1e-5;
            let (mut xp, mut xm) = (x.clone(), x.clone());
            xp[e] += h;
            xm[e] -= h;
            let fd = (compliance(&xp) - compliance(&xm)) / (2.0 * h);
            assert!(
                // central differences carry the solves' rounding over h: ~1e-6 relative here
                (fd - grad[e]).abs() <= 1e-5 * grad[e].abs().max(1e-3),
                "{nelx}×{nely} seed {seed} e={e}: fd {fd} vs adjoint {}",
                grad[e]
            );
        }
        // the hand-written Jacobians and objective partials against the model's derived ones
        let u = ws.u().to_vec();
        let derived = Derived::new(beam.model()).unwrap();
        let report = compare_with_derived(&beam, &derived, &u, &x).unwrap();
        assert!(report.passes(1e-14), "{report:?}");
        // and the gradient through the derived model's (dual-number) Jacobians
        let mut dws = AdjointWorkspace::new(&derived, SolverKind::Auto).unwrap();
        dws.evaluate(&derived, &x).unwrap();
        for (a, b) in dws.gradient().iter().zip(&grad) {
            assert!((a - b).abs() <= 1e-10 * b.abs().max(1e-6), "{a} vs {b}");
        }
        assert!((beam.objective(&u, &x).unwrap() - ws.objective()).abs() < 1e-14 * ws.objective());
    }
}

fn paper(nelx: usize, nely: usize, rmin: f64, ft: u32) -> f64 {
    let beam = MbbBeam::new(nelx, nely, 3.0).unwrap();
    let options = OcOptions {
        volfrac: 0.5,
        rmin,
        filter: FilterKind::from_ft(ft).unwrap(),
        ..OcOptions::default()
    };
    let mut seen = 0;
    let result = optimize(&beam, &options, |it| {
        assert_eq!(it.index, seen);
        seen += 1;
    })
    .unwrap();
    assert_eq!(seen, result.iterations());
    let last = result.history.last().unwrap();
    assert!(
        last.change <= 0.01,
        "did not converge: change {}",
        last.change
    );
    assert!((last.volume - 0.5).abs() < 1e-3, "volume {}", last.volume);
    result.compliance()
}

#[test]
fn the_papers_compliances_60_by_20() {
    let c1 = paper(60, 20, 2.4, 1);
    assert!((c1 - 216.81).abs() <= 0.005, "ft = 1: {c1}");
    let c2 = paper(60, 20, 2.4, 2);
    assert!((c2 - 233.71).abs() <= 0.005, "ft = 2: {c2}");
}

#[test]
fn the_papers_compliance_150_by_50() {
    let c = paper(150, 50, 6.0, 1);
    assert!((c - 219.52).abs() <= 0.005, "150×50: {c}");
}

#[test]
fn auto_picks_cholesky_and_every_solver_gives_the_same_gradient() {
    let beam = MbbBeam::new(12, 5, 3.0).unwrap();
    let x = random_densities(beam.n_elements(), 11);
    let mut auto = AdjointWorkspace::new(&beam, SolverKind::Auto).unwrap();
    auto.evaluate(&beam, &x).unwrap();
    assert_eq!(auto.solver().name(), "cholesky");
    assert_eq!(auto.solver().kernel(), "faer-cholesky");
    assert_eq!(auto.solver().fallback(), None);
    for kind in [SolverKind::Cholesky, SolverKind::Ldlt, SolverKind::Lu] {
        let mut ws = AdjointWorkspace::new(&beam, kind).unwrap();
        let c = ws.evaluate(&beam, &x).unwrap();
        assert!((c - auto.objective()).abs() <= 1e-11 * c, "{kind}");
        // the solvers round differently; K's condition number (densities 0.2–1) amplifies it
        let scale = auto.gradient().iter().fold(0.0_f64, |m, g| m.max(g.abs()));
        for (a, b) in ws.gradient().iter().zip(auto.gradient()) {
            assert!((a - b).abs() <= 1e-10 * scale, "{kind}: {a} vs {b}");
        }
    }
}

/// K of one free-floating element (no supports) has three rigid-body modes: singular.
#[test]
fn a_singular_stiffness_is_a_typed_error() {
    use adjoint::solve::{Factorization, Solver};
    let ke = element_stiffness(0.3);
    let mut t = sprs::TriMat::new((8, 8));
    for (a, row) in ke.iter().enumerate() {
        for (b, &v) in row.iter().enumerate() {
            t.add_triplet(a, b, v);
        }
    }
    let k: sprs::CsMat<f64> = t.to_csc();
    for kind in [SolverKind::Cholesky, SolverKind::Auto] {
        let mut s = Solver::analyze(&adjoint::sparse::pattern_of(&k), kind).unwrap();
        let e = s.factor(&k, "K").unwrap_err();
        assert!(
            matches!(
                e,
                adjoint::Error::SingularPivot { .. } | adjoint::Error::NumericallySingular { .. }
            ),
            "{kind}: {e}"
        );
        assert!(e.to_string().contains('K'), "{e}");
    }
}

/// `K u` from the gathered `∂f/∂u` against the element-by-element residual `K u − F`, and
/// `uᵀ ∂f/∂θ` against `p x^{p−1} (E_0 − E_min) u_eᵀ KE u_e`, below and above the sizes from
/// which the fills run on two threads.
#[test]
fn the_filled_jacobians_agree_with_the_element_loops() {
    use adjoint::problem::{Jacobians, Residual};
    use adjoint::thresholds::{PARALLEL_ELEMENTS, PARALLEL_THRESHOLD};
    for (nelx, nely, seed) in [(6, 3, 1), (300, 100, 2)] {
        let beam = MbbBeam::new(nelx, nely, 3.0).unwrap();
        let x = random_densities(beam.n_elements(), seed);
        let n = beam.n_state_dofs();
        let u: Vec<f64> = random_densities(n, seed + 7)
            .iter()
            .map(|v| v - 0.6)
            .collect();
        let kp = beam.dfdu_pattern();
        let mut kv = vec![0.0; kp.nnz()];
        beam.fill_dfdu(&u, &x, &mut kv).unwrap();
        let k = sprs::CsMat::new_csc(
            kp.shape(),
            kp.indptr().to_proper().into_owned(),
            kp.indices().to_vec(),
            kv,
        );
        let mut ku = vec![0.0; n];
        sprs::prod::mul_acc_mat_vec_csc(k.view(), &u, &mut ku);
        let mut f = vec![0.0; n];
        beam.residual(&u, &x, &mut f).unwrap();
        let scale = ku.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for (r, ((a, b), c)) in ku.iter().zip(&f).zip(beam.load()).enumerate() {
            assert!(
                (a - (b + c)).abs() <= 1e-12 * scale,
                "{nelx}×{nely} row {r}"
            );
        }

        let tp = beam.dfdtheta_pattern();
        let mut tv = vec![0.0; tp.nnz()];
        beam.fill_dfdtheta(&u, &x, &mut tv).unwrap();
        let mut energies = vec![0.0; beam.n_elements()];
        beam.element_energies(&u, &mut energies);
        for e in 0..beam.n_elements() {
            let range = tp.indptr().index(e)..tp.indptr().index(e + 1);
            let ut_col: f64 = tp.indices()[range.clone()]
                .iter()
                .zip(&tv[range])
                .map(|(&r, v)| u[r] * v)
                .sum();
            let want = beam.modulus_derivative(x[e]) * energies[e];
            assert!(
                (ut_col - want).abs() <= 1e-12 * want.abs().max(1e-300),
                "{nelx}×{nely} column {e}: {ut_col} vs {want}"
            );
        }
        if nelx == 300 {
            assert!(beam.n_elements() >= PARALLEL_ELEMENTS && k.nnz() >= PARALLEL_THRESHOLD);
        } else {
            assert!(beam.n_elements() < PARALLEL_ELEMENTS && k.nnz() < PARALLEL_THRESHOLD);
        }
    }
}
