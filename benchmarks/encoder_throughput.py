"""Training throughput of a 6-layer Transformer encoder classifier.

The same classifier (token and position embedding, `--layers` post-norm
encoder blocks, mean pooling over the real tokens, a float32 `Dense`) built
three ways in one process:
  - from `keras_attnpred` (`build_transformer_classifier`);
  - from `keras_hub.layers.TransformerEncoder`;
  - from `keras.layers.MultiHeadAttention` in a hand-written block.
All three are the same model: `--dropout` on the embeddings, the attention
weights, the two residual branches of each block and the pooled features,
and none on the feed-forward hidden activations, which keras-hub's block
does not drop; ours is built with `activation_dropout=0.0` to match.
Each trains with compiled training steps (`_training_steps`); the
candidates are timed round-robin (median of `--repeats` blocks of `--steps`
steps). Every block's time is kept; with keras_hub and other candidates in
one process, `paired_speedup_vs_keras_hub` is the median over rounds of
keras-hub's block time over the candidate's, which load from other work
skews less than the medians. The process CPU time (all threads) of each block is kept too
(`cpu_ms_per_step`, `cpu_speedup_vs_keras_hub`): on a small shared CPU it
holds steady when the wall-clock time does not. The bf16 matmul peak of the same device is measured in the
same run, and model FLOP utilisation (MFU) is the model's matmul FLOPs per
second against it.

On the GPU machine (Keras on JAX, see ../shared/tools/README.md):

    KERAS_BACKEND=jax python3 benchmarks/encoder_throughput.py \\
        --dtype-policy mixed_bfloat16 --padding none

On the CPU (TensorFlow, a small size):

    .venv/bin/python benchmarks/encoder_throughput.py --layers 2 \\
        --model-dim 128 --heads 4 --intermediate-dim 512 --length 128 \\
        --batch 16 --vocabulary-size 8000 --peak-size 1024

Writes benchmarks/results/encoder_throughput_<backend>_<device>_<padding>.json.
"""

import argparse
import json
import os
import statistics
import sys
import time

import keras
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _results import default_out  # noqa: E402
from attention_layers import describe_machine  # noqa: E402
from attention_layers import time_training_blocks  # noqa: E402


def ours(args):
    from keras_attnpred.models import build_transformer_classifier

    return build_transformer_classifier(
        args.vocabulary_size,
        2,
        args.length,
        num_layers=args.layers,
        model_dim=args.model_dim,
        num_heads=args.heads,
        intermediate_dim=args.intermediate_dim,
        dropout=args.dropout,
        pooling="mean",
        # keras-hub's block has no dropout on the feed-forward hidden layer.
        activation_dropout=0.0,
    )


def _classifier(args, block):
    import keras_hub

    tokens = keras.Input(shape=(args.length,), dtype="int32")
    x = keras_hub.layers.TokenAndPositionEmbedding(
        args.vocabulary_size, args.length, args.model_dim, mask_zero=True
    )(tokens)
    x = keras.layers.Dropout(args.dropout)(x)
    for _ in range(args.layers):
        x = block(x)
    x = keras.layers.GlobalAveragePooling1D()(x)
    x = keras.layers.Dropout(args.dropout)(x)
    return keras.Model(tokens, keras.layers.Dense(2, dtype="float32")(x))


def keras_hub_encoder(args):
    import keras_hub

    return _classifier(
        args,
        lambda x: keras_hub.layers.TransformerEncoder(
            args.intermediate_dim, args.heads, dropout=args.dropout
        )(x),
    )


def keras_multi_head_attention(args):
    def block(x):
        attention = keras.layers.MultiHeadAttention(
            args.heads, args.model_dim // args.heads, dropout=args.dropout
        )
        y = attention(x, x)
        y = keras.layers.Dropout(args.dropout)(y)
        x = keras.layers.LayerNormalization(epsilon=1e-5)(x + y)
        y = keras.layers.Dense(args.intermediate_dim, activation="relu")(x)
        y = keras.layers.Dense(args.model_dim)(y)
        y = keras.layers.Dropout(args.dropout)(y)
        return keras.layers.LayerNormalization(epsilon=1e-5)(x + y)

    return _classifier(args, block)


def model_flops_per_token(args):
    """Matmul FLOPs of one training step per token (forward + backward = 3x)."""
    d, f, t = args.model_dim, args.intermediate_dim, args.length
    per_layer = 2 * 4 * d * d + 2 * 2 * d * f + 2 * 2 * t * d
    return 3 * args.layers * per_layer


def matmul_peak(size, dtype, repeats=20):
    """Measured FLOP/s of a square matmul in `dtype` on the default device."""
    a = keras.ops.ones((size, size), dtype=dtype)
    b = keras.ops.ones((size, size), dtype=dtype)
    if keras.backend.backend() == "jax":
        import jax

        matmul = jax.jit(lambda a, b: a @ b)
        matmul(a, b).block_until_ready()
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(repeats):
                c = matmul(a, b)
            c.block_until_ready()
            best = min(best, (time.perf_counter() - start) / repeats)
    else:
        keras.ops.matmul(a, b)
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(repeats):
                np.asarray(keras.ops.matmul(a, b)[0, 0])
            best = min(best, (time.perf_counter() - start) / repeats)
    return 2 * size**3 / best


