"""The fused training engine: many SGD steps per call, compiled with Numba, without the GIL.

:class:`~digitviz.core.training.Trainer` walks the data and keeps the records; this module only does the
arithmetic of a *chunk* of consecutive mini-batches in one compiled call: forward pass, cost, backprop,
the divergence checks, L2, momentum and the update of ``theta``, for every activation and cost of
:mod:`digitviz.core.network`, any layer sizes, any batch size, float32 or float64. The NumPy code in
``network.py`` / ``training.py`` is the reference; ``tests/core/test_fused.py`` runs both from the same
seed and asserts the same batches and the same parameters.

Why it is faster than the NumPy path: no Python between the layers or the steps (a NumPy step is ~40
small calls), no temporaries, and the two big products of every step (the first layer's forward
``X @ W1.T`` and its weight gradient ``delta1.T @ X``) are register-blocked over four examples, so each
weight row is loaded once per four examples. It releases the GIL (``nogil=True``), so the GUI thread runs
while a chunk trains, and it is cached on disk (``cache=True``), so only the very first run compiles.

Layout (the same as :class:`~digitviz.core.network.Layout`): ``theta`` is flat; layer ``l``'s ``W`` of shape
``(n_out, n_in)`` sits row-major at ``w_off[l]``, its ``b`` at ``b_off[l]``. Batches are batch-major and
flat: row ``b`` of an ``(nb, n)`` buffer starts at ``b * n``.

Imports: NumPy, the standard library and Numba (an optional dependency: without it :func:`available`
is False and the trainer uses NumPy).
"""

from __future__ import annotations

import contextlib
import importlib.util
import threading
import time

import numpy as np

try:  # numba is a dependency, but the app must still run (on NumPy) where it cannot be imported
    import numba
    from numba import njit
except ImportError:  # pragma: no cover - exercised only without numba
    numba = None

ACT_CODES = {"sigmoid": 0, "relu": 1, "tanh": 2}
COST_CODES = {"quadratic": 0, "cross_entropy": 1}
# BLAS or loops for the big products. With SciPy installed, Numba's np.dot calls SciPy's OpenBLAS from
# compiled code. Measured here (2 shared cores, one thread, 784-16-16-10, float32, whole epochs): with
# 4x1 tiles the loops were as fast as BLAS at mini-batch 10 and ~15% faster at 100; the 4x4 tiles now
# used ran the forward product at ~100 GFLOP/s alone against ~70 for BLAS; and they need no SciPy. So the
# loops are the default; set True to measure BLAS (editing this file invalidates Numba's cache). A module
# constant: Numba prunes the disabled branch before typing, so SciPy is never needed when False.
HAVE_BLAS = False and importlib.util.find_spec("scipy") is not None
BLAS_MIN = 2048  # products with fewer weights than this stay in loops (a BLAS call costs ~0.3 us)
# status codes returned by the kernel
OK, NOT_FINITE, BLEW_UP, ROSE = 0, 1, 2, 3

# Reassociation lets LLVM vectorise the dot products; no "nnan"/"ninf": the divergence checks need them.
# No "arcp" either: the images are divided by 255 exactly as NumPy does (not multiplied by 1/255).
_FASTMATH = {"reassoc", "contract", "nsz"}


def available() -> bool:
    """True when Numba can be imported (the fused engine can run)."""
    return numba is not None


