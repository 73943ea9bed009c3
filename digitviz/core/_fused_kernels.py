"""The compiled kernels of the fused engine (:mod:`digitviz.core.fused` is their documentation and driver).

A module of its own so that importing :mod:`digitviz.core.fused` (which the app's worker does at startup)
does not import Numba (half a second): :func:`digitviz.core.fused.warm_up` imports this module, on a
background thread in the app.

Imports: NumPy, Numba and llvmlite.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from llvmlite import ir
from numba import njit
from numba.core import cgutils, types
from numba.extending import intrinsic

from .fused import _FASTMATH, BLAS_MIN, BLEW_UP, COLLAPSED, HAVE_BLAS, NOT_FINITE, OK, ROSE

# error_model="numpy": a float division by zero gives inf or NaN instead of raising (no division in
# these kernels can have a zero divisor). Numba's default ("python") puts a zero test and a branch to
# raise before every division, which keeps LLVM from vectorising a loop that divides: the rational
# tanh of _tanh32 ran scalar, ~10x slower (a tenth of a b100 step for the sigmoid network).
_JIT: dict[str, Any] = dict(nogil=True, cache=True, fastmath=_FASTMATH, error_model="numpy")


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


@njit(**_JIT)
def _dense_forward(src, rows, n_in, theta, w_off, b_off, n_out, nb, z, sb, sj):
    """``z[b, j] = src_row(b) . W[j] + b[j]`` for ``b < nb``; input row ``b`` starts at ``rows[b] * n_in``,
    ``z[b, j]`` is ``z[b * sb + j * sj]`` (batch-major ``(n_out, 1)`` or feature-major ``(1, nb)``).

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
        w = theta[w_off + j * n_in : w_off + (j + 1) * n_in]
        v = theta[w_off + (j + 1) * n_in : w_off + (j + 2) * n_in]
        u = theta[w_off + (j + 2) * n_in : w_off + (j + 3) * n_in]
        y = theta[w_off + (j + 3) * n_in : w_off + (j + 4) * n_in]
        bw = theta[b_off + j]
        bv = theta[b_off + j + 1]
        bu = theta[b_off + j + 2]
        by = theta[b_off + j + 3]
        b0 = 0
        while b0 + 4 <= nb:
            x0 = src[rows[b0] * n_in : (rows[b0] + 1) * n_in]
            x1 = src[rows[b0 + 1] * n_in : (rows[b0 + 1] + 1) * n_in]
            x2 = src[rows[b0 + 2] * n_in : (rows[b0 + 2] + 1) * n_in]
            x3 = src[rows[b0 + 3] * n_in : (rows[b0 + 3] + 1) * n_in]
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
            o0 = b0 * sb + j * sj
            o1 = o0 + sb
            o2 = o1 + sb
            o3 = o2 + sb
            z[o0] = s0 + bw
            z[o1] = s1 + bw
            z[o2] = s2 + bw
            z[o3] = s3 + bw
            z[o0 + sj] = t0 + bv
            z[o1 + sj] = t1 + bv
            z[o2 + sj] = t2 + bv
            z[o3 + sj] = t3 + bv
            z[o0 + 2 * sj] = p0 + bu
            z[o1 + 2 * sj] = p1 + bu
            z[o2 + 2 * sj] = p2 + bu
            z[o3 + 2 * sj] = p3 + bu
            z[o0 + 3 * sj] = q0 + by
            z[o1 + 3 * sj] = q1 + by
            z[o2 + 3 * sj] = q2 + by
            z[o3 + 3 * sj] = q3 + by
            b0 += 4
        while b0 < nb:
            x0 = src[rows[b0] * n_in : (rows[b0] + 1) * n_in]
            s0 = t0 = p0 = q0 = zero
            for i in range(n_in):
                a0 = x0[i]
                s0 += a0 * w[i]
                t0 += a0 * v[i]
                p0 += a0 * u[i]
                q0 += a0 * y[i]
            o0 = b0 * sb + j * sj
            z[o0] = s0 + bw
            z[o0 + sj] = t0 + bv
            z[o0 + 2 * sj] = p0 + bu
            z[o0 + 3 * sj] = q0 + by
            b0 += 1
        j += 4
    while j < n_out:
        w = theta[w_off + j * n_in : w_off + (j + 1) * n_in]
        bw = theta[b_off + j]
        b0 = 0
        while b0 + 4 <= nb:
            x0 = src[rows[b0] * n_in : (rows[b0] + 1) * n_in]
            x1 = src[rows[b0 + 1] * n_in : (rows[b0 + 1] + 1) * n_in]
            x2 = src[rows[b0 + 2] * n_in : (rows[b0 + 2] + 1) * n_in]
            x3 = src[rows[b0 + 3] * n_in : (rows[b0 + 3] + 1) * n_in]
            s0 = s1 = s2 = s3 = zero
            for i in range(n_in):
                wi = w[i]
                s0 += x0[i] * wi
                s1 += x1[i] * wi
                s2 += x2[i] * wi
                s3 += x3[i] * wi
            z[b0 * sb + j * sj] = s0 + bw
            z[(b0 + 1) * sb + j * sj] = s1 + bw
            z[(b0 + 2) * sb + j * sj] = s2 + bw
            z[(b0 + 3) * sb + j * sj] = s3 + bw
            b0 += 4
        while b0 < nb:
            x0 = src[rows[b0] * n_in : (rows[b0] + 1) * n_in]
            s0 = zero
            for i in range(n_in):
                s0 += x0[i] * w[i]
            z[b0 * sb + j * sj] = s0 + bw
            b0 += 1
        j += 1


