//! The Q4 plane-stress mesh of the 88-line code: numbering, element stiffness, supports and
//! load of the MBB half-beam.
//!
//! Column-major numbering, counted downwards from the top: element `e = ex·nely + ey`, node
//! `nx·(nely+1) + ny`, dofs `2·node` (x) and `2·node + 1` (y). An element's 8 dofs, in the
//! order of [`element_stiffness`], are the (x, y) dofs of its nodes bottom-left
//! `(ex, ey+1)`, bottom-right `(ex+1, ey+1)`, top-right `(ex+1, ey)`, top-left `(ex, ey)`.

/// The unit-modulus element stiffness of a unit square bilinear plane-stress element, the
/// paper's closed form
///
/// ```text
///     KE = 1/(1−ν²)/24 · ([A11 A12; A12ᵀ A11] + ν [B11 B12; B12ᵀ B11])
/// ```
///
/// with `A11 = [12 3 −6 −3; 3 12 3 0; −6 3 12 −3; −3 0 −3 12]`,
/// `A12 = [−6 −3 0 3; −3 −6 −3 −6; 0 −3 −6 3; 3 −6 3 −6]`,
/// `B11 = [−4 3 −2 9; 3 −4 −9 4; −2 −9 −4 −3; 9 4 −3 −4]`,
/// `B12 = [2 −3 4 −9; −3 2 9 −2; 4 9 2 3; −9 −2 3 2]`.
pub fn element_stiffness(nu: f64) -> [[f64; 8]; 8] {
    const A11: [[f64; 4]; 4] = [
        [12.0, 3.0, -6.0, -3.0],
        [3.0, 12.0, 3.0, 0.0],
        [-6.0, 3.0, 12.0, -3.0],
        [-3.0, 0.0, -3.0, 12.0],
    ];
    const A12: [[f64; 4]; 4] = [
        [-6.0, -3.0, 0.0, 3.0],
        [-3.0, -6.0, -3.0, -6.0],
        [0.0, -3.0, -6.0, 3.0],
        [3.0, -6.0, 3.0, -6.0],
    ];
    const B11: [[f64; 4]; 4] = [
        [-4.0, 3.0, -2.0, 9.0],
        [3.0, -4.0, -9.0, 4.0],
        [-2.0, -9.0, -4.0, -3.0],
        [9.0, 4.0, -3.0, -4.0],
    ];
    const B12: [[f64; 4]; 4] = [
        [2.0, -3.0, 4.0, -9.0],
        [-3.0, 2.0, 9.0, -2.0],
        [4.0, 9.0, 2.0, 3.0],
        [-9.0, -2.0, 3.0, 2.0],
    ];
    // block (I, J) of the 2 × 2 block matrix [M11 M12; M12ᵀ M11]
    let block = |m11: &[[f64; 4]; 4], m12: &[[f64; 4]; 4], r: usize, c: usize| match (r / 4, c / 4)
    {
        (0, 0) | (1, 1) => m11[r % 4][c % 4],
        (0, 1) => m12[r % 4][c % 4],
        _ => m12[c % 4][r % 4],
    };
    let scale = 1.0 / (1.0 - nu * nu) / 24.0;
    let mut ke = [[0.0; 8]; 8];
    for (r, row) in ke.iter_mut().enumerate() {
        for (c, k) in row.iter_mut().enumerate() {
            *k = scale * (block(&A11, &A12, r, c) + nu * block(&B11, &B12, r, c));
        }
    }
    ke
}

/// The global dofs of element `(ex, ey)` in [`element_stiffness`]'s order.
pub fn element_dofs(nely: usize, ex: usize, ey: usize) -> [usize; 8] {
    let node = |nx: usize, ny: usize| nx * (nely + 1) + ny;
    let nodes = [
        node(ex, ey + 1),
        node(ex + 1, ey + 1),
        node(ex + 1, ey),
        node(ex, ey),
    ];
    let mut dofs = [0; 8];
    for (k, n) in nodes.iter().enumerate() {
        dofs[2 * k] = 2 * n;
        dofs[2 * k + 1] = 2 * n + 1;
    }
    dofs
}

/// The fixed dofs of the MBB half-beam, sorted: the x-dofs of the left edge and the y-dof of
/// the bottom-right node.
pub fn mbb_fixed_dofs(nelx: usize, nely: usize) -> Vec<usize> {
    let mut fixed: Vec<usize> = (0..=nely).map(|ny| 2 * ny).collect();
    fixed.push(2 * (nelx * (nely + 1) + nely) + 1);
    fixed
}

/// The dof of the MBB load: the y-dof of the top-left node (node 0), loaded by `−1`.
pub const MBB_LOAD_DOF: usize = 1;
