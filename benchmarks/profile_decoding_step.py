"""Where cached greedy decoding spends its time on the CPU (TensorFlow, XLA).

Builds the Transformer translator of `decoding_speed.py`, decodes a few
times under the TensorFlow profiler with XLA's per-kernel trace events on,
and sums the time of each XLA:CPU kernel (fusion, dot, copy) over the runs.

    XLA_FLAGS=--xla_cpu_enable_xprof_traceme=true \\
        .venv/bin/python benchmarks/profile_decoding_step.py --batch 1

XLA_FLAGS must be set before TensorFlow starts, hence on the command line.
Prints the top kernels (time per decode of `--length` tokens, calls per
decode) and writes them to `--out` as JSON when given.
"""

import argparse
import collections
import glob
import json
import os
import sys
import tempfile
import time

import keras
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from decoding_speed import FIRST_CONTENT_ID  # noqa: E402
from decoding_speed import make_model  # noqa: E402
from decoding_speed import never_end  # noqa: E402

from keras_attnpred.decoding import greedy_search  # noqa: E402


def kernel_times(log_dir):
    """{(thread, event name): [total microseconds, count]} of the trace."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    (path,) = glob.glob(
        os.path.join(log_dir, "**", "*.xplane.pb"), recursive=True
    )
    space = xplane_pb2.XSpace()
    with open(path, "rb") as f:
        space.ParseFromString(f.read())
    totals = collections.defaultdict(lambda: [0.0, 0])
    for plane in space.planes:
        for line in plane.lines:
            for event in line.events:
                name = plane.event_metadata[event.metadata_id].name
                totals[name][0] += event.duration_ps / 1e6
                totals[name][1] += 1
    return totals


def main():
    import tensorflow as tf

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--vocabulary-size", type=int, default=8000)
    parser.add_argument("--length", type=int, default=40)
    parser.add_argument("--source-length", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--out")
    args = parser.parse_args()
    if "xla_cpu_enable_xprof_traceme" not in os.environ.get("XLA_FLAGS", ""):
        parser.error(
            "set XLA_FLAGS=--xla_cpu_enable_xprof_traceme=true, or the trace "
            "holds no XLA kernels. Received: XLA_FLAGS="
            f"{os.environ.get('XLA_FLAGS')!r}"
        )
    model_args = argparse.Namespace(
        model=None, architecture="transformer",
        vocabulary_size=args.vocabulary_size, num_layers=3, model_dim=256,
        num_heads=8, intermediate_dim=512, length=args.length,
        source_length=args.source_length,
    )
    keras.utils.set_random_seed(0)
    model, _ = make_model(model_args)
    never_end(model)
    source = np.random.default_rng(0).integers(
        FIRST_CONTENT_ID, args.vocabulary_size, (args.batch, args.source_length)
    ).astype("int32")
    decode = lambda: greedy_search(model, source, max_length=args.length)  # noqa: E731
    decode()  # compiles
    start = time.perf_counter()
    decode()
    seconds = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as log_dir:
        tf.profiler.experimental.start(log_dir)
        for _ in range(args.runs):
            decode()
        tf.profiler.experimental.stop()
        totals = kernel_times(log_dir)
    # XLA's kernels: the events named after HLO instructions.
    kernels = {
        name: value for name, value in totals.items()
        if any(part in name for part in ("fusion", "dot", "MatMul", "copy"))
    }
    top = sorted(kernels.items(), key=lambda kv: -kv[1][0])[: args.top]
    report = {
        "config": vars(args),
        "date": time.strftime("%Y-%m-%d"),
        "seconds_per_decode_untraced": round(seconds, 4),
        "kernel_ms_per_decode": round(
            sum(t for t, _ in kernels.values()) / 1000 / args.runs, 2
        ),
        "top_kernels": [
            {
                "name": name,
                "ms_per_decode": round(t / 1000 / args.runs, 3),
                "calls_per_decode": round(n / args.runs, 1),
            }
            for name, (t, n) in top
        ],
    }
    print(f"one decode: {seconds * 1e3:.1f} ms untraced; "
          f"{report['kernel_ms_per_decode']} ms in XLA kernels (traced)")
    for row in report["top_kernels"]:
        print(f"{row['ms_per_decode']:8.3f} ms {row['calls_per_decode']:6.1f}x  {row['name']}")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(report, f, indent=2)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