@njit(**_JIT)
def _dense_grad(src, rows, n_in, d, n_out, nb, grad, w_off, b_off, sb, sj):
    """Weight and bias gradient of one layer: ``gW = d.T @ src_rows``, ``gb = d.sum(0)``; ``d[b, j]`` is
    ``d[b * sb + j * sj]`` (batch-major or feature-major, as in :func:`_dense_forward`).

    Tiles of 4 neurons x 4 examples, neurons outside: four gradient rows stay in L1 while every
    example's outer product is added, and are written once; each loaded input vector feeds four rows.
    """
    zero = grad.dtype.type(0)
    for j in range(n_out):
        s = zero
        for b in range(nb):
            s += d[b * sb + j * sj]
        grad[b_off + j] = s
    j = 0
    while j + 4 <= n_out:
        g = grad[w_off + j * n_in : w_off + (j + 1) * n_in]
        h = grad[w_off + (j + 1) * n_in : w_off + (j + 2) * n_in]
        p = grad[w_off + (j + 2) * n_in : w_off + (j + 3) * n_in]
        q = grad[w_off + (j + 3) * n_in : w_off + (j + 4) * n_in]
        for i in range(n_in):
            g[i] = zero
            h[i] = zero
            p[i] = zero
            q[i] = zero
        b0 = 0
        while b0 + 4 <= nb:
            x0 = src[rows[b0] * n_in : (rows[b0] + 1) * n_in]
            x1 = src[rows[b0 + 1] * n_in : (rows[b0 + 1] + 1) * n_in]
            x2 = src[rows[b0 + 2] * n_in : (rows[b0 + 2] + 1) * n_in]
            x3 = src[rows[b0 + 3] * n_in : (rows[b0 + 3] + 1) * n_in]
            o0 = b0 * sb + j * sj
            o1 = o0 + sb
            o2 = o1 + sb
            o3 = o2 + sb
            d0, d1, d2, d3 = d[o0], d[o1], d[o2], d[o3]
            e0, e1, e2, e3 = d[o0 + sj], d[o1 + sj], d[o2 + sj], d[o3 + sj]
            f0, f1, f2, f3 = d[o0 + 2 * sj], d[o1 + 2 * sj], d[o2 + 2 * sj], d[o3 + 2 * sj]
            h0, h1, h2, h3 = d[o0 + 3 * sj], d[o1 + 3 * sj], d[o2 + 3 * sj], d[o3 + 3 * sj]
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
            x0 = src[rows[b0] * n_in : (rows[b0] + 1) * n_in]
            o0 = b0 * sb + j * sj
            d0, e0, f0, h0 = d[o0], d[o0 + sj], d[o0 + 2 * sj], d[o0 + 3 * sj]
            for i in range(n_in):
                a0 = x0[i]
                g[i] += d0 * a0
                h[i] += e0 * a0
                p[i] += f0 * a0
                q[i] += h0 * a0
            b0 += 1
        j += 4
    while j < n_out:
        g = grad[w_off + j * n_in : w_off + (j + 1) * n_in]
        for i in range(n_in):
            g[i] = zero
        b0 = 0
        while b0 + 4 <= nb:
            x0 = src[rows[b0] * n_in : (rows[b0] + 1) * n_in]
            x1 = src[rows[b0 + 1] * n_in : (rows[b0 + 1] + 1) * n_in]
            x2 = src[rows[b0 + 2] * n_in : (rows[b0 + 2] + 1) * n_in]
            x3 = src[rows[b0 + 3] * n_in : (rows[b0 + 3] + 1) * n_in]
            d0, d1 = d[b0 * sb + j * sj], d[(b0 + 1) * sb + j * sj]
            d2, d3 = d[(b0 + 2) * sb + j * sj], d[(b0 + 3) * sb + j * sj]
            for i in range(n_in):
                g[i] += d0 * x0[i] + d1 * x1[i] + d2 * x2[i] + d3 * x3[i]
            b0 += 4
        while b0 < nb:
            x0 = src[rows[b0] * n_in : (rows[b0] + 1) * n_in]
            d0 = d[b0 * sb + j * sj]
            for i in range(n_in):
                g[i] += d0 * x0[i]
            b0 += 1
        j += 1


