import os
import shutil

from keras_attnpred._atomic_files import write_json
from keras_attnpred.training import _tuning_reports as reports
from keras_attnpred.training.search_space import SearchSpace
from keras_attnpred.training.training_config import TrainingConfig

ALGORITHMS = ("random", "bayesian", "hyperband")
OBJECTIVES = ("val_loss", "val_accuracy", "bleu")
# What `tune` writes into `out_dir` (besides `prepared/`, kept on overwrite).
SETTINGS = "tune.json"
SEARCH = "search"  # KerasTuner's project: oracle.json, trial_ID/trial.json
TRIALS = "trials"  # the trials' run directories
_WRITTEN = (SETTINGS, SEARCH, TRIALS, reports.RESULTS_CSV,
            reports.RESULTS_JSON, reports.PLOT, reports.BEST_CONFIG)


def tune(config, space, out_dir, algorithm="random", trials=10,
         objective="val_loss", overwrite=False, callbacks=None, verbose=0,
         bleu_examples=500):
    """Searches training settings with KerasTuner; each trial is a `train` run.

    The base `config` gives every setting; `space` (a `SearchSpace`, its
    dict, or the path of its YAML/JSON file) the ones to vary. Each trial
    trains `config` with the trial's values, by `train` (the path of
    `attnpred train`) on a prepared folder, into `out_dir/trials/ID/`: the
    best trial is a run directory like any other (`TrainingRun.load`,
    `attnpred evaluate`, `export`, `explain`). Without `config.prepared`
    the data is prepared once into `out_dir/prepared/`.

    The trials come from a KerasTuner oracle (`keras-tuner`, the `tune`
    extra): `"random"` search, `"bayesian"` optimization (a Gaussian
    process) or `"hyperband"` (`max_epochs` = `config.epochs`; each trial
    trains from scratch for the epochs Hyperband gives it, so `epochs` is
    not searched). The objective is the run's validation loss, accuracy
    (of the weights the run keeps, by `monitor`) or, for translation,
    `"bleu"`: greedy BLEU of the first `bleu_examples` validation pairs, as
    the run's tokenizers give their ids back (needs TensorFlow).

    Resuming: the oracle's state lives in `out_dir/search/`; call `tune`
    again with the same arguments and it continues. A trial stopped
    mid-run (a kill, Ctrl-C) is not counted: it stays `"RUNNING"` and the
    next call trains it again, resuming its run from its backup; `trials`
    may grow between calls. Other settings than those of `out_dir/tune.json`
    raise a `ValueError`, unless `overwrite`, which deletes what an earlier
    search wrote (not `prepared/`).

    Distributed: with KerasTuner's variables `KERASTUNER_TUNER_ID`
    (`"chief"`, or a worker's own id such as `"tuner0"`),
    `KERASTUNER_ORACLE_IP` and `KERASTUNER_ORACLE_PORT`, the chief serves
    the oracle over gRPC and the workers train the trials; all of them are
    given the same arguments and an `out_dir` they share (and need a
    prepared folder). The chief returns once all trials ended, and writes
    the reports.

    Writes, besides the trials' runs:

    ```
    out_dir/tune.json      the search's settings (checked on a rerun)
    out_dir/search/        KerasTuner's oracle and trials
    out_dir/results.csv    one row a trial: id, status, score, metrics,
    out_dir/results.json   seconds, values, run directory (JSON: and the best)
    out_dir/objective.png  the objective per trial and against each field
                           (needs matplotlib, the `explain` extra)
    out_dir/best.yaml      the best trial's configuration, for
                           `attnpred train --config`
    ```

    Args:
        config: a `TrainingConfig` or a dict for `TrainingConfig.from_dict`.
        space: a `SearchSpace`, a dict for `SearchSpace.from_dict` or the
            path of a YAML/JSON file.
        out_dir: str, the search's directory.
        algorithm: `"random"`, `"bayesian"` or `"hyperband"`.
        trials: int > 0, the most trials of the search.
        objective: `"val_loss"` (minimized), `"val_accuracy"` or `"bleu"`
            (maximized).
        overwrite: bool, start over in an `out_dir` that holds a search.
        callbacks: optional list of extra `keras.callbacks.Callback`s for
            each trial's `train`.
        verbose: KerasTuner's trial summaries (0: none) and `train`'s
            `verbose`.
        bleu_examples: int > 0, the validation pairs of `"bleu"`.

    Returns:
        The dict of `results.json`: `"objective"`, `"direction"`,
        `"algorithm"`, `"trials_completed"`, `"best_trial"`, `"best_score"`,
        `"best_run"`, `"best_values"` and `"trials"` (the rows), with
        `"files"` (those written); None in a worker of a distributed search.

    Example:

    >>> results = tune(
    ...     {"task": "sentiment", "train_path": "reviews.csv", "epochs": 2},
    ...     {"learning_rate": {"min": 1e-4, "max": 3e-3, "log": True}},
    ...     "tuning/reviews", algorithm="bayesian", trials=8,
    ...     objective="val_accuracy")
    >>> results["best_values"]["learning_rate"]  # doctest: +SKIP

    References:
        - [KerasTuner](https://keras.io/keras_tuner/)
    """
    config = TrainingConfig.coerce(config)
    space = SearchSpace.coerce(space)
    if not isinstance(out_dir, (str, os.PathLike)) or not str(out_dir):
        raise ValueError(
            f"`out_dir` must be a path. Received: out_dir={out_dir!r}"
        )
    out_dir = os.fspath(out_dir)
    _check_settings(config, space, algorithm, trials, objective,
                    bleu_examples)
    role = _role()
    settings = {
        "config": config.to_dict(), "space": space.to_dict(),
        "algorithm": algorithm, "objective": objective,
    }
    if overwrite and role != "worker":
        for name in _WRITTEN:
            path = os.path.join(out_dir, name)
            if os.path.isdir(path):
                shutil.rmtree(path)
            elif os.path.exists(path):
                os.remove(path)
    _check_same_search(out_dir, settings)
    config = _prepared(config, out_dir, role)

    from keras_attnpred.training import _attnpred_tuner

    oracle = _attnpred_tuner.make_oracle(
        algorithm, objective, trials, config.seed, config.epochs
    )
    tuner = _attnpred_tuner.AttnpredTuner(
        oracle, space, config.to_dict(), out_dir, objective, callbacks,
        verbose, bleu_examples, directory=out_dir, project_name=SEARCH,
    )
    if role != "worker":
        # A rerun may ask for more trials than the saved oracle had.
        tuner.oracle.max_trials = trials
    tuner.search(verbose=verbose)
    if role == "worker":
        return None
    rows = reports.trial_rows(tuner.oracle, space, tuner)
    return reports.write_reports(
        out_dir, rows, space, objective,
        _attnpred_tuner.DIRECTIONS[objective], algorithm,
        lambda best: tuner.trial_config(tuner.oracle.trials[best["trial_id"]]),
    )


