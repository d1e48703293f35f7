"""Why full-int8 TFLite of the IMDB classifier ran slower than float32 on
the CPU: latency with and without LiteRT's default XNNPack delegate, and the
op make-up of each model (which ops stay float, the QUANTIZE/DEQUANTIZE
pairs around them).

    KERAS_BACKEND=tensorflow .venv/bin/python benchmarks/tflite_int8_profile.py \\
        --out benchmarks/results/tflite_int8_profile_cpu.json

The classifier has the shape of RESULTS' export row (preset `small`: 2
layers, width 128, 4 heads, attention pooling, 8,000 pieces, 256 tokens) with
random weights; latency depends on the shapes, not the values. The int8
model is calibrated on random ids. Each variant is timed at batch 1 on one
interpreter thread, `--repeats` calls after 10 warm-up calls.
"""

import argparse
import collections
import json
import os
import platform
import tempfile
import time

import numpy as np

# "int8_float_fallback": int8 where the converter's int8 kernels exist,
# float32 elsewhere (TFLITE_BUILTINS beside TFLITE_BUILTINS_INT8).
VARIANTS = ("float32", "dynamic_int8", "int8", "int8_float_fallback")


def op_make_up(interpreter):
    """Per op name, how many there are and how many take an int8 input."""
    details = interpreter._get_ops_details()
    tensors = {t["index"]: t for t in interpreter.get_tensor_details()}
    counts = collections.Counter()
    int8 = collections.Counter()
    for op in details:
        name = op["op_name"]
        counts[name] += 1
        kinds = {
            np.dtype(tensors[i]["dtype"]).name
            for i in op["inputs"] if i in tensors
        }
        if "int8" in kinds:
            int8[name] += 1
    return {
        name: {"count": counts[name], "int8_inputs": int8[name]}
        for name in sorted(counts)
    }


def latency(path, delegate, repeats, length):
    from ai_edge_litert import interpreter as litert

    resolver = (
        litert.OpResolverType.AUTO if delegate
        else litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    )
    model = litert.Interpreter(model_path=path, num_threads=1,
                               experimental_op_resolver_type=resolver)
    model.allocate_tensors()
    [inputs] = model.get_input_details()
    ids = np.random.default_rng(0).integers(
        5, 8000, size=(1, length)).astype(np.int32)
    ids[:, length // 2:] = 0  # half padding, as a median review
    model.set_tensor(inputs["index"], ids)
    for _ in range(10):
        model.invoke()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.invoke()
        seconds.append(time.perf_counter() - start)
    ms = np.array(seconds) * 1000
    return model, {
        "p50_ms": round(float(np.percentile(ms, 50)), 3),
        "p99_ms": round(float(np.percentile(ms, 99)), 3),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", help="JSON file for the results")
    parser.add_argument("--preset", default="small")
    parser.add_argument("--length", type=int, default=256)
    parser.add_argument("--vocabulary-size", type=int, default=8000)
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args(argv)

    import keras
    import tensorflow as tf

    from keras_attnpred.export import _export_utils as utils
    from keras_attnpred.models import build_transformer_classifier

    keras.utils.set_random_seed(0)
    model = build_transformer_classifier(
        args.vocabulary_size, 2, args.length, preset=args.preset)
    spec = tf.TensorSpec([1, args.length], tf.int32, name="token_ids")

    def representative():
        rng = np.random.default_rng(1)
        for _ in range(32):
            ids = rng.integers(5, args.vocabulary_size,
                               size=(1, args.length)).astype(np.int32)
            ids[:, rng.integers(16, args.length):] = 0
            yield {"token_ids": ids}

    def function(token_ids):
        logits = tf.cast(model(token_ids, training=False), tf.float32)
        return {"logits": logits, "probabilities": tf.nn.softmax(logits)}

    out_dir = tempfile.mkdtemp(prefix="tflite_int8_profile_")
    results = {"variants": {}}
    with utils.unfused_attention(model):
        archive = keras.export.ExportArchive()
        archive.track(model)
        archive.add_endpoint("serving_default", function, [spec])
        saved = os.path.join(out_dir, "saved")
        archive.write_out(saved, verbose=False)
        for variant in VARIANTS:
            if variant == "int8_float_fallback":
                converter = tf.lite.TFLiteConverter.from_saved_model(saved)
                converter.optimizations = [tf.lite.Optimize.DEFAULT]
                converter.representative_dataset = representative
                converter.target_spec.supported_ops = [
                    tf.lite.OpsSet.TFLITE_BUILTINS_INT8,
                    tf.lite.OpsSet.TFLITE_BUILTINS,
                ]
                content = converter.convert()
            else:
                content = utils.convert_saved_model(
                    saved, variant,
                    representative_dataset=(
                        representative if variant == "int8" else None),
                )
            path = os.path.join(out_dir, f"{variant}.tflite")
            with open(path, "wb") as f:
                f.write(content)
            interpreter, with_xnnpack = latency(path, True, args.repeats,
                                                args.length)
            _, without = latency(path, False, args.repeats, args.length)
            results["variants"][variant] = {
                "bytes": len(content),
                "batch1_xnnpack": with_xnnpack,
                "batch1_builtin_kernels": without,
                "ops": op_make_up(interpreter),
            }
            print(variant, with_xnnpack, without, flush=True)
    results.update(
        model={"preset": args.preset, "sequence_length": args.length,
               "vocabulary_size": args.vocabulary_size,
               "parameters": int(model.count_params()),
               "weights": "random (latency depends on shapes)"},
        machine={"cpu_count": os.cpu_count(), "platform": platform.platform(),
                 "tensorflow": tf.__version__, "keras": keras.__version__},
        repeats=args.repeats,
        threads=1,
    )
    if args.out:
        with open(args.out, "w") as f:
            json.dump(results, f, indent=2)
            f.write("\n")
    print(json.dumps({k: {kk: v[kk] for kk in ("bytes", "batch1_xnnpack",
                                                  "batch1_builtin_kernels")}
                      for k, v in results["variants"].items()}, indent=1))


if __name__ == "__main__":
    main()