@njit(**_JIT)
def _forward(src, rows, n_in, theta, w_off, b_off, n_out, nb, z, dense, sb, sj):
    """:func:`_dense_forward`, through BLAS when ``dense`` (``src`` holds rows ``0..nb-1`` in order)."""
    if HAVE_BLAS:
        if dense and n_in * n_out >= BLAS_MIN and sj == 1:
            W = theta[w_off : w_off + n_out * n_in].reshape((n_out, n_in))
            z2 = z[0 : nb * n_out].reshape((nb, n_out))
            np.dot(src[0 : nb * n_in].reshape((nb, n_in)), W.T, z2)
            for b in range(nb):
                for j in range(n_out):
                    z2[b, j] += theta[b_off + j]
            return
    _dense_forward(src, rows, n_in, theta, w_off, b_off, n_out, nb, z, sb, sj)


@njit(**_JIT)
def _gradient(src, rows, n_in, d, n_out, nb, grad, w_off, b_off, dense, sb, sj):
    """:func:`_dense_grad`, through BLAS when ``dense``."""
    if HAVE_BLAS:
        if dense and n_in * n_out >= BLAS_MIN and sj == 1:
            d2 = d[0 : nb * n_out].reshape((nb, n_out))
            gw = grad[w_off : w_off + n_out * n_in].reshape((n_out, n_in))
            np.dot(d2.T, src[0 : nb * n_in].reshape((nb, n_in)), gw)
            for j in range(n_out):
                s = grad.dtype.type(0)
                for b in range(nb):
                    s += d2[b, j]
                grad[b_off + j] = s
            return
    _dense_grad(src, rows, n_in, d, n_out, nb, grad, w_off, b_off, sb, sj)


@njit(**_JIT)
def _delta_down(d, n_out, theta, w_off, n_in, nb, z, a, act, out):
    """``out = (d @ W) * f'(z)`` for the layer below, ``(nb, n_in)``.

    Four examples at a time: each weight row ``W[j]`` is loaded once for four output rows, which
    stay in L1 (row views indexed from 0, as in :func:`_dense_forward`, so the loops vectorise);
    then ``f'`` in one flat loop per activation. (Per example, with the activation's test inside the
    loop, this took a fifth of a b100 step for two 16-wide layers.)
    """
    zero = out.dtype.type(0)
    b = 0
    while b + 4 <= nb:
        o0 = out[b * n_in : (b + 1) * n_in]
        o1 = out[(b + 1) * n_in : (b + 2) * n_in]
        o2 = out[(b + 2) * n_in : (b + 3) * n_in]
        o3 = out[(b + 3) * n_in : (b + 4) * n_in]
        for i in range(n_in):
            o0[i] = zero
            o1[i] = zero
            o2[i] = zero
            o3[i] = zero
        for j in range(n_out):
            w = theta[w_off + j * n_in : w_off + (j + 1) * n_in]
            e0 = d[b * n_out + j]
            e1 = d[(b + 1) * n_out + j]
            e2 = d[(b + 2) * n_out + j]
            e3 = d[(b + 3) * n_out + j]
            for i in range(n_in):
                wi = w[i]
                o0[i] += e0 * wi
                o1[i] += e1 * wi
                o2[i] += e2 * wi
                o3[i] += e3 * wi
        b += 4
    while b < nb:
        o0 = out[b * n_in : (b + 1) * n_in]
        for i in range(n_in):
            o0[i] = zero
        for j in range(n_out):
            w = theta[w_off + j * n_in : w_off + (j + 1) * n_in]
            e0 = d[b * n_out + j]
            for i in range(n_in):
                o0[i] += e0 * w[i]
        b += 1
    _times_derivative(out, z, a, nb * n_in, act)