if numba is not None:
    from llvmlite import ir
    from numba.core import cgutils, types
    from numba.extending import intrinsic

    @intrinsic
    def _prefetch(typingctx, arr, k):
        """Ask the CPU to bring the cache line holding ``arr.flat[k]`` into L2 (LLVM's ``llvm.prefetch``)."""
        if not isinstance(arr, types.Array) or not isinstance(k, types.Integer):
            return None

        def codegen(context, builder, signature, args):
            ary = context.make_array(signature.args[0])(context, builder, args[0])
            ptr = builder.bitcast(builder.gep(ary.data, [args[1]]), ir.IntType(8).as_pointer())
            i32 = ir.IntType(32)
            name = "llvm.prefetch.p0" if str(ptr.type) == "ptr" else "llvm.prefetch.p0i8"  # opaque pointers or not
            fnty = ir.FunctionType(ir.VoidType(), [ptr.type, i32, i32, i32])
            fn = cgutils.get_or_insert_function(builder.module, fnty, name)
            builder.call(fn, [ptr, i32(0), i32(2), i32(1)])  # read, keep in L2, data cache
            return context.get_dummy_value()

        return types.void(arr, k), codegen

    @njit(nogil=True, cache=True, fastmath=_FASTMATH)
    def _dense_forward(src, rows, n_in, theta, w_off, b_off, n_out, nb, z):
        """``z[b, j] = src_row(b) . W[j] + b[j]`` for ``b < nb``; input row ``b`` starts at ``rows[b] * n_in``.

        Tiles of 4 neurons x 4 examples: 16 running dot products, so every vector load of an input row
        or a weight row feeds 4 fused multiply-adds. Neurons outside, examples inside: four weight rows
        stay in L1 while the batch's rows stream past (from L2 after the first tile), so ``W`` is read
        once per step even when it is large (784-256-10). Row views indexed from 0 by the loop variable
        let Numba drop its negative-index check, so LLVM emits contiguous vector loads
        (``src[r + i]`` gave gathers, 3 GFLOP/s).
        """
        zero = theta.dtype.type(0)
        j = 0
        while j + 4 <= n_out:
            w = theta[w_off + j * n_in:w_off + (j + 1) * n_in]
            v = theta[w_off + (j + 1) * n_in:w_off + (j + 2) * n_in]
            u = theta[w_off + (j + 2) * n_in:w_off + (j + 3) * n_in]
            y = theta[w_off + (j + 3) * n_in:w_off + (j + 4) * n_in]
            bw = theta[b_off + j]
            bv = theta[b_off + j + 1]
            bu = theta[b_off + j + 2]
            by = theta[b_off + j + 3]
            b0 = 0
            while b0 + 4 <= nb:
                x0 = src[rows[b0] * n_in:(rows[b0] + 1) * n_in]
                x1 = src[rows[b0 + 1] * n_in:(rows[b0 + 1] + 1) * n_in]
                x2 = src[rows[b0 + 2] * n_in:(rows[b0 + 2] + 1) * n_in]
                x3 = src[rows[b0 + 3] * n_in:(rows[b0 + 3] + 1) * n_in]
                s0 = s1 = s2 = s3 = t0 = t1 = t2 = t3 = zero
                p0 = p1 = p2 = p3 = q0 = q1 = q2 = q3 = zero
                for i in range(n_in):
                    wi = w[i]
                    vi = v[i]
                    ui = u[i]
                    yi = y[i]
                    a0 = x0[i]
                    a1 = x1[i]
                    a2 = x2[i]
                    a3 = x3[i]
                    s0 += a0 * wi
                    s1 += a1 * wi
                    s2 += a2 * wi
                    s3 += a3 * wi
                    t0 += a0 * vi
                    t1 += a1 * vi
                    t2 += a2 * vi
                    t3 += a3 * vi
                    p0 += a0 * ui
                    p1 += a1 * ui
                    p2 += a2 * ui
                    p3 += a3 * ui
                    q0 += a0 * yi
                    q1 += a1 * yi
                    q2 += a2 * yi
                    q3 += a3 * yi
                o0 = b0 * n_out + j
                o1 = o0 + n_out
                o2 = o1 + n_out
                o3 = o2 + n_out
                z[o0] = s0 + bw
                z[o1] = s1 + bw
                z[o2] = s2 + bw
                z[o3] = s3 + bw
                z[o0 + 1] = t0 + bv
                z[o1 + 1] = t1 + bv
                z[o2 + 1] = t2 + bv
                z[o3 + 1] = t3 + bv
                z[o0 + 2] = p0 + bu
                z[o1 + 2] = p1 + bu
                z[o2 + 2] = p2 + bu
                z[o3 + 2] = p3 + bu
                z[o0 + 3] = q0 + by
                z[o1 + 3] = q1 + by
                z[o2 + 3] = q2 + by
                z[o3 + 3] = q3 + by
                b0 += 4
            while b0 < nb:
                x0 = src[rows[b0] * n_in:(rows[b0] + 1) * n_in]
                s0 = t0 = p0 = q0 = zero
                for i in range(n_in):
                    a0 = x0[i]
                    s0 += a0 * w[i]
                    t0 += a0 * v[i]
                    p0 += a0 * u[i]
                    q0 += a0 * y[i]
                o0 = b0 * n_out + j
                z[o0] = s0 + bw
                z[o0 + 1] = t0 + bv
                z[o0 + 2] = p0 + bu
                z[o0 + 3] = q0 + by
                b0 += 1
            j += 4
        while j < n_out:
            w = theta[w_off + j * n_in:w_off + (j + 1) * n_in]
            bw = theta[b_off + j]
            b0 = 0
            while b0 + 4 <= nb:
                x0 = src[rows[b0] * n_in:(rows[b0] + 1) * n_in]
                x1 = src[rows[b0 + 1] * n_in:(rows[b0 + 1] + 1) * n_in]
                x2 = src[rows[b0 + 2] * n_in:(rows[b0 + 2] + 1) * n_in]
                x3 = src[rows[b0 + 3] * n_in:(rows[b0 + 3] + 1) * n_in]
                s0 = s1 = s2 = s3 = zero
                for i in range(n_in):
                    wi = w[i]
                    s0 += x0[i] * wi
                    s1 += x1[i] * wi
                    s2 += x2[i] * wi
                    s3 += x3[i] * wi
                z[b0 * n_out + j] = s0 + bw
                z[(b0 + 1) * n_out + j] = s1 + bw
                z[(b0 + 2) * n_out + j] = s2 + bw
                z[(b0 + 3) * n_out + j] = s3 + bw
                b0 += 4
            while b0 < nb:
                x0 = src[rows[b0] * n_in:(rows[b0] + 1) * n_in]
                s0 = zero
                for i in range(n_in):
                    s0 += x0[i] * w[i]
                z[b0 * n_out + j] = s0 + bw
                b0 += 1
            j += 1

    @njit(nogil=True, cache=True, fastmath=_FASTMATH)
    def _dense_grad(src, rows, n_in, d, n_out, nb, grad, w_off, b_off):
        """Weight and bias gradient of one layer: ``gW = d.T @ src_rows``, ``gb = d.sum(0)``.

        Tiles of 4 neurons x 4 examples, neurons outside: four gradient rows stay in L1 while every
        example's outer product is added, and are written once; each loaded input vector feeds four rows.
        """
        zero = grad.dtype.type(0)
        for j in range(n_out):
            s = zero
            for b in range(nb):
                s += d[b * n_out + j]
            grad[b_off + j] = s
        j = 0
        while j + 4 <= n_out:
            g = grad[w_off + j * n_in:w_off + (j + 1) * n_in]
            h = grad[w_off + (j + 1) * n_in:w_off + (j + 2) * n_in]
            p = grad[w_off + (j + 2) * n_in:w_off + (j + 3) * n_in]
            q = grad[w_off + (j + 3) * n_in:w_off + (j + 4) * n_in]
            for i in range(n_in):
                g[i] = zero
                h[i] = zero
                p[i] = zero
                q[i] = zero
            b0 = 0
            while b0 + 4 <= nb:
                x0 = src[rows[b0] * n_in:(rows[b0] + 1) * n_in]
                x1 = src[rows[b0 + 1] * n_in:(rows[b0 + 1] + 1) * n_in]
                x2 = src[rows[b0 + 2] * n_in:(rows[b0 + 2] + 1) * n_in]
                x3 = src[rows[b0 + 3] * n_in:(rows[b0 + 3] + 1) * n_in]
                o0 = b0 * n_out + j
                o1 = o0 + n_out
                o2 = o1 + n_out
                o3 = o2 + n_out
                d0, d1, d2, d3 = d[o0], d[o1], d[o2], d[o3]
                e0, e1, e2, e3 = d[o0 + 1], d[o1 + 1], d[o2 + 1], d[o3 + 1]
                f0, f1, f2, f3 = d[o0 + 2], d[o1 + 2], d[o2 + 2], d[o3 + 2]
                h0, h1, h2, h3 = d[o0 + 3], d[o1 + 3], d[o2 + 3], d[o3 + 3]
                for i in range(n_in):
                    a0 = x0[i]
                    a1 = x1[i]
                    a2 = x2[i]
                    a3 = x3[i]
                    g[i] += d0 * a0 + d1 * a1 + d2 * a2 + d3 * a3
                    h[i] += e0 * a0 + e1 * a1 + e2 * a2 + e3 * a3
                    p[i] += f0 * a0 + f1 * a1 + f2 * a2 + f3 * a3
                    q[i] += h0 * a0 + h1 * a1 + h2 * a2 + h3 * a3
                b0 += 4
            while b0 < nb:
                x0 = src[rows[b0] * n_in:(rows[b0] + 1) * n_in]
                o0 = b0 * n_out + j
                d0, e0, f0, h0 = d[o0], d[o0 + 1], d[o0 + 2], d[o0 + 3]
                for i in range(n_in):
                    a0 = x0[i]
                    g[i] += d0 * a0
                    h[i] += e0 * a0
                    p[i] += f0 * a0
                    q[i] += h0 * a0
                b0 += 1
            j += 4
        while j < n_out:
            g = grad[w_off + j * n_in:w_off + (j + 1) * n_in]
            for i in range(n_in):
                g[i] = zero
            b0 = 0
            while b0 + 4 <= nb:
                x0 = src[rows[b0] * n_in:(rows[b0] + 1) * n_in]
                x1 = src[rows[b0 + 1] * n_in:(rows[b0 + 1] + 1) * n_in]
                x2 = src[rows[b0 + 2] * n_in:(rows[b0 + 2] + 1) * n_in]
                x3 = src[rows[b0 + 3] * n_in:(rows[b0 + 3] + 1) * n_in]
                d0, d1 = d[b0 * n_out + j], d[(b0 + 1) * n_out + j]
                d2, d3 = d[(b0 + 2) * n_out + j], d[(b0 + 3) * n_out + j]
                for i in range(n_in):
                    g[i] += d0 * x0[i] + d1 * x1[i] + d2 * x2[i] + d3 * x3[i]
                b0 += 4
            while b0 < nb:
                x0 = src[rows[b0] * n_in:(rows[b0] + 1) * n_in]
                d0 = d[b0 * n_out + j]
                for i in range(n_in):
                    g[i] += d0 * x0[i]
                b0 += 1
            j += 1

    @njit(nogil=True, cache=True, fastmath=_FASTMATH)
    def _forward(src, rows, n_in, theta, w_off, b_off, n_out, nb, z, dense):
        """:func:`_dense_forward`, through BLAS when ``dense`` (``src`` holds rows ``0..nb-1`` in order)."""
        if HAVE_BLAS:
            if dense and n_in * n_out >= BLAS_MIN:
                W = theta[w_off:w_off + n_out * n_in].reshape((n_out, n_in))
                z2 = z[0:nb * n_out].reshape((nb, n_out))
                np.dot(src[0:nb * n_in].reshape((nb, n_in)), W.T, z2)
                for b in range(nb):
                    for j in range(n_out):
                        z2[b, j] += theta[b_off + j]
                return
        _dense_forward(src, rows, n_in, theta, w_off, b_off, n_out, nb, z)

    @njit(nogil=True, cache=True, fastmath=_FASTMATH)
    def _gradient(src, rows, n_in, d, n_out, nb, grad, w_off, b_off, dense):
        """:func:`_dense_grad`, through BLAS when ``dense``."""
        if HAVE_BLAS:
            if dense and n_in * n_out >= BLAS_MIN:
                d2 = d[0:nb * n_out].reshape((nb, n_out))
                gw = grad[w_off:w_off + n_out * n_in].reshape((n_out, n_in))
                np.dot(d2.T, src[0:nb * n_in].reshape((nb, n_in)), gw)
                for j in range(n_out):
                    s = grad.dtype.type(0)
                    for b in range(nb):
                        s += d2[b, j]
                    grad[b_off + j] = s
                return
        _dense_grad(src, rows, n_in, d, n_out, nb, grad, w_off, b_off)

    @njit(nogil=True, cache=True, fastmath=_FASTMATH)
    def _delta_down(d, n_out, theta, w_off, n_in, nb, z, a, act, out):
        """``out = (d @ W) * f'(z)`` for the layer below, ``(nb, n_in)``."""
        zero = out.dtype.type(0)
        one = out.dtype.type(1)
        for b in range(nb):
            o = b * n_in
            for i in range(n_in):
                out[o + i] = zero
            for j in range(n_out):
                dj = d[b * n_out + j]
                w = w_off + j * n_in
                for i in range(n_in):
                    out[o + i] += dj * theta[w + i]
            for i in range(n_in):
                if act == 0:
                    out[o + i] *= (one - a[o + i]) * a[o + i]
                elif act == 1:
                    if not z[o + i] > zero:
                        out[o + i] = zero
                else:
                    out[o + i] *= one - a[o + i] * a[o + i]

    @njit(nogil=True, cache=True, fastmath=_FASTMATH)
    def _tanh32(x):
        """tanh for float32 as a rational function (Eigen's and XLA's ``ptanh_float``): a few ulp from
        libm's, and unlike a libm call it vectorises. Clamped, so it returns +-1 for large ``|x|``."""
        c = np.float32(7.90531110763549805)
        x = min(max(x, -c), c)
        x2 = x * x
        p = x2 * np.float32(-2.76076847742355e-16) + np.float32(2.00018790482477e-13)
        p = x2 * p + np.float32(-8.60467152213735e-11)
        p = x2 * p + np.float32(5.12229709037114e-08)
        p = x2 * p + np.float32(1.48572235717979e-05)
        p = x2 * p + np.float32(6.37261928875436e-04)
        p = x2 * p + np.float32(4.89352455891786e-03)
        p = x * p
        q = x2 * np.float32(1.19825839466702e-06) + np.float32(1.18534705686654e-04)
        q = x2 * q + np.float32(2.26843463243900e-03)
        q = x2 * q + np.float32(4.89352518554385e-03)
        return p / q

    @njit(nogil=True, cache=True, fastmath=_FASTMATH)
    def _activate(z, a, n, act):
        """``a = f(z)`` elementwise over ``n`` values; one clean loop per case, so each vectorises."""
        half = z.dtype.type(0.5)
        zero = z.dtype.type(0)
        single = z.itemsize == 4
        if act == 0 and single:
            for k in range(n):
                a[k] = _tanh32(z[k] * half) * half + half
        elif act == 0:
            for k in range(n):
                a[k] = np.tanh(z[k] * half) * half + half
        elif act == 1:
            for k in range(n):
                a[k] = max(z[k], zero)
        elif single:
            for k in range(n):
                a[k] = _tanh32(z[k])
        else:
            for k in range(n):
                a[k] = np.tanh(z[k])

    @njit(nogil=True, cache=True)  # no fastmath: the arithmetic of DivergenceWatch.observe
    def _rise(wst, cost, alpha, rise, floor):
        """The RISE test of :meth:`DivergenceWatch.observe` on ``wst = [ema, first, low, high_steps]``;
        returns the updated ``high_steps``. Compiled without fastmath (LLVM's flags are per instruction, so
        they stay off when inlined): ``wst`` follows the watch to rounding (measured: within 2e-16 relative;
        LLVM may still fuse the EMA's multiply-add)."""
        ema = wst[0]
        e = cost if np.isnan(ema) else ema + alpha * (cost - ema)
        wst[0] = e
        if np.isnan(wst[1]):
            wst[1] = e
        if e < wst[2]:
            wst[2] = e
        ref = wst[2]
        if floor * wst[1] > ref:
            ref = floor * wst[1]
        if e > rise * ref:
            wst[3] += 1.0
        else:
            wst[3] = 0.0
        return wst[3]

    @njit(nogil=True, cache=True, fastmath=_FASTMATH)
    def train_chunk(theta, velocity, sizes, w_off, b_off, act, ce, U, Xf, labels, idx, batch, n_steps, hp, noise_k,
                    noise, noise_y, step0, first_cost, blowup, wst, rise_c, costs, gnorms):
        """Up to ``n_steps`` SGD steps on consecutive mini-batches, updating ``theta`` in place.

        Parameters
        ----------
        theta, velocity : ndarray, shape (P,)
            Parameters and momentum buffer (same dtype), updated in place.
        sizes, w_off, b_off : int64 arrays
            Layer sizes (input first) and each layer's ``W`` / ``b`` offset in ``theta``.
        act, ce : int
            Hidden activation code (:data:`ACT_CODES`); 1 for softmax + cross-entropy, 0 for sigmoid + quadratic.
        U : uint8 array, shape (N * n_in,)
            The training images, flat, as bytes: a batch's rows are gathered and divided by 255 in
            ``theta``'s dtype, exactly as :meth:`Trainer.next_batch` does (4x less memory to fetch than floats).
        Xf : ndarray, shape (M * n_in,) or (0,), theta's dtype
            Empty, or the chunk's inputs already gathered (moved digits: the driver gathers, moves and puts
            doubt's noise rows in with NumPy); row ``s * batch + b`` is row ``b`` of step ``s``. Then ``U``
            and ``noise`` are not read (``idx`` still gives the labels, ``noise_k`` the noise targets).
        labels : int array, shape (N,)
            The label each row of ``U`` trains on.
        idx : int64 array, shape (M,)
            Rows of ``U`` of the chunk's batches, one after another; step ``s`` trains on
            ``idx[s * batch : (s + 1) * batch]`` (the last one may be shorter).
        batch : int
        n_steps : int
        hp : ndarray, shape (3,), theta's dtype
            Learning rate, momentum and L2 penalty.
        noise_k : int64 array, shape (n_steps,)
            Doubt: the first ``noise_k[s]`` rows of step ``s``'s batch are replaced by the next rows of ``noise``.
        noise : ndarray, shape (K * n_in,)
        noise_y : float
            Desired output for every unit on a noise row.
        step0 : int
            Steps done before this chunk (the first step sets the run's reference cost).
        first_cost : float64 array, shape (1,)
            The run's first batch cost (``inf`` before it is known): a batch cost above ``blowup`` times it
            stops training (the NumPy path's rule).
        blowup : float
        wst : float64 array, shape (4,)
            The RISE test's state ``[ema, first, low, high_steps]`` (:meth:`DivergenceWatch.rise_state`),
            updated after every step.
        rise_c : float64 array, shape (4,)
            ``[COST_ALPHA, RISE, RISE_FLOOR, RISE_STEPS]``.
        costs, gnorms : float64 arrays, shape (n_steps,)
            Filled with each step's batch cost and gradient norm.

        Returns
        -------
        done : int
            Steps applied. With NOT_FINITE or BLEW_UP, step ``done`` diverged and ``theta`` is as after the
            ``done`` steps before it; with ROSE, the smoothed cost of step ``done`` (applied) rose for
            ``RISE_STEPS`` steps in a row.
        status : int
            :data:`OK`, :data:`NOT_FINITE`, :data:`BLEW_UP` or :data:`ROSE`.
        """
        dt = theta.dtype.type
        L = sizes.shape[0] - 1
        n_in0 = sizes[0]
        width = 0
        for l in range(1, L + 1):
            width += sizes[l]
        n_out = sizes[L]
        zs = np.empty(batch * width, theta.dtype)
        acts = np.empty(batch * width, theta.dtype)
        deltas = np.empty(batch * width, theta.dtype)
        grad = np.empty(theta.shape[0], theta.dtype)
        xb = np.empty(batch * n_in0, theta.dtype)
        ident = np.arange(batch)
        offs = np.zeros(L + 1, np.int64)  # offset of layer l's (nb, n_l) block in zs / acts / deltas
        lr, mu, l2 = hp[0], hp[1], hp[2]
        zero = dt(0)
        one = dt(1)
        c255 = dt(255)
        ny = dt(noise_y)
        tiny = np.finfo(theta.dtype).tiny
        n_total = idx.shape[0]
        noise_pos = 0
        gathered = Xf.shape[0] > 0
        alpha, rise, floor, rise_steps = rise_c[0], rise_c[1], rise_c[2], rise_c[3]
        for s in range(n_steps):
            start = s * batch
            nb = min(batch, n_total - start)
            for l in range(L):
                offs[l + 1] = offs[l] + nb * sizes[l + 1]
            k = noise_k[s]
            # the next batch's rows are random rows of a 47 MB array: start loading them now, so the
            # next step finds them in L2 (at mini-batch 100 this was the largest cost left)
            if not gathered:
                for b in range(start + batch, min(start + 2 * batch, n_total)):
                    r = idx[b] * n_in0
                    for off in range(0, n_in0, 64):
                        _prefetch(U, r + off)
            # the batch, gathered: doubt's noise rows first, then images divided by 255 as NumPy does
            for b in range(nb):
                xr = xb[b * n_in0:(b + 1) * n_in0]
                if gathered:
                    xr[:] = Xf[(start + b) * n_in0:(start + b + 1) * n_in0]
                elif b < k:
                    r = (noise_pos + b) * n_in0
                    xr[:] = noise[r:r + n_in0]
                else:
                    ur = U[idx[start + b] * n_in0:(idx[start + b] + 1) * n_in0]
                    for i in range(n_in0):
                        xr[i] = dt(ur[i]) / c255
            # forward
            for l in range(L):
                ni, no = sizes[l], sizes[l + 1]
                z = zs[offs[l]:offs[l + 1]]
                a = acts[offs[l]:offs[l + 1]]
                if l == 0:
                    _forward(xb, ident, ni, theta, w_off[0], b_off[0], no, nb, z, True)
                else:
                    _forward(acts[offs[l - 1]:offs[l]], ident, ni, theta, w_off[l], b_off[l], no, nb, z, True)
                if l < L - 1:
                    _activate(z, a, nb * no, act)
                elif ce == 1:
                    for b in range(nb):
                        o = b * no
                        m = z[o]
                        for j in range(1, no):
                            if z[o + j] > m:
                                m = z[o + j]
                        tot = zero
                        for j in range(no):
                            e = np.exp(z[o + j] - m)
                            a[o + j] = e
                            tot += e
                        for j in range(no):
                            a[o + j] /= tot
                else:
                    _activate(z, a, nb * no, 0)
            # output error and cost
            A = acts[offs[L - 1]:offs[L]]
            D = deltas[offs[L - 1]:offs[L]]
            scale = dt(2.0 / nb) if ce == 0 else dt(1.0 / nb)
            for b in range(nb):
                lab = idx[start + b]
                for j in range(n_out):
                    if b < k:
                        y = ny
                    else:
                        y = one if j == labels[lab] else zero
                    D[b * n_out + j] = y
            cost = 0.0
            for b in range(nb):
                for j in range(n_out):
                    o = b * n_out + j
                    y = D[o]
                    a_ = A[o]
                    diff = a_ - y
                    if ce == 0:
                        cost += float(diff) * float(diff)
                        D[o] = diff * ((one - a_) * a_) * scale
                    else:
                        if y != zero:
                            cost -= float(y) * float(np.log(max(a_, tiny)))
                        D[o] = diff * scale
            cost /= nb
            # backprop
            for l in range(L - 1, -1, -1):
                ni, no = sizes[l], sizes[l + 1]
                d = deltas[offs[l]:offs[l + 1]]
                if l == 0:
                    _gradient(xb, ident, ni, d, no, nb, grad, w_off[0], b_off[0], True)
                else:
                    _gradient(acts[offs[l - 1]:offs[l]], ident, ni, d, no, nb, grad, w_off[l], b_off[l], True)
                    _delta_down(d, no, theta, w_off[l], ni, nb, zs[offs[l - 1]:offs[l]],
                                acts[offs[l - 1]:offs[l]], act, deltas[offs[l - 1]:offs[l]])
            g2 = 0.0
            for p in range(grad.shape[0]):
                g2 += float(grad[p]) * float(grad[p])
            gnorm = np.sqrt(g2)
            costs[s] = cost
            gnorms[s] = gnorm
            if not (np.isfinite(cost) and np.isfinite(gnorm)):
                return s, NOT_FINITE
            if cost > blowup * first_cost[0]:
                return s, BLEW_UP
            if l2 != zero:
                for l in range(L):
                    for p in range(w_off[l], w_off[l] + sizes[l] * sizes[l + 1]):
                        grad[p] += l2 * theta[p]
            if mu != zero:
                for p in range(grad.shape[0]):
                    v = velocity[p] * mu - grad[p] * lr
                    velocity[p] = v
                    theta[p] += v
            else:
                for p in range(grad.shape[0]):
                    theta[p] -= grad[p] * lr
            if step0 + s == 0 or first_cost[0] == np.inf:
                first_cost[0] = max(cost, 0.1)
            noise_pos += k
            if _rise(wst, cost, alpha, rise, floor) >= rise_steps:
                return s + 1, ROSE
        return n_steps, OK


