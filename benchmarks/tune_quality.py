"""Random against Bayesian search, through `attnpred tune`.

A driver of the product's own path: the hand-set configuration of a README
row (`examples/configs/`) is trained and evaluated as it is, then searched
by `attnpred tune` with each algorithm over its space (`examples/spaces/`),
and the best trial of each search is evaluated on the held-out test part:

    # here (TensorFlow Text): the splits, tokenized once
    python benchmarks/make_splits.py --out splits
    attnpred prepare --config examples/configs/trec_transformer.yaml --out .device_data/trec
    # anywhere (the GPU machine: Keras on JAX, no TensorFlow; keras-tuner)
    python benchmarks/tune_quality.py \\
        --config examples/configs/trec_transformer.yaml \\
        --space examples/spaces/trec_transformer.yaml \\
        --prepared .device_data/trec --searches tuning/trec \\
        --algorithms random bayesian --trials 20 --objective val_accuracy \\
        --workers 3    # optional: 3 processes train each search's trials

A killed run continues where it stopped when run again (`attnpred tune`
resumes; `--fresh` starts the searches over). Writes
`benchmarks/results/tune_quality_<backend>_<device>_<config>.json`: per
algorithm the best validation score, the search's wall time (of this call;
`trial_seconds` sums the trials' training), the test score of the tuned
configuration against the hand-set one, and the best values.
"""

import argparse
import json
import os
import time

from _attnpred import ROOT
from _attnpred import attnpred
from _attnpred import last_json
from _attnpred import report_header
from _attnpred import write_report


def run(args):
    import keras
    from _results import default_out
    from _results import device_name

    device = os.environ.get("ATTNPRED_DEVICE") or device_name()
    name = os.path.splitext(os.path.basename(args.config))[0]
    out = args.out or default_out("tune_quality", name)
    report = report_header(
        "tune_quality", args.config, args.prepared, keras.backend.backend(),
        device,
    )
    report.update(space=args.space, objective=args.objective,
                  trials=args.trials)
    if args.trials_so_far:
        write_report(out, _trials_so_far(args, report))
        print(f"wrote {out}")
        return

    hand_dir = os.path.join(args.searches, "hand_set")
    metrics_path = os.path.join(hand_dir, "metrics.json")
    start = time.perf_counter()
    if os.path.exists(metrics_path) and not args.fresh:
        # A resumed call: the hand-set run of the first call is complete
        # (metrics.json is written last), so it is not trained again.
        with open(metrics_path, encoding="utf-8") as f:
            validation = json.load(f)["validation"]
    else:
        validation = last_json(attnpred(
            "train", "--config", args.config, "--prepared", args.prepared,
            "--out", hand_dir, "--overwrite",
        ))["validation"]
    hand = {
        "validation": validation,
        "test": _test_scores(hand_dir, args.prepared),
        "seconds": round(time.perf_counter() - start, 1),
    }
    report["hand_set"] = hand
    write_report(out, report)

    report["searches"] = {}
    for algorithm in args.algorithms:
        search_dir = os.path.join(args.searches, algorithm)
        start = time.perf_counter()
        tune_args = (
            "tune", "--config", args.config, "--space", args.space,
            "--prepared", args.prepared, "--algorithm", algorithm,
            "--trials", args.trials, "--objective", args.objective,
            "--out", search_dir, *(["--overwrite"] if args.fresh else []),
        )
        if args.workers:
            _distributed(tune_args, args.workers, search_dir)
        else:
            attnpred(*tune_args)
        seconds = time.perf_counter() - start
        with open(os.path.join(search_dir, "results.json"),
                  encoding="utf-8") as f:
            results = json.load(f)
        test = _test_scores(results["best_run"], args.prepared)
        key = "accuracy" if args.objective == "val_accuracy" else "loss"
        better = (test[key] > hand["test"][key] if key == "accuracy"
                  else test[key] < hand["test"][key])
        report["searches"][algorithm] = {
            "workers": args.workers or 1,
            "trials_completed": results["trials_completed"],
            "best_trial": results["best_trial"],
            f"best_{args.objective}": round(results["best_score"], 4),
            "best_values": results["best_values"],
            "test": test,
            f"beats_hand_set_on_test_{key}": bool(better),
            "search_seconds": round(seconds, 1),
            "trial_seconds": round(sum(
                row.get("training_seconds") or 0 for row in results["trials"]
            ), 1),
            "failed_trials": sum(
                row["status"] != "COMPLETED" for row in results["trials"]
            ),
        }
        print(algorithm, report["searches"][algorithm], flush=True)
        write_report(out, report)
    print(f"wrote {out}")


