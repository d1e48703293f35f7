"""Training-step time of one attention layer: ours against keras.layers.

Times a jit-compiled forward and backward pass of a self-attention layer with
a padding mask, in one process, for:
  - keras_attnpred.layers.MultiHeadAttention, fused path (the default);
  - the same layer with use_fused_attention=False;
  - keras.layers.MultiHeadAttention.

Usage (from the repository root):

    KERAS_BACKEND=tensorflow .venv/bin/python benchmarks/attention_layers.py
    KERAS_BACKEND=jax .venv/bin/python benchmarks/attention_layers.py

On the GPU machine (Keras on JAX), the figures in RESULTS.md come from

    KERAS_BACKEND=jax python3 benchmarks/attention_layers.py --batch 64 \
        --length 512 --model-dim 512 --dtype-policy mixed_bfloat16 --mask causal

Writes benchmarks/results/attention_layers_<backend>_<device>_<mask>.json.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time

import keras
import numpy as np

from keras_attnpred import layers

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _results import default_out  # noqa: E402
from _training_steps import training_steps  # noqa: E402


def make_model(attention, batch, length, model_dim, mask_kind):
    x = keras.Input(shape=(length, model_dim), batch_size=batch)
    mask = keras.Input(shape=(length,), batch_size=batch, dtype="bool")
    if mask_kind == "padding":
        y = attention(x, x, query_mask=mask, value_mask=mask)
    else:
        y = attention(x, x, use_causal_mask=True)
    y = keras.layers.Activation("linear", dtype="float32")(y)
    model = keras.Model([x, mask], y)
    model.compile(optimizer="sgd", loss="mse", jit_compile=True)
    return model


def time_round_robin(runs, repeats, cpu_seconds=None):
    """Seconds of each of `repeats` calls of each callable in `runs` (a dict).

    The candidates are called round-robin: interleaving them spreads clock
    and thermal drift evenly over them, which timing each in its own block
    does not. Each callable must wait for the device before it returns.
    A dict passed as `cpu_seconds` also receives the process CPU time (all
    threads) of each call, which on a shared CPU holds steady when the
    wall-clock time does not.
    """
    seconds = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            start, cpu_start = time.perf_counter(), time.process_time()
            run()
            seconds[name].append(time.perf_counter() - start)
            if cpu_seconds is not None:
                cpu_seconds.setdefault(name, []).append(
                    time.process_time() - cpu_start
                )
    return seconds


def time_training_steps(models, inputs, target, steps, repeats):
    """Median seconds per step of each model, timed round-robin.

    See `time_training_blocks`.
    """
    blocks, _ = time_training_blocks(models, inputs, target, steps, repeats)
    return {name: statistics.median(times) for name, times in blocks.items()}


def time_training_blocks(models, inputs, target, steps, repeats):
    """Seconds per step of each of the `repeats` blocks of each model.

    Returns:
        `(wall, cpu)`: dicts from each name in `models` to the wall-clock
        and the process CPU seconds per step of its blocks, in order.

    The blocks are timed round-robin, so block `i` of every model ran in
    the same round. Each block is `steps` compiled training steps on the
    same batch (`_training_steps`), put on the device once: the weights
    stay on the device between steps, as in `fit`. (`train_on_batch`
    instead copies every variable back after each step, which on JAX cost
    more than the step itself.)
    """
    batch = keras.tree.map_structure(
        keras.ops.convert_to_tensor, (inputs, target)
    )

    def block(model):
        run = training_steps(model)
        return lambda: run([batch] * steps)

    runs = {name: block(model) for name, model in models.items()}
    for run in runs.values():
        run()  # compile
    cpu_seconds = {}
    seconds = time_round_robin(runs, repeats, cpu_seconds)

    def per_step(times):
        return {name: [t / steps for t in ts] for name, ts in times.items()}

    return per_step(seconds), per_step(cpu_seconds)


def uses_cudnn_attention(attention, x, mask, mask_kind):
    """Whether XLA compiled the layer's forward pass to cuDNN fused attention.

    JAX falls back to plain XLA (logging the reason) when cuDNN refuses the
    inputs, so this looks at what was compiled, with the benchmark's mask.
    """
    if keras.backend.backend() != "jax":
        return None
    import jax

    def forward(x, mask):
        if mask_kind == "causal":
            return attention(x, x, use_causal_mask=True)
        return attention(x, x, query_mask=mask, value_mask=mask)

    compiled = jax.jit(forward).lower(x, mask).compile().as_text().lower()
    return "cudnn" in compiled and "fmha" in compiled


def describe_machine():
    devices = ""
    if keras.backend.backend() == "jax":
        import jax

        devices = ", ".join(sorted({d.device_kind for d in jax.devices()}))
    return f"{platform.machine()}, {os.cpu_count()} CPUs; {devices}".strip("; ")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--length", type=int, default=128)
    parser.add_argument("--model-dim", type=int, default=256)
    parser.add_argument("--heads", type=int, default=8)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--mask",
        choices=["padding", "causal"],
        default="padding",
        help="padding: random lengths in [T/2, T]; causal: no padding",
    )
    parser.add_argument("--dtype-policy", default="float32")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()

    keras.config.set_dtype_policy(args.dtype_policy)
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.batch, args.length, args.model_dim))
    x = x.astype("float32")
    lengths = rng.integers(args.length // 2, args.length + 1, size=args.batch)
    mask = np.arange(args.length)[None] < lengths[:, None]
    target = np.zeros_like(x)
    key_dim = args.model_dim // args.heads
    candidates = {
        "keras_attnpred fused": layers.MultiHeadAttention(args.heads, key_dim),
        "keras_attnpred unfused": layers.MultiHeadAttention(
            args.heads, key_dim, use_fused_attention=False
        ),
        "keras.layers.MultiHeadAttention": keras.layers.MultiHeadAttention(
            args.heads, key_dim
        ),
    }
    models = {
        name: make_model(
            attention, args.batch, args.length, args.model_dim, args.mask
        )
        for name, attention in candidates.items()
    }
    seconds = time_training_steps(
        models, [x, mask], target, args.steps, args.repeats
    )
    results = {}
    for name, attention in candidates.items():
        results[name] = {
            "ms_per_step": round(seconds[name] * 1000, 3),
            "tokens_per_second": round(args.batch * args.length / seconds[name]),
            "cudnn_fused_attention": uses_cudnn_attention(
                attention, x, mask, args.mask
            ),
        }
        print(f"{name:34s} {seconds[name] * 1000:8.2f} ms/step")
    baseline = results["keras.layers.MultiHeadAttention"]["ms_per_step"]
    for result in results.values():
        result["speedup_vs_keras"] = round(baseline / result["ms_per_step"], 3)

    report = {
        "benchmark": "attention_layers",
        "backend": keras.backend.backend(),
        "keras": keras.__version__,
        "machine": describe_machine(),
        "date": time.strftime("%Y-%m-%d"),
        "config": vars(args),
        "results": results,
    }
    out = args.out or default_out("attention_layers", args.mask)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump(report, f, indent=2)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
