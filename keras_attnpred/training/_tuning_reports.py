"""What `tune` writes once a search ends: the table of trials (CSV, JSON),
a picture of the objective, and the best configuration as a YAML file."""

import csv
import io
import json
import math
import os

from keras_attnpred._atomic_files import write_atomically
from keras_attnpred._atomic_files import write_json
from keras_attnpred.training.training_config import TrainingConfig

RESULTS_CSV = "results.csv"
RESULTS_JSON = "results.json"
PLOT = "objective.png"
BEST_CONFIG = "best.yaml"


def trial_rows(oracle, space, tuner):
    """One dict per trial, in start order."""
    rows = []
    for trial_id in oracle.start_order:
        trial = oracle.trials[trial_id]
        hp = trial.hyperparameters
        values = space.config_values(hp.values, hp.is_active)
        row = {
            "trial_id": trial_id,
            "status": trial.status,
            # Only a completed trial has a score: an interrupted one is
            # still "RUNNING" and is trained again on the next call.
            "score": _number(trial.score) if trial.status == "COMPLETED"
            else None,
            "values": values,
            "run_dir": tuner.run_dir(trial_id),
        }
        for name in ("val_loss", "val_accuracy", "bleu"):
            if trial.metrics.exists(name):
                row[name] = _number(trial.metrics.get_last_value(name))
        metrics = _metrics(row["run_dir"])
        if metrics is not None and trial.status == "COMPLETED":
            row["training_seconds"] = metrics.get("training_seconds")
            row["epochs_completed"] = metrics.get("epochs_completed")
        rows.append(row)
    return rows


def write_reports(out_dir, rows, space, objective, direction, algorithm,
                  best_config):
    """Writes the table, the picture (when matplotlib is there) and the
    best configuration; returns the results dict (`results.json`)."""
    done = [row for row in rows if row["score"] is not None]
    best = None
    if done:
        pick = min if direction == "min" else max
        best = pick(done, key=lambda row: row["score"])
    results = {
        "objective": objective,
        "direction": direction,
        "algorithm": algorithm,
        "trials_completed": len(done),
        "best_trial": best and best["trial_id"],
        "best_score": best and best["score"],
        "best_run": best and best["run_dir"],
        "best_values": best and best["values"],
        "trials": rows,
    }
    write_json(os.path.join(out_dir, RESULTS_JSON), results)
    _write_csv(os.path.join(out_dir, RESULTS_CSV), rows, space)
    results["files"] = [RESULTS_CSV, RESULTS_JSON]
    if best is not None:
        _write_best(os.path.join(out_dir, BEST_CONFIG), best_config(best),
                    best, objective)
        results["files"].append(BEST_CONFIG)
    if done and _plot(os.path.join(out_dir, PLOT), done, space, objective):
        results["files"].append(PLOT)
    return results


def _write_csv(path, rows, space):
    columns = ["trial_id", "status", "score", "val_loss", "val_accuracy",
               "bleu", "training_seconds", "epochs_completed",
               *space.names, "run_dir"]
    text = io.StringIO()
    writer = csv.DictWriter(text, columns, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        flat = dict(row)
        for name, value in row["values"].items():
            flat[name] = json.dumps(value) if isinstance(
                value, (list, dict)) or value is None else value
        writer.writerow(flat)
    _write_text(path, text.getvalue())


def _write_best(path, config, best, objective):
    """The best trial's configuration, its fields that differ from the
    defaults, as YAML for `attnpred train --config`."""
    import yaml

    config = TrainingConfig.coerce(config).to_dict()
    defaults = TrainingConfig.defaults()
    kept = {key: value for key, value in config.items()
            if key == "task" or key not in defaults or value != defaults[key]}
    header = (
        f"# The best trial of `attnpred tune`: trial {best['trial_id']}, "
        f"{objective} {best['score']:.6g} (run: {best['run_dir']}).\n"
        "# attnpred train --config THIS_FILE --out runs/best\n"
    )
    _write_text(path, header + yaml.safe_dump(kept, sort_keys=False))


def _plot(path, done, space, objective):
    """The objective per trial and against each searched field; False
    without matplotlib (the `explain` extra)."""
    try:
        import matplotlib
        import matplotlib.ticker

        matplotlib.use("Agg")
        from matplotlib import pyplot
    except ImportError:
        return False
    panels = 1 + len(space.names)
    columns = min(panels, 3)
    lines = math.ceil(panels / columns)
    figure, axes = pyplot.subplots(
        lines, columns, figsize=(4.2 * columns, 3.4 * lines), squeeze=False
    )
    axes = axes.ravel()
    scores = [row["score"] for row in done]
    order = list(range(1, len(done) + 1))
    axes[0].plot(order, scores, "o-")
    axes[0].xaxis.set_major_locator(
        matplotlib.ticker.MaxNLocator(integer=True)
    )
    axes[0].set_xlabel("trial (completed, in start order)")
    axes[0].set_ylabel(objective)
    axes[0].set_title(f"{objective} per trial")
    for axis, entry in zip(axes[1:], space.entries):
        name = entry["field"]
        points = [(row["values"][name], row["score"]) for row in done
                  if name in row["values"]]
        xs = [x for x, _ in points]
        if entry["kind"] == "choice":
            keys = [json.dumps(choice) for choice in entry["choices"]]
            xs = [keys.index(json.dumps(x)) for x in xs]
            axis.set_xticks(
                range(len(keys)),
                [c if isinstance(c, str) else json.dumps(c)
                 for c in entry["choices"]],
                rotation=30,
            )
            axis.set_xlim(-0.5, len(keys) - 0.5)
        elif entry["log"]:
            axis.set_xscale("log")
            axis.xaxis.set_minor_formatter(
                matplotlib.ticker.NullFormatter()
            )
        axis.scatter(xs, [y for _, y in points])
        axis.set_xlabel(name)
        axis.set_ylabel(objective)
        axis.set_title(f"{objective} against {name}")
    for axis in axes[panels:]:
        axis.set_visible(False)
    figure.tight_layout()
    write_atomically(path, lambda temporary: figure.savefig(
        temporary, format="png", dpi=90))
    pyplot.close(figure)
    return True


def _metrics(run_dir):
    try:
        with open(os.path.join(run_dir, "metrics.json"),
                  encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _number(value):
    return None if value is None or not math.isfinite(value) else float(value)


def _write_text(path, text):
    def write(temporary):
        with open(temporary, "w", encoding="utf-8", newline="") as f:
            f.write(text)

    write_atomically(path, write)
