"""Does cuDNN's fused attention apply attention dropout correctly, and how fast?

Pure JAX, no Keras. Checks, on the GPU:
- forward and backward use the same dropout mask (value = identity makes the
  output the dropped weights; the value gradient for an identity cotangent
  is their transpose);
- the mask changes from one call of a compiled function to the next, and
  between two seeds;
- about `rate` of the weights are dropped and the rest scaled by 1/(1-rate);
then times a forward+backward of one (64, 512, 8, 64) bf16 attention with a
padding bias against XLA's explicit softmax with threefry dropout.

    python3 benchmarks/device/probe_cudnn_dropout.py OUT.json
"""

import json
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
from jax._src.cudnn import fused_attention_stablehlo as cudnn_attention


def fused(q, k, v, bias, rate, seed):
    return cudnn_attention.dot_product_attention(
        q, k, v, bias=bias, scale=1.0 / np.sqrt(q.shape[-1]),
        dropout_rate=rate, seed=seed, qkv_layout="BTNH",
    )


def explicit(q, k, v, bias, rate, key):
    logits = jnp.einsum(
        "btnh,bsnh->bnts", q.astype(jnp.float32), k.astype(jnp.float32)
    ) / np.sqrt(q.shape[-1])
    if bias is not None:
        logits = logits + bias.astype(jnp.float32)
    weights = jax.nn.softmax(logits, axis=-1).astype(v.dtype)
    if rate:
        keep = jax.random.bernoulli(key, 1 - rate, weights.shape)
        weights = jnp.where(keep, weights / (1 - rate), 0).astype(v.dtype)
    return jnp.einsum("bnts,bsnh->btnh", weights, v)


def mask_checks(results):
    rate = 0.25
    b, t, n, h = 2, 64, 2, 64
    rng = np.random.default_rng(0)
    q = jnp.asarray(rng.normal(size=(b, t, n, h)), jnp.bfloat16)
    k = jnp.asarray(rng.normal(size=(b, t, n, h)), jnp.bfloat16)
    # value = identity: output[b, i, n, :] is row i of the dropped weights.
    v = jnp.broadcast_to(jnp.eye(t, h)[None, :, None, :], (b, t, n, h)).astype(
        jnp.bfloat16
    )
    eye = jnp.broadcast_to(jnp.eye(t, h)[None, :, None, :], (b, t, n, h)).astype(
        jnp.bfloat16
    )

    @jax.jit
    def forward_and_value_grad(q, k, v):
        out, vjp = jax.vjp(lambda v: fused(q, k, v, None, rate, 7), v)
        (grad_v,) = vjp(eye)
        return out, grad_v

    out1, grad1 = forward_and_value_grad(q, k, v)
    out2, grad2 = forward_and_value_grad(q, k, v)
    dropped1 = np.asarray(out1, np.float32)  # (b, i, n, j)
    # grad_v[b, j, n, :] = sum_i W[b,n,i,j] * eye[b,i,n,:] -> W^T
    g = np.asarray(grad1, np.float32)
    results["fwd_bwd_same_mask_max_abs_diff"] = float(
        np.abs(dropped1 - np.transpose(g, (0, 3, 2, 1))).max()
    )
    zero1 = dropped1 == 0
    zero2 = np.asarray(out2, np.float32) == 0
    results["dropped_fraction"] = float(zero1.mean())
    results["masks_equal_between_calls"] = bool((zero1 == zero2).all())
    results["mask_agreement_between_calls"] = float((zero1 == zero2).mean())
    plain = np.asarray(fused(q, k, v, None, 0.0, 7), np.float32)
    kept = ~zero1
    results["kept_scale_median"] = float(np.median(dropped1[kept] / plain[kept]))
    other = np.asarray(jax.jit(lambda q, k, v: fused(q, k, v, None, rate, 8))(q, k, v), np.float32) == 0
    results["mask_agreement_between_seeds"] = float((zero1 == other).mean())
    # Two layers with the same seed in one function.
    @jax.jit
    def two(q, k, v):
        return fused(q, k, v, None, rate, 7), fused(q, k, v, None, rate, 7)

    a, bb = two(q, k, v)
    results["same_seed_two_calls_agreement"] = float(
        ((np.asarray(a, np.float32) == 0) == (np.asarray(bb, np.float32) == 0)).mean()
    )
    # With a padding bias (bias path) too.
    bias = jnp.where(jnp.arange(t)[None, None, None, :] < 40, 0.0, -1e9).astype(
        jnp.bfloat16
    )
    bias = jnp.broadcast_to(bias, (b, 1, t, t))
    outb = np.asarray(jax.jit(lambda q, k, v: fused(q, k, v, bias, rate, 7))(q, k, v), np.float32)
    results["bias_padded_keys_weight_max"] = float(np.abs(outb[..., 40:]).max())
    results["bias_dropped_fraction_real_keys"] = float((outb[..., :40] == 0).mean())


def timing(results):
    b, t, n, h = 64, 512, 8, 64
    rng = np.random.default_rng(0)
    q, k, v = (
        jnp.asarray(rng.normal(size=(b, t, n, h)), jnp.bfloat16) for _ in range(3)
    )
    lengths = rng.integers(256, 513, size=b)
    bias = jnp.where(
        jnp.arange(t)[None, None, None, :] < lengths[:, None, None, None], 0.0, -1e9
    ).astype(jnp.bfloat16)
    bias = jnp.broadcast_to(bias, (b, 1, t, t))
    key = jax.random.PRNGKey(0)

    def loss_fused(q, k, v, rate):
        return fused(q, k, v, bias, rate, 3).astype(jnp.float32).sum()

    def loss_explicit(q, k, v, rate):
        return explicit(q, k, v, bias, rate, key).astype(jnp.float32).sum()

    for name, fn in (("cudnn", loss_fused), ("xla_f32_logits", loss_explicit)):
        for rate in (0.0, 0.1):
            # Traced right here, inside this iteration.
            step = jax.jit(jax.grad(lambda q, k, v: fn(q, k, v, rate), argnums=(0, 1, 2)))  # noqa: B023
            jax.block_until_ready(step(q, k, v))
            times = []
            for _ in range(5):
                start = time.perf_counter()
                for _ in range(20):
                    out = step(q, k, v)
                jax.block_until_ready(out)
                times.append((time.perf_counter() - start) / 20 * 1e3)
            results[f"ms_fwd_bwd_{name}_rate{rate}"] = float(np.median(times))


def main():
    results = {"jax": jax.__version__, "device": str(jax.devices()[0])}
    for check in (mask_checks, timing):
        try:
            check(results)
        except Exception as error:  # report, keep going
            results[f"{check.__name__}_error"] = repr(error)[:2000]
    print(json.dumps(results, indent=1))
    with open(sys.argv[1], "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