# driving a Trainer

_compile_lock = threading.Lock()
_ready = threading.Event()
_layouts: dict = {}


def _layout_arrays(layout):
    key = layout.sizes
    arrs = _layouts.get(key)
    if arrs is None:
        arrs = _layouts[key] = (np.array(layout.sizes, np.int64),
                                np.array([w.start for w, _ in layout.slices], np.int64),
                                np.array([b.start for _, b in layout.slices], np.int64))
    return arrs


def _call(theta, velocity, layout, act, cost, U, Xf, labels, idx, batch, n_steps, hp, noise_k, noise, noise_y,
          step0, first_cost, blowup, wst):
    sizes, w_off, b_off = _layout_arrays(layout)
    costs = np.empty(n_steps)
    gnorms = np.empty(n_steps)
    done, status = train_chunk(theta, velocity, sizes, w_off, b_off, ACT_CODES[act], COST_CODES[cost], U, Xf,
                               labels, idx, int(batch), int(n_steps), hp, noise_k, noise, float(noise_y),
                               int(step0), first_cost, float(blowup), wst, _rise_constants(), costs, gnorms)
    return int(done), int(status), costs, gnorms


_RISE_C = None


def _rise_constants():
    """``[COST_ALPHA, RISE, RISE_FLOOR, RISE_STEPS]`` of :mod:`digitviz.core.training` (read once)."""
    global _RISE_C
    if _RISE_C is None:
        from .training import COST_ALPHA, RISE, RISE_STEPS, DivergenceWatch

        _RISE_C = np.array([COST_ALPHA, RISE, DivergenceWatch.RISE_FLOOR, RISE_STEPS], np.float64)
    return _RISE_C


