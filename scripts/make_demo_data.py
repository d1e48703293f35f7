"""Makes the demo's bundled English–Spanish sample (the only bundled data).

Draws seeded samples from the Tatoeba/manythings.org English–Spanish pairs
(CC-BY 2.0 FR): training pairs from `train.tsv.gz` and held-out pairs from
`valid.tsv.gz`, which shares no English sentence with the training part.

    .venv/bin/python scripts/make_demo_data.py            # uses $ATTNPRED_DATA
"""

import argparse
import gzip
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
RESOURCES = os.path.join(HERE, "..", "keras_attnpred", "resources")


def sample(path, count, seed):
    with gzip.open(path, "rt", encoding="utf-8") as f:
        lines = [line for line in f if line.strip()]
    return sorted(random.Random(seed).sample(lines, count))


def write(lines, name):
    path = os.path.join(RESOURCES, name)
    # mtime=0 keeps the file byte-identical across runs.
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as f:
        f.write("".join(lines).encode("utf-8"))
    print(f"wrote {len(lines)} pairs to {os.path.relpath(path)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--data",
        default=os.environ.get(
            "ATTNPRED_DATA", os.path.join(HERE, "..", "..", "shared", "data")
        ),
    )
    parser.add_argument("--train-pairs", type=int, default=20000)
    parser.add_argument("--test-pairs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2015)
    args = parser.parse_args()
    folder = os.path.join(args.data, "spa-eng")
    write(
        sample(os.path.join(folder, "train.tsv.gz"), args.train_pairs, args.seed),
        "spa_eng_train.tsv.gz",
    )
    write(
        sample(os.path.join(folder, "valid.tsv.gz"), args.test_pairs, args.seed),
        "spa_eng_test.tsv.gz",
    )


if __name__ == "__main__":
    main()
