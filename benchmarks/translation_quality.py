"""BLEU and chrF of the translators, through `attnpred`.

A driver of the product's own path: each README translation row is a
config file under `examples/configs/`, prepared once, trained by
`attnpred train` and scored by `attnpred evaluate` (sacreBLEU, cased,
13a, on detokenized text):

    # here (TensorFlow Text): tokenize once
    attnpred prepare --config examples/configs/multi30k_de_en_transformer.yaml --out .device_data/multi30k_de_en
    # anywhere (the GPU machine: Keras on JAX, no TensorFlow)
    python benchmarks/translation_quality.py train \\
        --config examples/configs/multi30k_de_en_transformer.yaml \\
        --prepared .device_data/multi30k_de_en --runs runs/quality
    # here (decoding detokenizes with TensorFlow Text): greedy and beam 4
    python benchmarks/translation_quality.py score \\
        --config examples/configs/multi30k_de_en_transformer.yaml \\
        --run runs/quality/multi30k_de_en_transformer \\
        --report benchmarks/results/translation_quality_jax_h200_multi30k_de_en_transformer.json

`train` writes `benchmarks/results/translation_quality_<backend>_<device>_<config>.json`
with the training facts; `score` adds the test scores of `attnpred
evaluate RUN --data TEST --beam-width W --length-penalty 0.6` to it.
"""

import argparse
import json
import os

from _attnpred import attnpred
from _attnpred import last_json
from _attnpred import report_header
from _attnpred import run_facts
from _attnpred import write_report


def train(args):
    import keras
    from _results import default_out
    from _results import device_name

    device = os.environ.get("ATTNPRED_DEVICE") or device_name()

    name = _name(args.config)
    out = args.out or default_out("translation_quality", name)
    report = report_header(
        "translation_quality", args.config, args.prepared,
        keras.backend.backend(), device,
    )
    run_dir = os.path.join(args.runs, name)
    attnpred(
        "train", "--config", args.config, "--prepared", args.prepared,
        "--out", run_dir, "--overwrite", *args.train_flags,
    )
    report["run"] = os.path.basename(run_dir)
    report["training"] = run_facts(run_dir)
    write_report(out, report)
    print(f"wrote {out}")


def score(args):
    from keras_attnpred.training import TrainingConfig

    config = TrainingConfig.from_file(args.config)
    with open(args.report, encoding="utf-8") as f:
        report = json.load(f)
    test = config.test_path
    files = test if isinstance(test, list) else [test]
    report["test"] = {}
    for beam_width in sorted({1, args.beam_width}):
        flags = ["--beam-width", beam_width]
        if beam_width > 1:
            flags += ["--length-penalty", args.length_penalty]
        scores = last_json(
            attnpred("evaluate", args.run, "--data", *files, *flags)
        )
        search = "greedy" if beam_width == 1 else f"beam{beam_width}"
        report["test"][search] = {
            key: scores[key]
            for key in ("bleu", "chrf", "bleu_signature", "chrf_signature",
                        "beam_width", "length_penalty", "accuracy", "loss")
            if key in scores
        }
    report["scored_on"] = "tensorflow cpu (decoding and detokenizing)"
    write_report(args.report, report)
    print(f"wrote {args.report}")


def _name(config_path):
    return os.path.splitext(os.path.basename(config_path))[0]




def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    steps = parser.add_subparsers(dest="step", required=True)

    step = steps.add_parser("train", help="attnpred train from a prepared folder")
    step.add_argument("--config", required=True)
    step.add_argument("--prepared", required=True)
    step.add_argument("--runs", default=os.path.join("runs", "quality"))
    step.add_argument("--out", help="default benchmarks/results/...json")
    step.add_argument(
        "train_flags", nargs="*",
        help="more `attnpred train` flags, after --, e.g. -- --epochs 2",
    )
    step.set_defaults(func=train)

    step = steps.add_parser("score", help="attnpred evaluate on the test part")
    step.add_argument("--config", required=True)
    step.add_argument("--run", required=True, help="the run directory")
    step.add_argument("--report", required=True, help="the JSON of `train`")
    step.add_argument("--beam-width", type=int, default=4)
    step.add_argument("--length-penalty", type=float, default=0.6)
    step.set_defaults(func=score)

    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
