"""Peer for `cargo bench --bench ode`: the Lotka-Volterra gradient through time stepping in JAX.

Protocol (issue 15, performance): implicit Euler on a uniform grid, T = 10, x0 = (1, 1),
theta = (a, b, c, d) = (1.5, 1, 3, 1), g = (a x1 - b x1 x2, d x1 x2 - c x2),
L = sum_k h l(x_k) with l = x1 + x2; `jax.jit(jax.value_and_grad(L))` with x64, reverse mode
through `lax.scan` over the steps, each step 4 unrolled Newton iterations (2x2 solve by
Cramer's rule). XLA on one thread. Compilation and warm-up excluded; the figure is the
median over repeats.

Not part of CI (needs `pip install jax jaxlib`). Run beside the Rust bench, in one session:

    python3 benches/peers/ode_peers.py [K ...]
    cargo bench --bench ode
"""

import os

os.environ.setdefault(
    "XLA_FLAGS",
    "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
)

import statistics
import sys
import time

import jax
import jax.numpy as jnp

jax.config.update("jax_enable_x64", True)


def objective(theta, steps, t_end=10.0):
    a, b, c, d = theta
    h = t_end / steps

    def g(x):
        p = x[0] * x[1]
        return jnp.array([a * x[0] - b * p, d * p - c * x[1]])

    def step(x_prev, _):
        y = x_prev
        for _ in range(4):
            f = y - x_prev - h * g(y)
            j00 = 1.0 - h * (a - b * y[1])
            j01 = h * b * y[0]
            j10 = -h * d * y[1]
            j11 = 1.0 - h * (d * y[0] - c)
            det = j00 * j11 - j01 * j10
            dy = jnp.array([(f[0] * j11 - f[1] * j01) / det, (f[1] * j00 - f[0] * j10) / det])
            y = y - dy
        return y, h * (y[0] + y[1])

    _, costs = jax.lax.scan(step, jnp.array([1.0, 1.0]), None, length=steps)
    return jnp.sum(costs)


def main():
    sizes = [int(k) for k in sys.argv[1:]] or [10_000]
    theta = jnp.array([1.5, 1.0, 3.0, 1.0])
    for steps in sizes:
        f = jax.jit(jax.value_and_grad(lambda t: objective(t, steps)))
        value, grad = f(theta)
        grad.block_until_ready()
        times = []
        for _ in range(15):
            t0 = time.perf_counter()
            value, grad = f(theta)
            grad.block_until_ready()
            times.append(time.perf_counter() - t0)
        print(
            f"lotka-volterra implicit Euler K = {steps}: JAX {1e3 * statistics.median(times):.2f} ms"
            f" (L = {float(value):.12e}, grad = {[float(g) for g in grad]})"
        )


if __name__ == "__main__":
    main()
