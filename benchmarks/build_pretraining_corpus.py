"""The general English pretraining corpus, from the training parts of
`../shared/data` only.

    python benchmarks/make_splits.py --out splits
    python benchmarks/build_pretraining_corpus.py --splits splits \\
        --out corpus/english.txt.gz

What goes in, in this order (the English texts of each training part):

- IMDB: the 49,241 unlabelled reviews (`imdb/unsup.csv.gz`) and the 25,000
  training reviews (`imdb/train.csv.gz`), column `review`;
- English–Spanish: the English side of `spa-eng/train.tsv.gz`;
- Multi30k: `multi30k/train.en.gz`;
- 20 Newsgroups: `20newsgroups/train.csv.gz`, column `text` (whole
  messages, headers included, as the classifiers read them);
- SST-2: the training part of the leak-free split (`splits/sst2/train.tsv`,
  sentences and phrases);
- TREC: the training part of the held-out split (`splits/trec/train.csv`).

Never a test or validation part. A text goes in once: texts equal up to
case and spacing are duplicates, and a text equal (up to case and spacing)
to one of any held-out part — IMDB test, 20 Newsgroups test, Multi30k
validation and test2016 (English), English–Spanish validation (English),
the SST-2 and TREC held-out parts — is left out. Line breaks inside a text
become spaces (one text a line). `--out` gets the texts and, beside it,
`NAME.json` with the count per source.
"""

import argparse
import csv
import gzip
import json
import os

from _data_dir import default_data_dir

# (name, path under the data folder or the splits folder, how to read it)
SOURCES = (
    ("imdb_unlabelled", ("data", "imdb/unsup.csv.gz"), ("csv", "review")),
    ("imdb_train", ("data", "imdb/train.csv.gz"), ("csv", "review")),
    ("spa_eng_train", ("data", "spa-eng/train.tsv.gz"), ("tsv", 0)),
    ("multi30k_train", ("data", "multi30k/train.en.gz"), ("lines", None)),
    ("newsgroups_train", ("data", "20newsgroups/train.csv.gz"), ("csv", "text")),
    ("sst2_train", ("splits", "sst2/train.tsv"), ("tsv", 0)),
    ("trec_train", ("splits", "trec/train.csv"), ("csv", "text")),
)
HELD_OUT = (
    (("data", "imdb/test.csv.gz"), ("csv", "review")),
    (("data", "20newsgroups/test.csv.gz"), ("csv", "text")),
    (("data", "multi30k/val.en.gz"), ("lines", None)),
    (("data", "multi30k/test_2016_flickr.en.gz"), ("lines", None)),
    (("data", "spa-eng/valid.tsv.gz"), ("tsv", 0)),
    (("splits", "sst2/validation.tsv"), ("tsv", 0)),
    (("splits", "sst2/test.tsv"), ("tsv", 0)),
    (("splits", "trec/validation.csv"), ("csv", "text")),
    (("splits", "trec/test.csv"), ("csv", "text")),
)


def _open(path):
    if path.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def read(path, how):
    """The texts of one file: a CSV column by name, a TSV column by index
    (no quoting, header skipped for the splits' `sentence` files and none
    for spa-eng), or one text a line."""
    kind, column = how
    with _open(path) as f:
        if kind == "lines":
            return [line.rstrip("\n") for line in f]
        if kind == "tsv":
            rows = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
            texts = [row[column] for row in rows if row]
            header = os.path.basename(path).startswith(
                ("train.tsv", "validation.tsv", "test.tsv")
            ) and "splits" in path
            return texts[1:] if header else texts
        csv.field_size_limit(1 << 30)
        return [row[column] for row in csv.DictReader(f)]


def normalized(text):
    return " ".join(text.lower().split())


def build(data, splits):
    """`(texts, counts)`: the corpus and, per source, the texts read, kept
    and left out."""
    roots = {"data": data, "splits": splits}
    held_out = set()
    for (root, path), how in HELD_OUT:
        held_out.update(normalized(t) for t in read(os.path.join(roots[root], path), how))
    seen, texts, counts = set(), [], {}
    for name, (root, path), how in SOURCES:
        read_texts = read(os.path.join(roots[root], path), how)
        kept = duplicates = held = 0
        for text in read_texts:
            key = normalized(text)
            if not key:
                continue
            if key in held_out:
                held += 1
            elif key in seen:
                duplicates += 1
            else:
                seen.add(key)
                texts.append(" ".join(text.split()))
                kept += 1
        counts[name] = {
            "read": len(read_texts), "kept": kept, "duplicates": duplicates,
            "equal_to_a_held_out_text": held,
        }
    return texts, counts


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--splits", default="splits")
    parser.add_argument("--out", default="corpus/english.txt.gz")
    args = parser.parse_args()
    texts, counts = build(default_data_dir(), args.splits)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with gzip.open(args.out, "wt", encoding="utf-8") as f:
        for text in texts:
            f.write(text + "\n")
    report = os.path.splitext(args.out.removesuffix(".gz"))[0] + ".json"
    with open(report, "w") as f:
        json.dump({"texts": len(texts), "sources": counts}, f, indent=2)
        f.write("\n")
    print(f"{len(texts):,} texts written to {args.out}; counts in {report}")
    for name, count in counts.items():
        print(f"  {name}: {count}")


if __name__ == "__main__":
    main()