def _distributed(tune_args, workers, search_dir):
    """`attnpred TUNE_ARGS` as KerasTuner's chief and `workers` workers on
    this machine (127.0.0.1), each trial trained by one worker; their logs
    go to `search_dir/logs/`. Returns when the chief does: all trials
    ended."""
    import socket
    import subprocess
    import sys

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    logs = os.path.join(search_dir, "logs")
    os.makedirs(logs, exist_ok=True)
    env = {**os.environ, "KERASTUNER_ORACLE_IP": "127.0.0.1",
           "KERASTUNER_ORACLE_PORT": str(port),
           "PYTHONPATH": os.pathsep.join(
               p for p in (ROOT, os.environ.get("PYTHONPATH")) if p)}
    command = [sys.executable, "-m", "keras_attnpred.cli", *map(str, tune_args)]
    print("$ attnpred " + " ".join(map(str, tune_args))
          + f"  (chief and {workers} workers)", flush=True)
    processes = {}
    for name in ["chief", *(f"tuner{i}" for i in range(workers))]:
        log = open(os.path.join(logs, f"{name}.log"), "a", encoding="utf-8")
        processes[name] = subprocess.Popen(
            command, env={**env, "KERASTUNER_TUNER_ID": name}, stdout=log,
            stderr=subprocess.STDOUT)
        log.close()
    status = processes["chief"].wait()
    for process in processes.values():
        # Workers end once the oracle has no trial left; do not hang on one.
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
    if status != 0:
        raise SystemExit(f"the chief of {search_dir} failed with exit status "
                         f"{status}; see {logs}/chief.log")


def _trials_so_far(args, report):
    """`report` with the trials finished so far in each search folder (a
    search stopped before its last trial has no results.json yet)."""
    import glob

    import yaml

    with open(args.space, encoding="utf-8") as f:
        searched = list(yaml.safe_load(f))
    key = args.objective.removeprefix("val_")
    report["status"] = ("trials finished so far, read from the search "
                        "folders; nothing trained or tested")
    report["searches"] = {}
    for algorithm in args.algorithms:
        with open(os.path.join(args.searches, "hand_set", "metrics.json"),
                  encoding="utf-8") as f:
            hand = json.load(f)
        trials = []
        for trial_dir in sorted(glob.glob(
                os.path.join(args.searches, algorithm, "trials", "*"))):
            if not os.path.exists(os.path.join(trial_dir, "metrics.json")):
                continue  # stopped mid-trial
            with open(os.path.join(trial_dir, "metrics.json"),
                      encoding="utf-8") as f:
                metrics = json.load(f)
            with open(os.path.join(trial_dir, "config.json"),
                      encoding="utf-8") as f:
                config = json.load(f)
            trials.append({
                "trial": os.path.basename(trial_dir),
                args.objective: metrics["validation"][key],
                "training_seconds": metrics.get("training_seconds"),
                "values": {name: config.get(name) for name in searched},
            })
        best = (max if key == "accuracy" else min)(
            trials, key=lambda trial: trial[args.objective])
        report["searches"][algorithm] = {
            "trials_completed": len(trials),
            "hand_set_validation": hand["validation"],
            "best_trial": best["trial"],
            f"best_{args.objective}": best[args.objective],
            "trial_seconds": round(sum(
                t["training_seconds"] or 0 for t in trials), 1),
            "trials": trials,
        }
    return report


def _test_scores(run_dir, prepared):
    evaluation = last_json(attnpred("evaluate", run_dir, "--prepared",
                                    prepared))
    return {key: round(evaluation[key], 4)
            for key in ("loss", "accuracy") if key in evaluation}




def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--space", required=True)
    parser.add_argument("--prepared", required=True)
    parser.add_argument("--searches", default=os.path.join("runs", "tuning"))
    parser.add_argument("--algorithms", nargs="+",
                        default=["random", "bayesian"],
                        choices=["random", "bayesian", "hyperband"])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--objective", default="val_accuracy",
                        choices=["val_loss", "val_accuracy"])
    parser.add_argument("--workers", type=int, default=0,
                        help="train the trials in this many processes "
                        "(KerasTuner's distributed search: a chief and "
                        "workers on 127.0.0.1); 0: one process")
    parser.add_argument("--fresh", action="store_true",
                        help="start the searches over (attnpred tune "
                        "--overwrite)")
    parser.add_argument("--out", help="default benchmarks/results/...json")
    parser.add_argument(
        "--trials-so-far", action="store_true",
        help="only report the trials finished in the folders of "
        "--searches (SEARCHES/hand_set, SEARCHES/ALGORITHM/trials)",
    )
    run(parser.parse_args())


if __name__ == "__main__":
    main()
