"""Output tokens per second of cached against uncached decoding.

Builds a translator of the Multi30k recipe's size (3 + 3 Transformer
blocks, model width 256, 8 heads, feed-forward 512, 8,000 ids on each side),
or an RNN translator with `--architecture bahdanau|luong`, or loads one with
`--model PATH` (a `.keras` file, or a run or translator directory holding
`model.keras`). It then times `greedy_search` and `beam_search` (beam 4, the
best hypothesis kept), each with `use_cache=True` (one token per step
through the key/value caches or the RNN state) and `use_cache=False` (the
whole model re-run on the source and the tokens so far at every step), at
batch sizes 1 and 32 of random source ids.

Every row decodes exactly `--length` tokens (default 40): the bias of the
end id (3) in the `logits` layer is set to -1e4 before timing, so the end
id is never chosen and the search never stops early. The weights are
otherwise untouched (random, or the loaded model's); the work per step does
not depend on them. Output tokens are `batch * length` per call, the
returned best hypothesis, whatever the beam width.

The candidates are timed round-robin (one call of each per repeat, after
one compiling call each), which spreads clock and load drift evenly over
them; the figure is the median over `--repeats`. The share of ids on which
cached and uncached decoding agree is reported too (1.0 expected).

Usage (from the repository root):

    KERAS_BACKEND=tensorflow .venv/bin/python benchmarks/decoding_speed.py
    KERAS_BACKEND=jax python3 benchmarks/decoding_speed.py       # on a GPU
    .venv/bin/python benchmarks/decoding_speed.py --architecture bahdanau
    .venv/bin/python benchmarks/decoding_speed.py --model runs/de-en

A quick check with tiny sizes:

    .venv/bin/python benchmarks/decoding_speed.py --vocabulary-size 100 \\
        --num-layers 1 --model-dim 32 --num-heads 2 --intermediate-dim 64 \\
        --length 8 --batch-sizes 1 4 --repeats 2 --out /tmp/speed.json

Writes benchmarks/results/decoding_speed_<backend>_<device>_<architecture>.json.
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time

import keras
import numpy as np

from keras_attnpred.decoding import beam_search
from keras_attnpred.decoding import greedy_search
from keras_attnpred.models import build_rnn_translator
from keras_attnpred.models import build_transformer_translator
from keras_attnpred.models import upgrade_legacy_model
from keras_attnpred.reserved_ids import END_ID
from keras_attnpred.serialization import load_model

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _results import default_out  # noqa: E402

FIRST_CONTENT_ID = 4  # 0-3: padding, unknown, start, end


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--model",
        help="a .keras file, or a directory holding model.keras (else a "
        "model is built with the sizes below)",
    )
    parser.add_argument(
        "--architecture",
        choices=["transformer", "bahdanau", "luong"],
        default="transformer",
    )
    parser.add_argument("--vocabulary-size", type=int, default=8000)
    parser.add_argument("--num-layers", type=int, default=3)
    parser.add_argument("--model-dim", type=int, default=256)
    parser.add_argument("--num-heads", type=int, default=8)
    parser.add_argument("--intermediate-dim", type=int, default=512)
    parser.add_argument(
        "--rnn", choices=["gru", "lstm"], default="gru", help="RNN models"
    )
    parser.add_argument("--embedding-dim", type=int, default=128, help="RNN")
    parser.add_argument("--units", type=int, default=256, help="RNN")
    parser.add_argument(
        "--length", type=int, default=40, help="output tokens per row"
    )
    parser.add_argument(
        "--source-length", type=int, default=20, help="source ids per row"
    )
    parser.add_argument(
        "--batch-sizes", type=int, nargs="+", default=[1, 32]
    )
    parser.add_argument(
        "--beam-width", type=int, default=4, help="the beam search timed"
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="JSON file to write")
    return parser.parse_args()


def make_model(args):
    if args.model:
        path = args.model
        if os.path.isdir(path):
            path = os.path.join(path, "model.keras")
        # A model saved by an earlier version is a plain functional model:
        # rebuilt as its translator class, it decodes through its caches.
        model = upgrade_legacy_model(load_model(path, compile=False))
        return model, {"model_path": args.model}
    size = args.vocabulary_size
    if args.architecture == "transformer":
        settings = dict(
            num_layers=args.num_layers,
            model_dim=args.model_dim,
            num_heads=args.num_heads,
            intermediate_dim=args.intermediate_dim,
            dropout=0.0,
        )
        model = build_transformer_translator(
            size, size, max(args.length, args.source_length), **settings
        )
    else:
        settings = dict(
            attention=args.architecture,
            rnn=args.rnn,
            embedding_dim=args.embedding_dim,
            units=args.units,
        )
        model = build_rnn_translator(size, size, **settings)
    settings["vocabulary_size"] = size
    return model, settings


def never_end(model):
    """Makes the end id all but impossible, so every row runs to the end."""
    bias = model.logits_layer.bias
    values = keras.ops.convert_to_numpy(bias).copy()
    values[END_ID] = -1e4
    bias.assign(values)


def device_description():
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return ", ".join(str(device) for device in jax.devices())
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            return ", ".join(gpu.name for gpu in gpus)
    return f"CPU ({os.cpu_count()} cores visible)"


def main():
    args = parse_args()
    keras.utils.set_random_seed(args.seed)
    model, settings = make_model(args)
    never_end(model)
    vocabulary_size = model.outputs[0].shape[-1]
    rng = np.random.default_rng(args.seed)

    searches = {
        "greedy": lambda source, cache: greedy_search(
            model, source, max_length=args.length, use_cache=cache
        ),
        f"beam{args.beam_width}": lambda source, cache: beam_search(
            model, source, beam_width=args.beam_width,
            max_length=args.length, use_cache=cache,
        )[0][:, 0],
    }
    candidates = {}
    for batch in args.batch_sizes:
        source = rng.integers(
            FIRST_CONTENT_ID, vocabulary_size, (batch, args.source_length)
        ).astype("int32")
        for search, run in searches.items():
            for cache in (True, False):
                name = (search, batch, "cached" if cache else "uncached")
                candidates[name] = (run, source, cache)

    ids = {}
    for name, (run, source, cache) in candidates.items():
        start = time.perf_counter()
        ids[name] = run(source, cache)  # compiles
        print(f"compiled {name} in {time.perf_counter() - start:.1f} s")
        assert ids[name].shape == (len(source), args.length), ids[name].shape
    # Random weights can leave near ties that float rounding breaks either
    # way, so the agreement is reported rather than asserted.
    agreement = {}
    for (search, batch, kind), value in ids.items():
        if kind == "cached":
            same = value == ids[(search, batch, "uncached")]
            agreement[f"{search}_batch{batch}"] = float(same.mean())
    print(f"cached and uncached ids agree: {agreement}")

    seconds = {name: [] for name in candidates}
    for _ in range(args.repeats):
        for name, (run, source, cache) in candidates.items():
            start = time.perf_counter()
            run(source, cache)
            seconds[name].append(time.perf_counter() - start)

    results = []
    for (search, batch, kind), times in seconds.items():
        median = statistics.median(times)
        results.append(
            {
                "search": search,
                "batch": batch,
                "decoder": kind,
                "seconds_median": median,
                "seconds": times,
                "tokens_per_second": batch * args.length / median,
            }
        )
        print(
            f"{search:>6} batch {batch:>3} {kind:>8}: {median:8.3f} s, "
            f"{batch * args.length / median:10.1f} tokens/s"
        )
    speedups = {}
    for result in results:
        if result["decoder"] == "cached":
            key = f"{result['search']}_batch{result['batch']}"
            uncached = seconds[(result["search"], result["batch"], "uncached")]
            speedups[key] = statistics.median(uncached) / result[
                "seconds_median"
            ]
            print(f"cached speed-up {key}: {speedups[key]:.1f}x")

    report = {
        "command": "benchmarks/decoding_speed.py",
        "arguments": vars(args),
        "model": settings,
        "architecture": args.architecture if not args.model else model.name,
        "parameters": model.count_params(),
        "backend": keras.backend.backend(),
        "device": device_description(),
        "machine": platform.platform(),
        "processor": platform.processor(),
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "output_length": args.length,
        "results": results,
        "cached_speedup": speedups,
        "cached_uncached_agreement": agreement,
    }
    out = args.out or default_out("decoding_speed", report["architecture"])
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
