"""A run directory with another model of the same task, untrained: for
timing and sizing a model that cannot be brought here (a GPU-trained
teacher too large to leave the GPU machine).

    python benchmarks/architecture_run.py --like runs/students/NAME \\
        --preset large --out runs/teacher_architecture

Copies the run `--like` (its tokenizer, labels, settings and metrics) and
replaces its model with a Transformer classifier of `--preset` with random
weights, of the same vocabulary, classes, `max_length` and dtype policy.
Latency and file sizes do not depend on the weights' values; accuracy
does, so nothing measured on this run's answers means anything.
"""

import argparse
import json
import os
import shutil

import keras

import keras_attnpred  # noqa: F401  (registers the model classes)
from keras_attnpred.models import build_transformer_classifier


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--like", required=True, help="a classifier run")
    parser.add_argument("--preset", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    shutil.copytree(args.like, args.out, ignore=shutil.ignore_patterns(
        "model.keras", "checkpoints", "backup", "logs"))
    like = keras.saving.load_model(os.path.join(args.like, "model.keras"),
                                   compile=False)
    config_path = os.path.join(args.out, "config.json")
    with open(config_path, encoding="utf-8") as f:
        config = json.load(f)
    keras.config.set_dtype_policy(like.dtype_policy.name)
    model = build_transformer_classifier(
        config["vocabulary_size"], like.num_classes, config["max_length"],
        preset=args.preset,
    )
    keras.config.set_dtype_policy("float32")
    config.update(model="transformer", preset=args.preset)
    with open(config_path, "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)
    model.save(os.path.join(args.out, "model.keras"))
    print(f"wrote {args.out}: {model.count_params():,} parameters, "
          f"dtype policy {model.dtype_policy.name}")


if __name__ == "__main__":
    main()
