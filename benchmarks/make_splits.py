"""Held-out parts for the datasets that ship without one: SST-2 and TREC.

    python benchmarks/make_splits.py --out splits       # from the repo root

reads `$ATTNPRED_DATA` (default `../shared/data`) and writes, for each
dataset, `train`, `validation` and `test` files and `split.json` (the
seed and the counts) under `--out`; the configs under `examples/configs/`
that name `splits/...` read them.

SST-2: GLUE's training file holds every sentence of SST's training part
and, as rows of their own, the phrases of those sentences, so a random
split of its rows puts pieces of every test sentence into training. Here
the rows that are no part of a longer row are the sentences; a seeded
`--held-out` share of them becomes `test`, as much again `validation`, and
every row that is a part of a held-out sentence (a phrase of it, or the
sentence itself) leaves training.

TREC-6 (coarse labels): a seeded random 500 questions become `test` (the
size of the standard test set, which is not distributed here) and 500
`validation`; a question asked again in training (the same text, case
and spacing aside) leaves training.
"""

import argparse
import csv
import gzip
import json
import os

import numpy as np
from _data_dir import default_data_dir


def _spans(words):
    """Every contiguous run of `words`, as text."""
    return {
        " ".join(words[i:j])
        for i in range(len(words))
        for j in range(i + 1, len(words) + 1)
    }


def split_sst2(rows, held_out, seed):
    """`{"train", "validation", "test"}` lists of `(text, label)`, and the
    counts; see the module docstring."""
    rows = [(" ".join(text.split()), label) for text, label in rows]
    order = sorted(range(len(rows)), key=lambda i: -len(rows[i][0].split()))
    covered, sentences = set(), []
    for index in order:
        text = rows[index][0]
        if text in covered:
            continue
        sentences.append(index)
        covered |= _spans(text.split())
    rng = np.random.default_rng(seed)
    chosen = rng.permutation(sorted(sentences))
    count = round(len(sentences) * held_out)
    parts = {"test": chosen[:count], "validation": chosen[count:2 * count]}
    removed = set()
    for indices in parts.values():
        for index in indices:
            removed |= _spans(rows[index][0].split())
    train = [row for row in rows if row[0] not in removed]
    split = {name: [rows[i] for i in sorted(indices)]
             for name, indices in parts.items()}
    split["train"] = train
    counts = {
        "rows": len(rows),
        "sentences": len(sentences),
        **{name: len(part) for name, part in split.items()},
        "rows_left_out_of_train": len(rows) - len(train),
    }
    return split, counts


def split_trec(rows, size, seed):
    """A seeded `size` questions for `test`, `size` for `validation`, the
    rest (without repeats of held-out questions) for `train`."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(rows))
    parts = {
        "test": [rows[i] for i in sorted(order[:size])],
        "validation": [rows[i] for i in sorted(order[size:2 * size])],
    }
    held = {
        " ".join(row[0].lower().split())
        for part in parts.values() for row in part
    }
    rest = [rows[i] for i in sorted(order[2 * size:])]
    parts["train"] = [
        row for row in rest if " ".join(row[0].lower().split()) not in held
    ]
    counts = {
        "rows": len(rows),
        **{name: len(part) for name, part in parts.items()},
        "rows_left_out_of_train": len(rest) - len(parts["train"]),
    }
    return parts, counts


def _write(folder, header, parts, delimiter, counts, settings):
    os.makedirs(folder, exist_ok=True)
    extension = "tsv" if delimiter == "\t" else "csv"
    for name, part in parts.items():
        path = os.path.join(folder, f"{name}.{extension}")
        with open(path, "w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f, delimiter=delimiter, lineterminator="\n",
                                quoting=csv.QUOTE_MINIMAL)
            writer.writerow(header)
            writer.writerows(part)
    with open(os.path.join(folder, "split.json"), "w") as f:
        json.dump({**settings, "counts": counts}, f, indent=2)
        f.write("\n")
    print(folder, counts)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="splits")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--held-out", type=float, default=0.1,
                        help="SST-2: the share of sentences for test (and "
                        "as many for validation)")
    parser.add_argument("--trec-size", type=int, default=500)
    args = parser.parse_args()
    data = default_data_dir()

    with gzip.open(os.path.join(data, "sst2", "train.tsv.gz"), "rt",
                   encoding="utf-8") as f:
        reader = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        next(reader)
        rows = [(text, label) for text, label in reader]
    parts, counts = split_sst2(rows, args.held_out, args.seed)
    _write(os.path.join(args.out, "sst2"), ["sentence", "label"], parts,
           "\t", counts, {"seed": args.seed, "held_out": args.held_out})

    with open(os.path.join(data, "trec", "train.csv"), encoding="utf-8",
              newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = [tuple(row) for row in reader]
    parts, counts = split_trec(rows, args.trec_size, args.seed)
    _write(os.path.join(args.out, "trec"), header, parts, ",", counts,
           {"seed": args.seed, "size": args.trec_size})


if __name__ == "__main__":
    main()
