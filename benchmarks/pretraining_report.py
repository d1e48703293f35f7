"""Files the results of `benchmarks/device/pretraining.sh` under
`benchmarks/results/`.

    python benchmarks/pretraining_report.py RESULTS_DIR [--out benchmarks/results]

RESULTS_DIR is the script's `results/` folder (unpacked from
`results.tar`):
- each pretraining run (`CORPUS_OBJECTIVE.metrics.json` and `.log`) becomes
  `pretraining_<backend>_<device>_<CORPUS>_<OBJECTIVE>.json`: its command,
  `metrics.json` and the seconds and milliseconds a step of each epoch,
  read from the Keras progress lines of the log;
- each `classification_quality_*.json` is copied, with the flags of its
  `attnpred train` (the first line of its log) when it does not hold them.
Commit, device and date come from the classification reports, which
record them.
"""

import argparse
import glob
import json
import os
import re

from _attnpred import ROOT
from _attnpred import write_report

# "963/963 ... 41s 42ms/step - ... - val_loss: ..." (the end of an epoch).
_EPOCH_END = re.compile(r"(\d+)/\1\D.*?(\d+)s (\d+)ms/step.*val_loss")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results_dir")
    parser.add_argument(
        "--out", default=os.path.join(ROOT, "benchmarks", "results")
    )
    args = parser.parse_args()
    reports = sorted(
        glob.glob(os.path.join(args.results_dir, "classification_quality_*.json"))
    )
    if not reports:
        raise SystemExit(f"no classification report in {args.results_dir}")
    facts = {}
    for path in reports:
        with open(path, encoding="utf-8") as f:
            report = json.load(f)
        facts = {key: report[key] for key in ("backend", "device", "commit",
                                               "date")}
        if "train_flags" not in report:
            report["train_flags"] = _train_flags(path)
        _file(os.path.join(args.out, os.path.basename(path)), report)
    for path in sorted(glob.glob(os.path.join(args.results_dir,
                                              "*.metrics.json"))):
        name = os.path.basename(path)[: -len(".metrics.json")]
        corpus, objective = name.rsplit("_", 1)
        with open(path, encoding="utf-8") as f:
            metrics = json.load(f)
        log = os.path.join(args.results_dir, name + ".log")
        report = {
            "benchmark": "pretraining",
            "command": "benchmarks/device/pretraining.sh: attnpred pretrain "
            f"--prepared .device_data/{corpus} --objective {objective} ...",
            "corpus": corpus,
            "objective": objective,
            **facts,
            "epochs": _epochs(log),
            "metrics": metrics,
        }
        out = os.path.join(
            args.out,
            f"pretraining_{facts['backend']}_{facts['device']}_{name}.json",
        )
        _file(out, report)


def _train_flags(report_path):
    name = os.path.basename(report_path)[:-len(".json")].split("_", 4)[-1]
    log = os.path.join(os.path.dirname(report_path), name + ".log")
    with open(log, encoding="utf-8") as f:
        command = f.readline().split()
    if command[:3] != ["$", "attnpred", "train"]:
        raise SystemExit(f"{log} does not start with its train command")
    # The flags after the driver's own (--config, --prepared, --seed,
    # --out, --overwrite).
    flags, skip = [], False
    for word in command[3:]:
        if skip:
            skip = False
        elif word in ("--config", "--prepared", "--seed", "--out"):
            skip = True
        elif word != "--overwrite":
            flags.append(word)
    return flags


def _epochs(log):
    with open(log, encoding="utf-8", errors="replace") as f:
        lines = re.sub(r"\x1b\[[0-9;]*m", "", f.read()).replace("\r", "\n")
    epochs = []
    for line in lines.splitlines():
        match = _EPOCH_END.search(line)
        if match:
            epochs.append({
                "epoch": len(epochs) + 1,
                "steps": int(match.group(1)),
                "seconds": int(match.group(2)),
                "ms_per_step": int(match.group(3)),
            })
    return epochs




def _file(path, report):
    write_report(path, report)
    print(f"wrote {os.path.relpath(path, ROOT)}")


if __name__ == "__main__":
    main()