@njit(**_JIT)
def _times_derivative(out, z, a, n, act):
    """``out *= f'(z)`` elementwise over ``n`` values, from ``a = f(z)`` (sigmoid, tanh) or ``z`` (ReLU)."""
    zero = out.dtype.type(0)
    one = out.dtype.type(1)
    if act == 0:
        for p in range(n):
            out[p] *= (one - a[p]) * a[p]
    elif act == 1:
        for p in range(n):
            out[p] = out[p] if z[p] > zero else zero
    else:
        for p in range(n):
            out[p] *= one - a[p] * a[p]


# Feature-major hidden layers. With the lesson's 16-wide layers, a batch-major row is 16 values: every
# loop over a layer's width has a trip count of 16 (or 10), too short for LLVM's vector loops, and the
# small products ran at 12-20 GFLOP/s. Stored feature-major (``a[i, b]`` at ``a[i * nb + b]``), their inner
# loops run over the batch instead: at mini-batch 100 the forward, gradient and delta of a 16x16 layer each
# took about half the time (measured alone: 2.5 -> 1.3, 3.3 -> 1.5 and 2.7 -> 1.4 us). At mini-batch 10 that
# loop is the short one (twice slower), and with a wide hidden layer (784-256-10) the gradient's 2,560 short
# reductions cost more than they save: hence the thresholds. The first layer's input stays batch-major
# (gathered rows); only the layout of its output and delta changes.
FM_MIN_BATCH = 32
FM_MAX_WIDTH = 32


@njit(**_JIT)
def _feature_major(sizes, batch):
    """True when the layers after the input are stored feature-major (all at most FM_MAX_WIDTH wide,
    at least one hidden layer, mini-batches of at least FM_MIN_BATCH)."""
    if batch < FM_MIN_BATCH or sizes.shape[0] < 3:
        return False
    for l in range(1, sizes.shape[0]):
        if sizes[l] > FM_MAX_WIDTH:
            return False
    return True


@njit(**_JIT)
def _fm_forward(a, n_in, theta, w_off, b_off, n_out, nb, z):
    """``z[j, :] = b[j] + sum_i W[j, i] a[i, :]`` (feature-major ``(n_in, nb)`` to ``(n_out, nb)``),
    four neurons at a time: each loaded input row feeds four outputs."""
    j = 0
    while j + 4 <= n_out:
        z0 = z[j * nb : (j + 1) * nb]
        z1 = z[(j + 1) * nb : (j + 2) * nb]
        z2 = z[(j + 2) * nb : (j + 3) * nb]
        z3 = z[(j + 3) * nb : (j + 4) * nb]
        c0, c1, c2, c3 = theta[b_off + j], theta[b_off + j + 1], theta[b_off + j + 2], theta[b_off + j + 3]
        for b in range(nb):
            z0[b] = c0
            z1[b] = c1
            z2[b] = c2
            z3[b] = c3
        for i in range(n_in):
            x = a[i * nb : (i + 1) * nb]
            w = w_off + j * n_in + i
            w0, w1, w2, w3 = theta[w], theta[w + n_in], theta[w + 2 * n_in], theta[w + 3 * n_in]
            for b in range(nb):
                xb = x[b]
                z0[b] += w0 * xb
                z1[b] += w1 * xb
                z2[b] += w2 * xb
                z3[b] += w3 * xb
        j += 4
    while j < n_out:
        z0 = z[j * nb : (j + 1) * nb]
        c0 = theta[b_off + j]
        for b in range(nb):
            z0[b] = c0
        for i in range(n_in):
            x = a[i * nb : (i + 1) * nb]
            w0 = theta[w_off + j * n_in + i]
            for b in range(nb):
                z0[b] += w0 * x[b]
        j += 1