def _check_settings(config, space, algorithm, trials, objective,
                    bleu_examples):
    if algorithm not in ALGORITHMS:
        raise ValueError(
            f"`algorithm` must be one of {list(ALGORITHMS)}. Received: "
            f"algorithm={algorithm!r}"
        )
    for name, value in (("trials", trials), ("bleu_examples", bleu_examples)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(
                f"`{name}` must be an integer >= 1. Received: {name}={value!r}"
            )
    if objective not in OBJECTIVES:
        raise ValueError(
            f"`objective` must be one of {list(OBJECTIVES)}. Received: "
            f"objective={objective!r}"
        )
    if objective == "bleu" and not config.is_translation:
        raise ValueError(
            "`objective='bleu'` scores translations. Received: "
            f"objective='bleu' with task={config.task!r}"
        )
    if objective == "val_accuracy" and config.objective == "electra":
        raise ValueError(
            "ELECTRA pretraining reports no validation accuracy. Received: "
            "objective='val_accuracy' with config.objective='electra'"
        )
    if algorithm == "hyperband" and "epochs" in space.names:
        raise ValueError(
            "Hyperband gives each trial its epochs (up to the base "
            "configuration's): `epochs` cannot be in its space. Received: "
            "algorithm='hyperband' with field='epochs'"
        )
    space.check(config)


def _role():
    """"local", or in a distributed search "chief" or "worker" (KerasTuner's
    variables)."""
    if "KERASTUNER_ORACLE_IP" not in os.environ:
        return "local"
    for name in ("KERASTUNER_ORACLE_PORT", "KERASTUNER_TUNER_ID"):
        if not os.environ.get(name):
            raise ValueError(
                f"A distributed search needs {name} with "
                "KERASTUNER_ORACLE_IP. Received: KERASTUNER_ORACLE_IP="
                f"{os.environ['KERASTUNER_ORACLE_IP']!r} and no {name}"
            )
    return "chief" if "chief" in os.environ["KERASTUNER_TUNER_ID"] else "worker"


def _check_same_search(out_dir, settings):
    """Writes `tune.json`, or checks that a rerun asks for the same."""
    import json

    path = os.path.join(out_dir, SETTINGS)
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            saved = json.load(f)
        differ = sorted(key for key in settings
                        if saved.get(key) != settings[key])
        if differ:
            raise ValueError(
                f"{out_dir} holds a search with other settings ({', '.join(differ)} "
                "differ); continue it with the same ones, or pass "
                "overwrite=True (`attnpred tune --overwrite`) to start over. "
                "Received: "
                + ", ".join(f"{key}={settings[key]!r}" for key in differ)
            )
        return
    os.makedirs(out_dir, exist_ok=True)
    write_json(path, settings)


def _prepared(config, out_dir, role):
    """`config` on a prepared folder: its own, or `out_dir/prepared/`,
    written once."""
    if config.prepared is not None:
        return config
    if role != "local":
        raise ValueError(
            "A distributed search trains on a prepared folder (`attnpred "
            "prepare`, then `prepared` or --prepared). Received: "
            "prepared=None"
        )
    from keras_attnpred.training.prepare import prepare

    folder = os.path.join(out_dir, "prepared")
    if not os.path.isfile(os.path.join(folder, "prepared.json")):
        prepare(config, folder)
    return TrainingConfig.from_dict({**config.to_dict(), "prepared": folder})
