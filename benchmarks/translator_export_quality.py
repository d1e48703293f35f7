"""BLEU, agreement, file size and CPU time of a translator's TFLite exports.

    .venv/bin/python benchmarks/translator_export_quality.py \\
        --run runs/multi30k_de_en_distilled_bahdanau_long \\
        --source multi30k/test_2016_flickr.de.gz \\
        --target multi30k/test_2016_flickr.en.gz \\
        --out benchmarks/results/translator_export_quality_tensorflow_cpu_NAME.json

Exports the run with `export_translator_tflite` (float32, float16 and
dynamic-range int8 pairs), then translates the test sources (paths under
$ATTNPRED_DATA, or absolute) greedily, one sentence at a time, with Keras
(`Translator.translate`) and with `TFLiteTranslator` for each variant (one
LiteRT thread), and reports for each: sacreBLEU and chrF against the
references, the share of sentences translated exactly as Keras does, the
files' size and the milliseconds per sentence (tokenizing included).
Timing needs a quiet machine.
"""

import argparse
import gzip
import json
import os
import platform
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _attnpred import commit  # noqa: E402
from _attnpred import run_facts  # noqa: E402
from _attnpred import write_report  # noqa: E402
from _data_dir import default_data_dir  # noqa: E402


def read_lines(path, limit):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        lines = [line.rstrip("\n") for line in f]
    return lines[:limit] if limit else lines


def timed_translations(translate, sources):
    """Each source translated alone: (translations, ms per sentence)."""
    start = time.perf_counter()
    translations = [translate([source])[0] for source in sources]
    return translations, 1000 * (time.perf_counter() - start) / len(sources)


def score(translations, references, keras_translations):
    from keras_attnpred.decoding import translation_metrics

    metrics = translation_metrics(translations, references, n_bootstrap=0)
    same = sum(a == b for a, b in zip(translations, keras_translations))
    return {
        "bleu": round(metrics["bleu"], 2),
        "chrf": round(metrics["chrf"], 2),
        "bleu_signature": metrics["bleu_signature"],
        "same_as_keras": round(same / len(translations), 4),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True)
    parser.add_argument("--source", required=True)
    parser.add_argument("--target", required=True)
    parser.add_argument("--max-test", type=int, default=0,
                        help="the first N test pairs (0: all)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    from keras_attnpred.export import TFLiteTranslator
    from keras_attnpred.export import export_translator_tflite
    from keras_attnpred.inference import Translator

    data_dir = default_data_dir()
    sources = read_lines(os.path.join(data_dir, args.source), args.max_test)
    references = read_lines(os.path.join(data_dir, args.target), args.max_test)
    translator = Translator.load(args.run)
    keras_translations, keras_ms = timed_translations(
        translator.translate, sources
    )
    report = {
        "benchmark": "translator_export_quality",
        "run": os.path.basename(os.path.normpath(args.run)),
        "training": run_facts(args.run),
        "test": {"source": args.source, "target": args.target,
                 "sentences": len(sources)},
        "backend": "tensorflow",
        "device": f"cpu ({os.cpu_count()} cores, {platform.machine()})",
        "commit": commit(),
        "date": time.strftime("%Y-%m-%d"),
        "keras": {
            **score(keras_translations, references, keras_translations),
            "ms_per_sentence": round(keras_ms, 2),
        },
        "tflite": {},
    }
    with tempfile.TemporaryDirectory() as directory:
        paths = export_translator_tflite(translator, directory)
        for quantization, files in paths.items():
            tflite = TFLiteTranslator(
                directory, num_threads=1, quantization=quantization
            )
            translations, ms = timed_translations(tflite.translate, sources)
            report["tflite"][quantization] = {
                **score(translations, references, keras_translations),
                "ms_per_sentence": round(ms, 2),
                "megabytes": {
                    part: round(os.path.getsize(path) / 1e6, 2)
                    for part, path in files.items()
                },
            }
            print(quantization, json.dumps(report["tflite"][quantization]),
                  flush=True)
    write_report(args.out, report)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