@njit(**_JIT)
def _fm_grad(a, n_in, d, n_out, nb, grad, w_off, b_off):
    """``gW[j, i] = sum_b d[j, b] a[i, b]``, ``gb[j] = sum_b d[j, b]`` (feature-major), four inputs at a time."""
    zero = grad.dtype.type(0)
    for j in range(n_out):
        dj = d[j * nb : (j + 1) * nb]
        s = zero
        for b in range(nb):
            s += dj[b]
        grad[b_off + j] = s
        g = grad[w_off + j * n_in : w_off + (j + 1) * n_in]
        i = 0
        while i + 4 <= n_in:
            a0 = a[i * nb : (i + 1) * nb]
            a1 = a[(i + 1) * nb : (i + 2) * nb]
            a2 = a[(i + 2) * nb : (i + 3) * nb]
            a3 = a[(i + 3) * nb : (i + 4) * nb]
            s0 = s1 = s2 = s3 = zero
            for b in range(nb):
                db = dj[b]
                s0 += db * a0[b]
                s1 += db * a1[b]
                s2 += db * a2[b]
                s3 += db * a3[b]
            g[i] = s0
            g[i + 1] = s1
            g[i + 2] = s2
            g[i + 3] = s3
            i += 4
        while i < n_in:
            a0 = a[i * nb : (i + 1) * nb]
            s0 = zero
            for b in range(nb):
                s0 += dj[b] * a0[b]
            g[i] = s0
            i += 1


@njit(**_JIT)
def _fm_delta_down(d, n_out, theta, w_off, n_in, nb, z, a, act, out):
    """:func:`_delta_down` feature-major: ``out[i, :] = (sum_j W[j, i] d[j, :]) * f'(z[i, :])``."""
    zero = out.dtype.type(0)
    i = 0
    while i + 4 <= n_in:
        o0 = out[i * nb : (i + 1) * nb]
        o1 = out[(i + 1) * nb : (i + 2) * nb]
        o2 = out[(i + 2) * nb : (i + 3) * nb]
        o3 = out[(i + 3) * nb : (i + 4) * nb]
        for b in range(nb):
            o0[b] = zero
            o1[b] = zero
            o2[b] = zero
            o3[b] = zero
        for j in range(n_out):
            dj = d[j * nb : (j + 1) * nb]
            w = w_off + j * n_in + i
            w0, w1, w2, w3 = theta[w], theta[w + 1], theta[w + 2], theta[w + 3]
            for b in range(nb):
                db = dj[b]
                o0[b] += w0 * db
                o1[b] += w1 * db
                o2[b] += w2 * db
                o3[b] += w3 * db
        i += 4
    while i < n_in:
        o0 = out[i * nb : (i + 1) * nb]
        for b in range(nb):
            o0[b] = zero
        for j in range(n_out):
            dj = d[j * nb : (j + 1) * nb]
            w0 = theta[w_off + j * n_in + i]
            for b in range(nb):
                o0[b] += w0 * dj[b]
        i += 1
    _times_derivative(out, z, a, nb * n_in, act)


@njit(**_JIT)
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


@njit(**_JIT)
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


