"""Where a training step of the issue-8 encoder spends its GPU time.

Builds the candidates of `encoder_throughput.py`, runs a few compiled
training steps (`_training_steps`, on one batch put on the device first) of
each under `jax.profiler.trace`, and sums the GPU kernel time of the trace
by kernel name (the XLA fusion or library kernel), so two candidates can be
compared line by line.

On the GPU machine (Keras on JAX):

    KERAS_BACKEND=jax python3 benchmarks/profile_training_step.py \\
        --dtype-policy mixed_bfloat16 --dropout 0.0 --padding random

Writes benchmarks/results/profile_training_step_<backend>_<device>.json
(top kernels per candidate) and prints the top of each.
"""

import argparse
import collections
import glob
import gzip
import json
import os
import sys
import tempfile
import time

import keras

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _results import default_out  # noqa: E402
from _training_steps import training_steps  # noqa: E402
from encoder_throughput import BUILDERS  # noqa: E402
from encoder_throughput import add_model_arguments  # noqa: E402
from encoder_throughput import random_batch  # noqa: E402


def kernel_times(trace_dir):
    """{kernel name: (total microseconds, count)} of the GPU events."""
    (path,) = glob.glob(
        os.path.join(trace_dir, "**", "perfetto_trace.json.gz"), recursive=True
    )
    with gzip.open(path) as f:
        trace = json.load(f)
    events = trace["traceEvents"]
    gpu_pids = {
        e["pid"]
        for e in events
        if e.get("ph") == "M"
        and e.get("name") == "process_name"
        and "gpu" in str(e.get("args", {}).get("name", "")).lower()
    }
    totals = collections.defaultdict(lambda: [0.0, 0])
    for e in events:
        if e.get("ph") == "X" and e.get("pid") in gpu_pids:
            totals[e["name"]][0] += e.get("dur", 0)
            totals[e["name"]][1] += 1
    return totals


def kernel_category(name):
    """matmul, attention or other (XLA's memory-bound fusions, copies, Adam)."""
    lowered = name.lower()
    if "sdpa" in lowered or "fmha" in lowered or "flash" in lowered:
        return "attention (cuDNN)"
    if lowered.startswith(("nvjet", "gemm", "cutlass", "sm90_xmma", "ampere")) or "gemm" in lowered:
        return "matmul"
    return "other"


def main():
    import jax

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_model_arguments(parser, dropout=0.0, padding="random")
    parser.add_argument("--dtype-policy", default="mixed_bfloat16")
    parser.add_argument("--steps", type=int, default=5, help="steps profiled")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument(
        "--candidates",
        nargs="+",
        default=["keras_attnpred", "keras_hub"],
        choices=sorted(BUILDERS),
    )
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    keras.config.set_dtype_policy(args.dtype_policy)
    batch = keras.tree.map_structure(
        keras.ops.convert_to_tensor, random_batch(args)
    )
    report = {"config": vars(args), "date": time.strftime("%Y-%m-%d"), "results": {}}
    for name in args.candidates:
        keras.utils.set_random_seed(0)
        model = BUILDERS[name](args)
        model.compile(
            optimizer="adam",
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            jit_compile=True,
        )
        run = training_steps(model)
        run([batch] * args.steps)  # compile
        with tempfile.TemporaryDirectory() as trace_dir:
            with jax.profiler.trace(trace_dir, create_perfetto_trace=True):
                run([batch] * args.steps)
            totals = kernel_times(trace_dir)
        gpu_ms = sum(t for t, _ in totals.values()) / 1000 / args.steps
        top = sorted(totals.items(), key=lambda kv: -kv[1][0])[: args.top]
        by_category = collections.defaultdict(float)
        for kernel, (t, _) in totals.items():
            by_category[kernel_category(kernel)] += t / 1000 / args.steps
        report["results"][name] = {
            "gpu_ms_per_step": round(gpu_ms, 3),
            "ms_per_step_by_category": {
                k: round(v, 3) for k, v in sorted(by_category.items())
            },
            "top_kernels": [
                {
                    "name": kernel[:160],
                    "ms_per_step": round(t / 1000 / args.steps, 3),
                    "calls_per_step": n / args.steps,
                }
                for kernel, (t, n) in top
            ],
        }
        print(f"== {name}: {gpu_ms:.2f} ms of GPU kernels per step")
        print("   by category:", report["results"][name]["ms_per_step_by_category"])
        for row in report["results"][name]["top_kernels"]:
            print(f"{row['ms_per_step']:8.3f} ms {row['calls_per_step']:6.1f}x  {row['name'][:110]}")
    out = args.out or default_out("profile_training_step")
    with open(out, "w") as f:
        json.dump(report, f, indent=2)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
