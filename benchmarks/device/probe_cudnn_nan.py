"""Which padded batches make cuDNN's attention-dropout kernel give NaN?

An SST-2 fine-tuning (rows padded to 64 pieces, 5,202 training rows of one
or two pieces) became NaN in its second batch through
`keras_attnpred.ops.fused_dropout_attention` on an H200, while TREC
(rows of 48, at least 3 pieces) and 20 Newsgroups trained through it
(benchmarks/RESULTS.md, "Pretraining and fine-tuning"). This runs the
kernel's forward and backward pass, with the mask the attention layers
build (a query that is padding sees no key), on batches of one shape
(64 rows of 64, 8 heads of 64, bfloat16, dropout 0.1) whose rows have
the lengths of each case, and records whether the output or a gradient
holds a NaN or an infinity.

    XLA_FLAGS=--xla_gpu_enable_command_buffer=FUSION,CUBLAS,CUBLASLT,CUSTOM_CALL \
    KERAS_BACKEND=jax python3 benchmarks/device/probe_cudnn_nan.py OUT.json

Without a GPU (or without those flags) the kernel is not available: the
file says so and nothing else is run.
"""

import json
import sys

import jax
import jax.numpy as jnp
import numpy as np

from keras_attnpred.ops import can_fuse_dropout
from keras_attnpred.ops import fused_dropout_attention

BATCH, LENGTH, HEADS, HEAD_DIM, RATE = 64, 64, 8, 64, 0.1

# Row lengths of each case, cycled over the batch.
CASES = {
    "trec_like_at_least_5": [5, 9, 12, 20, 33],
    "sst2_like_mixed_1_to_40": [1, 2, 3, 7, 15, 40],
    "all_rows_of_1": [1],
    "all_rows_of_2": [2],
    "all_rows_of_3": [3],
    "full_rows": [LENGTH],
    "one_empty_row": [0] + [10] * (BATCH - 1),
}


def probe(lengths, seed=0):
    rng = np.random.default_rng(seed)
    lengths = np.resize(np.asarray(lengths), BATCH)
    real = np.arange(LENGTH)[None, :] < lengths[:, None]
    mask = jnp.asarray(real[:, None, :, None] & real[:, None, None, :])
    shape = (BATCH, LENGTH, HEADS, HEAD_DIM)
    q, k, v, cotangent = (
        jnp.asarray(rng.normal(size=shape), jnp.bfloat16) for _ in range(4)
    )
    can_see = jnp.asarray(real)[:, :, None, None]

    def loss(q, k, v):
        out = fused_dropout_attention(
            q, k, v, mask, scale=HEAD_DIM**-0.5, is_causal=False,
            rate=RATE, seed=1234,
        )
        # As the layer does: a query that sees no key gives zeros.
        out = out * can_see.astype(out.dtype)
        return jnp.sum(out.astype(jnp.float32) * cotangent), out

    grads, out = jax.jit(jax.grad(loss, argnums=(0, 1, 2), has_aux=True))(
        q, k, v
    )

    def finite(x):
        return bool(jnp.all(jnp.isfinite(x.astype(jnp.float32))))

    return {
        "lengths": sorted(set(int(n) for n in lengths)),
        "output_finite": finite(out),
        "grad_finite": {
            name: finite(g) for name, g in zip(("query", "key", "value"), grads)
        },
    }


def main(out_path):
    if not can_fuse_dropout("bfloat16", HEAD_DIM, LENGTH, LENGTH, True):
        report = {"skipped": "the fused kernel is not available here "
                  "(JAX on a GPU with cuDNN and the XLA_FLAGS above)"}
    else:
        report = {
            "device": jax.devices()[0].device_kind,
            "shape": [BATCH, LENGTH, HEADS, HEAD_DIM],
            "rate": RATE,
            "cases": {},
        }
        for name, lengths in CASES.items():
            try:
                report["cases"][name] = probe(lengths)
            except Exception as error:  # one failing case must not hide the rest
                report["cases"][name] = {"error": repr(error)[:500]}
    with open(out_path, "w") as f:
        json.dump(report, f, indent=2)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main(sys.argv[1])