@njit(nogil=True, cache=True, error_model="numpy")  # no fastmath: the arithmetic of DivergenceWatch.probe
def _probe(out, n, n_out, yp, wst, pst, wc):
    """The check of :meth:`DivergenceWatch.probe` on the probe batch's outputs ``out`` (flat, ``(n * n_out,)``),
    with the same comparisons in the same precision (the outputs against ``PINNED`` in their own dtype,
    shares and accuracy as float64 quotients of counts). Updates ``pst = [next_check, best, good_step,
    answer, share]`` (``next_check`` by the caller); returns 1 when the network collapsed (``answer``
    and ``share`` set), 2 when ``theta`` is a good copy (``best`` updated; the caller copies it), else 0.
    """
    lo = out.dtype.type(wc[5])
    hi = out.dtype.type(1.0 - wc[5])
    counts = np.zeros(n_out, np.int64)
    pinned = 0
    right = 0
    for b in range(n):
        o = b * n_out
        pred = 0  # np.argmax: the first largest, or the first NaN
        m = out[o]
        if not np.isnan(m):
            for j in range(1, n_out):
                v = out[o + j]
                if np.isnan(v):
                    pred = j
                    break
                if v > m:
                    m = v
                    pred = j
        counts[pred] += 1
        right += pred == yp[b]
        for j in range(n_out):
            v = out[o + j]
            pinned += (v < lo) or (v > hi)
    answer = 0
    for j in range(1, n_out):
        if counts[j] > counts[answer]:
            answer = j
    share = counts[answer] / n
    if pinned / (n * n_out) >= wc[6] and share >= wc[7]:
        pst[3] = answer
        pst[4] = share
        return 1
    acc = right / n
    ref = wst[2]
    if wc[2] * wst[1] > ref:  # max(low, RISE_FLOOR * first), as DivergenceWatch.rise_reference
        ref = wc[2] * wst[1]
    if wst[3] == 0.0 and wst[0] <= 2 * ref and acc >= pst[1] - 0.02:
        if acc > pst[1]:
            pst[1] = acc
        return 2
    return 0