def warm_up():
    """Compile (or load from Numba's on-disk cache) the kernel for float32 and float64. Idempotent and
    thread-safe; :func:`is_ready` is True afterwards. Takes ~0.5 s from the cache, ~10 s the first time."""
    if _ready.is_set() or numba is None:
        return
    from .network import Layout

    with _compile_lock:
        if _ready.is_set():
            return
        before = _blas_libraries()
        layout = Layout((3, 2, 2))
        for dtype in (np.float32, np.float64):
            U = np.zeros(2 * 3, np.uint8)
            U.flags.writeable = False
            for Xf in (np.zeros(0, dtype), np.zeros(3, dtype)):  # from the images, and from a gathered batch
                theta = np.zeros(layout.size, dtype)
                wst = np.array([np.nan, np.nan, np.inf, 0.0])
                _call(theta, np.zeros_like(theta), layout, "sigmoid", "quadratic", U, Xf, np.zeros(2, np.intp),
                      np.zeros(1, np.int64), 1, 1, np.zeros(3, dtype), np.zeros(1, np.int64), np.zeros(3, dtype),
                      0.0, 0, np.array([np.inf]), 10.0, wst)
        _one_thread_for_new_blas(before)
        global _blas
        if HAVE_BLAS:  # SciPy's BLAS is loaded now: keep a controller to pin it to one thread per chunk
            from threadpoolctl import ThreadpoolController

            _blas = ThreadpoolController()
        _ready.set()


