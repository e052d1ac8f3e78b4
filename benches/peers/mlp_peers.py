"""Peers for `cargo bench --bench mlp`: the same network gradient in PyTorch and JAX.

Protocol (issue 13, point 7): one sample, float64, activation sigma(z) = exp(-z) on every
layer, L = ||u_N - 3||^2, rho = 0, weights and biases ~ 0.01 N(0, 1); gradient with respect
to every weight and bias. PyTorch runs on one thread (`torch.set_num_threads(1)`); JAX is
`jax.jit(jax.value_and_grad(L))` with x64 enabled and XLA on one thread. Compilation and
warm-up are excluded; each figure is the median over repeats of the mean of a timed batch.

Not part of CI (needs `pip install torch jax jaxlib`). Run beside the Rust bench, in one
session, on an otherwise idle machine:

    python3 benches/peers/mlp_peers.py
    cargo bench --bench mlp
"""

import os

os.environ.setdefault(
    "XLA_FLAGS",
    "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
)

import statistics
import sys
import time

import numpy as np

NETWORKS = [
    [50, 40, 30, 20, 10, 1],
    [784, 512, 512, 256, 1],
    [2048, 2048, 2048, 1],
]
TARGET = 3.0


def parameters(layers, seed=0):
    rng = np.random.default_rng(seed)
    weights = [0.01 * rng.standard_normal((m, n)) for n, m in zip(layers, layers[1:])]
    biases = [0.01 * rng.standard_normal(m) for m in layers[1:]]
    u0 = 0.01 * rng.standard_normal(layers[0])
    return weights, biases, u0


def median_time(fn, budget=1.0, repeats=7):
    """Median over `repeats` of the mean seconds per call in a batch sized to ~budget/repeats."""
    fn()
    start = time.perf_counter()
    fn()
    once = max(time.perf_counter() - start, 1e-7)
    batch = max(1, int(budget / repeats / once))
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(batch):
            fn()
        samples.append((time.perf_counter() - start) / batch)
    return statistics.median(samples)


def torch_times(layers):
    import torch

    torch.set_num_threads(1)
    weights, biases, u0 = parameters(layers)
    ws = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in weights]
    bs = [torch.tensor(b, dtype=torch.float64, requires_grad=True) for b in biases]
    x0 = torch.tensor(u0, dtype=torch.float64)
    params = [p for pair in zip(ws, bs) for p in pair]

    def loss():
        u = x0
        for w, b in zip(ws, bs):
            u = torch.exp(-(w @ u + b))
        return ((u - TARGET) ** 2).sum()

    def forward():
        with torch.no_grad():
            return loss().item()

    def gradient():
        value = loss()
        grads = torch.autograd.grad(value, params)
        return value.item(), grads[-1][0].item()

    return median_time(forward), median_time(gradient)


def jax_times(layers):
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    weights, biases, u0 = parameters(layers)
    params = [(jnp.asarray(w), jnp.asarray(b)) for w, b in zip(weights, biases)]
    x0 = jnp.asarray(u0)

    def loss(params):
        u = x0
        for w, b in params:
            u = jnp.exp(-(w @ u + b))
        return jnp.sum((u - TARGET) ** 2)

    forward = jax.jit(loss)
    gradient = jax.jit(jax.value_and_grad(loss))

    def run_forward():
        return forward(params).block_until_ready()

    def run_gradient():
        value, grads = gradient(params)
        jax.block_until_ready(grads)
        return value

    return median_time(run_forward), median_time(run_gradient)


def fmt(seconds):
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    return f"{seconds * 1e3:.2f} ms"


def main():
    print("| layers | PyTorch forward | PyTorch gradient | JAX forward | JAX gradient |")
    print("|---|---|---|---|---|")
    for layers in NETWORKS:
        tf, tg = torch_times(layers)
        jf, jg = jax_times(layers)
        name = "-".join(map(str, layers))
        print(f"| {name} | {fmt(tf)} | {fmt(tg)} | {fmt(jf)} | {fmt(jg)} |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