@njit(**_JIT)
def train_chunk(
    theta,
    velocity,
    sizes,
    w_off,
    b_off,
    act,
    ce,
    U,
    Xf,
    labels,
    idx,
    batch,
    n_steps,
    hp,
    noise_k,
    noise,
    noise_y,
    step0,
    first_cost,
    blowup,
    wst,
    wc,
    seen0,
    Xp,
    yp,
    good,
    pst,
    snaps,
    snap_at,
    costs,
    gnorms,
):
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
    wc : float64 array, shape (8,)
        The watch's constants (:func:`digitviz.core.fused._watch_constants`): ``[COST_ALPHA, RISE,
        RISE_FLOOR, RISE_STEPS, PROBE_EVERY_EXAMPLES, PINNED, COLLAPSE_PINNED, COLLAPSE_SAME]``.
    seen0 : int
        Examples seen before this chunk.
    Xp : ndarray, shape (n_probe * n_in,), theta's dtype
        The watch's probe batch, flat (empty: no probe checks).
    yp : int array, shape (n_probe,)
        Its labels.
    good : ndarray, shape (P,)
        The watch's good copy of ``theta``: overwritten at a probe check that finds the run healthy.
    pst : float64 array, shape (5,)
        The probe checks' state ``[next_check, best, good_step, answer, share]``
        (:meth:`DivergenceWatch.probe_state`): after each step that brings the examples seen to
        ``next_check``, the probe batch's outputs are checked as :meth:`DivergenceWatch.probe` does.
    snaps : ndarray, shape (K, P)
        Copies of ``theta``: row ``j`` after step ``snap_at[j]`` (steps counted from the run's start).
        The driver asks for the path points and the timeline's kept moments, so a chunk need not end at them.
    snap_at : int64 array, shape (K,)
        Increasing steps, each after ``step0``; those past the last step done are not copied.
    costs, gnorms : float64 arrays, shape (n_steps,)
        Filled with each step's batch cost and gradient norm.

    Returns
    -------
    done : int
        Steps applied. With NOT_FINITE or BLEW_UP, step ``done`` diverged and ``theta`` is as after the
        ``done`` steps before it; with ROSE, the smoothed cost of step ``done`` (applied) rose for
        ``RISE_STEPS`` steps in a row; with COLLAPSED, the probe check after step ``done`` (applied)
        found the network collapsed (``pst[3:5]``: its answer and share).
    status : int
        :data:`OK`, :data:`NOT_FINITE`, :data:`BLEW_UP`, :data:`ROSE` or :data:`COLLAPSED`.
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
    alpha, rise, floor, rise_steps = wc[0], wc[1], wc[2], wc[3]
    seen = seen0
    n_probe = yp.shape[0] if Xp.shape[0] > 0 else 0
    probe_out = np.empty(n_probe * n_out, theta.dtype)
    n_snaps = 0
    next_snap = snap_at[0] if snap_at.shape[0] else -1  # the next step to copy theta after (-1: none)
    fm = _feature_major(sizes, batch)
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
                    _prefetch(U, r + off)  # type: ignore[call-arg]  # an intrinsic: typingctx is Numba's
        # the batch, gathered: doubt's noise rows first, then images divided by 255 as NumPy does
        for b in range(nb):
            xr = xb[b * n_in0 : (b + 1) * n_in0]
            if gathered:
                xr[:] = Xf[(start + b) * n_in0 : (start + b + 1) * n_in0]
            elif b < k:
                r = (noise_pos + b) * n_in0
                xr[:] = noise[r : r + n_in0]
            else:
                ur = U[idx[start + b] * n_in0 : (idx[start + b] + 1) * n_in0]
                for i in range(n_in0):
                    xr[i] = dt(ur[i]) / c255
        # forward; a layer's (b, j) value sits at b * sb + j * sj (batch- or feature-major)
        for l in range(L):
            ni, no = sizes[l], sizes[l + 1]
            sb, sj = (1, nb) if fm else (no, 1)
            z = zs[offs[l] : offs[l + 1]]
            a = acts[offs[l] : offs[l + 1]]
            if l == 0:
                _forward(xb, ident, ni, theta, w_off[0], b_off[0], no, nb, z, True, sb, sj)
            elif fm:
                _fm_forward(acts[offs[l - 1] : offs[l]], ni, theta, w_off[l], b_off[l], no, nb, z)
            else:
                _forward(acts[offs[l - 1] : offs[l]], ident, ni, theta, w_off[l], b_off[l], no, nb, z, True, no, 1)
            if l < L - 1:
                _activate(z, a, nb * no, act)
            elif ce == 1:
                for b in range(nb):
                    o = b * sb
                    m = z[o]
                    for j in range(1, no):
                        if z[o + j * sj] > m:
                            m = z[o + j * sj]
                    tot = zero
                    for j in range(no):
                        e = np.exp(z[o + j * sj] - m)
                        a[o + j * sj] = e
                        tot += e
                    for j in range(no):
                        a[o + j * sj] /= tot
            else:
                _activate(z, a, nb * no, 0)
        # output error and cost
        A = acts[offs[L - 1] : offs[L]]
        D = deltas[offs[L - 1] : offs[L]]
        sb, sj = (1, nb) if fm else (n_out, 1)
        scale = dt(2.0 / nb) if ce == 0 else dt(1.0 / nb)
        for b in range(nb):
            lab = idx[start + b]
            for j in range(n_out):
                if b < k:
                    y = ny
                else:
                    y = one if j == labels[lab] else zero
                D[b * sb + j * sj] = y
        cost = 0.0
        for b in range(nb):
            for j in range(n_out):
                o = b * sb + j * sj
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
            d = deltas[offs[l] : offs[l + 1]]
            if l == 0:
                sb, sj = (1, nb) if fm else (no, 1)
                _gradient(xb, ident, ni, d, no, nb, grad, w_off[0], b_off[0], True, sb, sj)
            elif fm:
                a_in = acts[offs[l - 1] : offs[l]]
                _fm_grad(a_in, ni, d, no, nb, grad, w_off[l], b_off[l])
                z_in = zs[offs[l - 1] : offs[l]]
                _fm_delta_down(d, no, theta, w_off[l], ni, nb, z_in, a_in, act, deltas[offs[l - 1] : offs[l]])
            else:
                _gradient(acts[offs[l - 1] : offs[l]], ident, ni, d, no, nb, grad, w_off[l], b_off[l], True, no, 1)
                _delta_down(
                    d,
                    no,
                    theta,
                    w_off[l],
                    ni,
                    nb,
                    zs[offs[l - 1] : offs[l]],
                    acts[offs[l - 1] : offs[l]],
                    act,
                    deltas[offs[l - 1] : offs[l]],
                )
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
        seen += nb
        step = step0 + s + 1
        if step == next_snap:
            snaps[n_snaps, :] = theta
            n_snaps += 1
            next_snap = snap_at[n_snaps] if n_snaps < snap_at.shape[0] else -1
        if _rise(wst, cost, alpha, rise, floor) >= rise_steps:
            return s + 1, ROSE
        if n_probe and seen >= pst[0]:  # DivergenceWatch.probe, after the step (as observe does)
            pst[0] = seen + wc[4]
            feed_forward(theta, sizes, w_off, b_off, act, ce, Xp, n_probe, probe_out)
            verdict = _probe(probe_out, n_probe, n_out, yp, wst, pst, wc)
            if verdict == 1:
                return s + 1, COLLAPSED
            if verdict == 2:
                good[:] = theta
                pst[2] = step
    return n_steps, OK


@njit(**_JIT)
def feed_forward(theta, sizes, w_off, b_off, act, ce, X, n, out):
    """The output activations of the ``n`` rows of ``X`` (flat, ``(n * n_in,)``) into ``out``
    (flat, ``(n * n_out,)``): the forward pass of :func:`train_chunk`, for the watch's probe batch
    (about 4x faster than NumPy's forward on 256 rows of the lesson's network)."""
    L = sizes.shape[0] - 1
    width = 0
    for l in range(1, L):
        width = max(width, sizes[l])
    a_prev = np.empty(n * width, theta.dtype)
    a_next = np.empty(n * width, theta.dtype)
    z = np.empty(n * max(width, sizes[L]), theta.dtype)
    ident = np.arange(n)
    zero = theta.dtype.type(0)
    for l in range(L):
        ni, no = sizes[l], sizes[l + 1]
        src = X if l == 0 else a_prev[: n * ni]
        zz = z[: n * no]
        _forward(src, ident, ni, theta, w_off[l], b_off[l], no, n, zz, True, no, 1)
        if l < L - 1:
            _activate(zz, a_next[: n * no], n * no, act)
            a_prev, a_next = a_next, a_prev
        elif ce == 1:
            for b in range(n):
                o = b * no
                m = zz[o]
                for j in range(1, no):
                    if zz[o + j] > m:
                        m = zz[o + j]
                tot = zero
                for j in range(no):
                    e = np.exp(zz[o + j] - m)
                    out[o + j] = e
                    tot += e
                for j in range(no):
                    out[o + j] /= tot
        else:
            _activate(zz, out, n * no, 0)


@njit(**_JIT)
def evaluate_images(theta, sizes, w_off, b_off, act, ce, U, labels, n, block, res):
    """Accuracy and cost of the network on the ``n`` images of ``U`` (uint8, flat ``(n * n_in,)``, divided
    by 255 in ``theta``'s dtype as :class:`~digitviz.core.data.ScaledImages` does), ``block`` rows at a time
    through :func:`feed_forward`: ``res[0]`` = answers equal to ``labels`` (the brightest output, the first
    one on a tie or NaN, as ``np.argmax``), ``res[1]`` = the summed cost of :func:`~digitviz.core.network.cost_value`
    (float64). The epoch's evaluation, without the GIL: in NumPy it is ~20 short calls a 4,096 rows, each
    of which gives the GIL back and waits to take it again from the GUI thread."""
    dt = theta.dtype.type
    n_in = sizes[0]
    n_out = sizes[sizes.shape[0] - 1]
    xb = np.empty(block * n_in, theta.dtype)
    out = np.empty(block * n_out, theta.dtype)
    c255 = dt(255)
    tiny = np.finfo(theta.dtype).tiny
    correct = 0
    cost = 0.0
    for lo in range(0, n, block):
        m = min(block, n - lo)
        base = lo * n_in
        for i in range(m * n_in):
            xb[i] = dt(U[base + i]) / c255
        feed_forward(theta, sizes, w_off, b_off, act, ce, xb, m, out)
        for r in range(m):
            o = r * n_out
            y = labels[lo + r]
            best = 0
            bv = out[o]
            if bv == bv:
                for k in range(1, n_out):
                    v = out[o + k]
                    if v != v:
                        best = k
                        break
                    if v > bv:
                        bv = v
                        best = k
            if best == y:
                correct += 1
            if ce == 1:
                cost -= np.log(max(out[o + y], tiny))
            else:
                for k in range(n_out):
                    d = float(out[o + k]) - (1.0 if k == y else 0.0)
                    cost += d * d
    res[0] = correct
    res[1] = cost