def _blas_libraries():
    """File paths of the BLAS / OpenMP libraries loaded now (empty without threadpoolctl)."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency of the app
        return None
    return {lib.filepath for lib in ThreadpoolController().lib_controllers}


def _one_thread_for_new_blas(before):
    """Numba's first compilation imports SciPy's BLAS when SciPy is installed (for its np.dot support,
    which this engine does not use). That library arrives after the app pinned BLAS to one thread
    process-wide, with as many threads as cores: pin it too, so every BLAS in the process stays on one
    thread as the app and its tests expect (nothing in digitviz calls it)."""
    if before is None:
        return
    from threadpoolctl import ThreadpoolController

    for lib in ThreadpoolController().lib_controllers:
        if lib.filepath not in before:
            lib.set_num_threads(1)


_blas = None


def _one_blas_thread():
    """A context that runs BLAS on one thread: the engine is single-threaded by design (the other core is
    the GUI's), and SciPy's OpenBLAS may have been loaded after the caller's own ``threadpool_limits``.
    About 30 us, once per :func:`run_steps`."""
    return _blas.limit(limits=1, user_api="blas") if _blas is not None else contextlib.nullcontext()


def is_ready() -> bool:
    """True once the kernel is compiled or loaded (so a call does not stall on compilation)."""
    return _ready.is_set()


_warm_thread: threading.Thread | None = None


def start_warm_up():
    """Start :func:`warm_up` on a daemon thread (once); returns at once."""
    global _warm_thread
    if numba is None or _ready.is_set() or _warm_thread is not None:
        return
    _warm_thread = threading.Thread(target=warm_up, name="digitviz-fused-warm-up", daemon=True)
    _warm_thread.start()


def run_steps(tr, n: int):
    """Up to ``n`` steps of the trainer ``tr`` on the fused engine; see :meth:`Trainer.run_steps`.

    Walks exactly the batches (and draws exactly the doubt noise and the moves of "train on moved
    digits") that ``n`` calls of ``tr.step()`` would, updates its counters, history and
    :class:`~digitviz.core.training.DivergenceWatch` the same way, and stops early at the end of an epoch.
    Chunks end at every path point and every probe check of the watch, so the watch checks (and keeps
    good copies of) exactly the parameters the NumPy path would; its RISE test runs in the kernel after
    every step. A step that would be not finite or blow up is handed to ``tr.step()`` (the reference),
    which raises :class:`~digitviz.core.training.Diverged` with ``theta`` as it was before that step.

    Returns
    -------
    costs, grad_norms : ndarray, shape (k,)
        Batch cost and gradient norm of each of the ``k <= n`` steps done. A ``Diverged`` raised carries
        the ``(costs, grad_norms)`` of the steps done before it as ``.chunk``.
    """
    warm_up()
    U = np.ascontiguousarray(tr.U_train).reshape(-1)
    if U.flags.writeable:  # one compiled signature: the kernel only ever sees read-only images
        U = U.view()
        U.flags.writeable = False
    noise_y = 0.0 if tr.net.cost_name == "quadratic" else 1.0 / tr.n_out
    if tr._pos >= len(tr._order):
        tr._new_epoch()
    with _one_blas_thread():
        return _run(tr, n, U, noise_y)


def _draw_noise(tr, m, n_rows, B, n_in, dtype):
    """Doubt: the noise rows of ``m`` steps, drawn as ``m`` calls of :meth:`Trainer.next_batch` draw them."""
    from .inputs import noise as draw

    noise_k = np.zeros(m, np.int64)
    parts = []
    for s in range(m):
        k = tr._noise_rng.binomial(min(B, n_rows - s * B), tr.config.doubt)
        noise_k[s] = k
        if k:
            parts.append(draw(tr._noise_rng, "uniform", k, n_in, dtype).reshape(-1))
    return noise_k, (np.concatenate(parts) if parts else np.zeros(0, dtype))


def _gather_moved(tr, idx, noise_k, noise, B):
    """Moved digits: the chunk's inputs ``(len(idx), n_in)``, gathered and scaled as
    :meth:`Trainer.next_batch` does, moved by the trainer's :class:`~digitviz.core.transforms.Augmenter`,
    doubt's noise rows put in; the moves are the very ones ``next_batch`` would draw, batch after batch.

    Shifts alone are moved a slice of whole batches (at most 4,096 images) at a time: the augmenter draws
    its shifts ahead in blocks of 4,096 whatever the call size up to that, so the draws are the same as
    one call per batch. A rotation draws its angles per call, so rotated batches are moved one by one.
    """
    c = tr.config
    X = np.empty((len(idx), tr.net.sizes[0]), tr.dtype)
    np.divide(tr.U_train[idx], tr.dtype.type(255), out=X)
    aug = tr.augmenter()
    per = B if c.rotate_deg else B * max(1, 4096 // B)
    for lo in range(0, len(idx), per):
        part = X[lo:lo + per]
        aug(part, out=part)
    aug._last = aug._last[-(((len(idx) - 1) % B) + 1):]  # what last_shifts says after the last batch
    if noise.size:
        n_in = X.shape[1]
        pos = 0
        for s in np.flatnonzero(noise_k):
            k = int(noise_k[s])
            X[s * B:s * B + k] = noise[pos:pos + k * n_in].reshape(k, n_in)
            pos += k * n_in
    return X


def _run(tr, n, U, noise_y):
    from .training import BLOWUP, Diverged, Divergence

    c, net, opt, watch = tr.config, tr.net, tr.opt, tr.watch
    B, dtype, n_in = c.batch_size, tr.dtype, net.sizes[0]
    moved = bool(c.shift_px or c.rotate_deg)
    out_c, out_g = [], []
    done = 0
    empty = np.zeros(0, dtype)
    while done < n and tr._pos < len(tr._order):
        stride = tr.history.path_stride
        left = len(tr._order) - tr._pos
        m = min(n - done, -(-left // B), stride - tr.step_count % stride)  # end at a path point
        due = watch.next_check
        if due is not None:  # ... and at the watch's next probe check
            m = min(m, max(1, -(-(due - tr.examples_seen) // B)))
        idx = np.ascontiguousarray(tr._order[tr._pos:tr._pos + m * B], np.int64)
        if c.doubt > 0:
            rng_state = tr._noise_rng.bit_generator.state
            noise_k, noise = _draw_noise(tr, m, len(idx), B, n_in, dtype)
        else:
            noise_k, noise = np.zeros(m, np.int64), empty
        if moved:
            aug = tr.augmenter()
            aug_state = (aug.rng.bit_generator.state, aug._choices.copy(), aug._last)
            Xf = _gather_moved(tr, idx, noise_k, noise, B).reshape(-1)
        else:
            Xf = empty
        hp = np.array([opt.lr, opt.momentum, opt.l2], dtype)
        first = np.array([tr._first_cost], np.float64)
        wst = watch.rise_state()
        t0 = time.perf_counter()
        k_done, status, costs, gnorms = _call(net.theta, opt.velocity, net.layout, net.activation, net.cost_name,
                                              U, Xf, tr.train_labels, idx, B, m, hp, noise_k, noise, noise_y,
                                              tr.step_count, first, BLOWUP, wst)
        tr.train_seconds += time.perf_counter() - t0
        examples = min(k_done * B, len(idx))
        step0 = tr.step_count
        tr._pos += examples
        tr.examples_seen += examples
        tr.step_count += k_done
        tr._first_cost = float(first[0])
        watch.set_rise_state(wst)
        tr.history.record_steps(np.arange(step0 + 1, step0 + k_done + 1), costs[:k_done], gnorms[:k_done],
                                net.theta)
        if k_done:
            tr.last_batch = _batch_of(tr, idx, k_done - 1, noise_k, noise, Xf)
        out_c.append(costs[:k_done])
        out_g.append(gnorms[:k_done])
        done += k_done
        try:
            if status == ROSE:
                raise Diverged(Divergence.RISE, wst[0], opt.lr, reference=watch.rise_reference)
            if status == OK and k_done:
                watch.probe(tr.step_count, tr.examples_seen, float(costs[k_done - 1]), net, opt.lr)
        except Diverged as e:
            tr._diverged(e)
            e.chunk = (np.concatenate(out_c), np.concatenate(out_g))
            raise
        if status in (NOT_FINITE, BLEW_UP):
            # rewind the draws to just after the steps done; step() then draws its own
            if c.doubt > 0:
                tr._noise_rng.bit_generator.state = rng_state
                _draw_noise(tr, k_done, len(idx), B, n_in, dtype)
            if moved:
                _rewind_moves(tr, aug_state, idx[:k_done * B], B)
            try:
                res = tr.step()  # raises Diverged unless NumPy's rounding happens to keep it finite
            except Diverged as e:
                e.chunk = (np.concatenate(out_c), np.concatenate(out_g))  # the steps done before it
                raise
            out_c.append(np.array([res.cost]))
            out_g.append(np.array([res.grad_norm]))
            done += 1
    if not out_c:
        return np.zeros(0), np.zeros(0)
    return np.concatenate(out_c), np.concatenate(out_g)


def _rewind_moves(tr, state, idx_done, B):
    """Put the augmenter back as if only the batches of ``idx_done`` had been moved."""
    rng_state, choices, last = state
    aug = tr.augmenter()
    aug.rng.bit_generator.state = rng_state
    aug._choices, aug._last = choices, last
    if len(idx_done):  # move them again (only after a divergence): the augmenter then stands where step() expects
        _gather_moved(tr, idx_done, np.zeros(-(-len(idx_done) // B), np.int64), np.zeros(0, tr.dtype), B)


def _batch_of(tr, idx, s, noise_k, noise, Xf):
    """``(X, Y, labels, indices)`` of step ``s`` of a chunk, as :meth:`Trainer.next_batch` gives it."""
    B, n_in = tr.config.batch_size, tr.net.sizes[0]
    rows = idx[s * B:(s + 1) * B].astype(np.intp)
    if Xf.size:
        X = Xf.reshape(-1, n_in)[s * B:s * B + len(rows)].copy()
    else:
        X = tr.X_train[rows]  # a new float array (ScaledImages)
    labels = tr.train_labels[rows]
    Y = tr._eye[labels]
    k = int(noise_k[s])
    if k:
        if not Xf.size:
            start = int(noise_k[:s].sum()) * n_in
            X[:k] = noise[start:start + k * n_in].reshape(k, n_in)
        Y[:k] = 0.0 if tr.net.cost_name == "quadratic" else 1.0 / tr.n_out
        labels = labels.copy()
        labels[:k] = -1
        rows = rows.copy()
        rows[:k] = -1
    return X, Y, labels, rows