BUILDERS = {
    "keras_attnpred": ours,
    "keras_hub": keras_hub_encoder,
    "keras_mha": keras_multi_head_attention,
}


def add_model_arguments(parser, dropout=0.1, padding="none"):
    """The model and batch options shared with profile_training_step.py."""
    parser.add_argument("--layers", type=int, default=6)
    parser.add_argument("--model-dim", type=int, default=512)
    parser.add_argument("--heads", type=int, default=8)
    parser.add_argument("--intermediate-dim", type=int, default=2048)
    parser.add_argument("--length", type=int, default=512)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--vocabulary-size", type=int, default=32000)
    parser.add_argument("--dropout", type=float, default=dropout)
    parser.add_argument(
        "--padding",
        choices=["none", "random"],
        default=padding,
        help="none: every sequence is full; random: lengths in [T/2, T]",
    )


def random_batch(args):
    """Seeded `(ids, labels)` of one batch, padded as `--padding` says."""
    rng = np.random.default_rng(0)
    ids = rng.integers(1, args.vocabulary_size, (args.batch, args.length))
    if args.padding == "random":
        lengths = rng.integers(args.length // 2, args.length + 1, args.batch)
        ids[np.arange(args.length)[None] >= lengths[:, None]] = 0
    labels = rng.integers(0, 2, (args.batch,))
    return ids.astype("int32"), labels.astype("int32")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_model_arguments(parser)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--dtype-policy", default="float32")
    parser.add_argument("--peak-size", type=int, default=8192)
    parser.add_argument(
        "--candidates",
        nargs="+",
        default=["keras_attnpred", "keras_hub", "keras_mha"],
    )
    parser.add_argument("--out", default=None)
    args = parser.parse_args()

    keras.config.set_dtype_policy(args.dtype_policy)
    keras.utils.set_random_seed(0)
    ids, labels = random_batch(args)
    models = {}
    for name in args.candidates:
        model = BUILDERS[name](args)
        model.compile(
            optimizer="adam",
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            jit_compile=True,
        )
        models[name] = model
    blocks, cpu_blocks = time_training_blocks(
        models, ids, labels, args.steps, args.repeats
    )
    seconds = {name: statistics.median(times) for name, times in blocks.items()}
    compute_dtype = keras.mixed_precision.dtype_policy().compute_dtype
    peak = matmul_peak(args.peak_size, compute_dtype)
    flops = model_flops_per_token(args)
    tokens = args.batch * args.length
    real_tokens = int((ids != 0).sum())
    results = {}
    for name, model in models.items():
        results[name] = {
            "ms_per_step": round(seconds[name] * 1000, 3),
            "tokens_per_second": round(tokens / seconds[name]),
            "real_tokens_per_second": round(real_tokens / seconds[name]),
            "mfu": round(flops * tokens / seconds[name] / peak, 4),
            "parameters": model.count_params(),
            "ms_per_step_blocks": [round(t * 1000, 1) for t in blocks[name]],
            "cpu_ms_per_step": round(
                statistics.median(cpu_blocks[name]) * 1000, 3
            ),
            "cpu_ms_per_step_blocks": [
                round(t * 1000, 1) for t in cpu_blocks[name]
            ],
        }
    if "keras_hub" in results:
        base = results["keras_hub"]["ms_per_step"]
        for name, result in results.items():
            result["speedup_vs_keras_hub"] = round(base / result["ms_per_step"], 3)
            result["cpu_speedup_vs_keras_hub"] = round(
                results["keras_hub"]["cpu_ms_per_step"]
                / result["cpu_ms_per_step"],
                3,
            )
            if len(models) > 1:
                # Blocks of one round share the machine's state, so their
                # ratio resists load from other work better than the medians.
                ratios = [
                    a / b for a, b in zip(blocks["keras_hub"], blocks[name])
                ]
                result["paired_speedup_vs_keras_hub"] = round(
                    statistics.median(ratios), 3
                )
    for name, result in results.items():
        print(f"{name:16s} {result}")
    print(f"matmul peak ({compute_dtype}, {args.peak_size}^3): {peak / 1e12:.1f} TFLOP/s")
    report = {
        "benchmark": "encoder_throughput",
        "backend": keras.backend.backend(),
        "keras": keras.__version__,
        "machine": describe_machine(),
        "date": time.strftime("%Y-%m-%d"),
        "config": vars(args),
        "model_flops_per_token": flops,
        "matmul_peak_flops": round(peak),
        "results": results,
    }
    out = args.out or default_out("encoder_throughput", args.padding)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump(report, f, indent=2)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
