"""What the quality benchmarks share: running `attnpred` and describing
the run.

The benchmarks train and evaluate only through the product's command line,
so each figure is what a user running the same command gets.
"""

import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def attnpred(*args):
    """Runs `attnpred ARGS` (this checkout's), echoing its output as it
    comes (a run killed by a time limit leaves its log so far); returns the
    output. Raises `SystemExit` when the command fails."""
    command = [sys.executable, "-m", "keras_attnpred.cli", *map(str, args)]
    print("$ attnpred " + " ".join(map(str, args)), flush=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (ROOT, env.get("PYTHONPATH")) if p
    )
    # The caller's working directory: the paths it gives are relative to it.
    # Standard error goes straight to the caller's.
    lines = []
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True,
                          env=env) as process:
        for line in process.stdout:
            print(line, end="", flush=True)
            lines.append(line)
    if process.returncode != 0:
        raise SystemExit(
            f"attnpred {args[0]} failed with exit status {process.returncode}"
        )
    return "".join(lines)


def last_json(output):
    """The JSON object `attnpred` printed last (`train`, `evaluate`)."""
    start = output.rindex("\n{") + 1 if "\n{" in output else output.index("{")
    return json.loads(output[start:])


def commit():
    """`$ATTNPRED_COMMIT`, else this checkout's commit. The GPU machine
    gets a copy of the working tree whose git metadata may be stale: set
    the variable there."""
    if os.environ.get("ATTNPRED_COMMIT"):
        return os.environ["ATTNPRED_COMMIT"]
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True,
            text=True, cwd=ROOT, check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return os.environ.get("ATTNPRED_COMMIT", "unknown")


def run_facts(run_dir):
    """What a run directory says of its training, for a report."""
    with open(os.path.join(run_dir, "metrics.json"), encoding="utf-8") as f:
        metrics = json.load(f)
    with open(os.path.join(run_dir, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    monitor = config["monitor"]
    history = metrics["history"].get(monitor, [])
    pick = min if monitor == "val_loss" else max
    facts = {
        "parameters": metrics["parameter_count"],
        "trainable_parameters": metrics.get("trainable_parameter_count"),
        "epochs_run": metrics["epochs_completed"],
        "best_epoch": history.index(pick(history)) + 1 if history else None,
        f"best_{monitor}": round(pick(history), 4) if history else None,
        "training_seconds": round(metrics["training_seconds"], 1),
        "padding_fraction": round(metrics["padding_fraction"], 3),
        "validation": metrics["validation"],
        "max_length": config["max_length"],
    }
    if "checkpoint_averaging" in metrics:
        facts["checkpoint_averaging"] = metrics["checkpoint_averaging"]
    return facts


def report_header(benchmark, config_path, prepared, backend, device):
    """The fields every quality report starts with."""
    with open(os.path.join(prepared, "prepared.json"), encoding="utf-8") as f:
        description = json.load(f)
    return {
        "benchmark": benchmark,
        "config": os.path.relpath(os.path.abspath(config_path), ROOT),
        "prepared": {
            "parts": {
                name: part["rows"]
                for name, part in description["parts"].items()
            },
            "vocabulary_sizes": description["vocabulary_sizes"],
        },
        "backend": backend,
        "device": device,
        "commit": commit(),
        "date": time.strftime("%Y-%m-%d"),
    }


def write_report(path, report):
    """Writes `report` as indented JSON, making its folder."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2, ensure_ascii=False)
        f.write("\n")
