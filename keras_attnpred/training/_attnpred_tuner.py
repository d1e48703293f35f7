"""KerasTuner's side of `tune`: a `keras_tuner.Tuner` whose trials are runs
of `train`. Imported by `tune` only: it loads KerasTuner (and Keras)."""

import json
import os

import keras
import keras_tuner

from keras_attnpred._atomic_files import write_json
from keras_attnpred.training import _run_files as files
from keras_attnpred.training._run_guard import is_finished_run
from keras_attnpred.training.train import train
from keras_attnpred.training.training_config import TrainingConfig

# Inside the run directory's sibling KerasTuner folder: the configuration a
# trial asked for, so that a rerun recognises a run it finished before the
# oracle heard of it.
REQUEST = "attnpred_config.json"
DIRECTIONS = {"val_loss": "min", "val_accuracy": "max", "bleu": "max"}
# Hyperband's own values in a trial: the epochs it gives the trial.
HYPERBAND_EPOCHS = "tuner/epochs"


class SpaceHyperModel(keras_tuner.HyperModel):
    """Declares the search space; the model itself is built by `train`."""

    def __init__(self, space):
        super().__init__(name="attnpred")
        self.space = space

    def build(self, hp):
        self.space.declare(hp)


def make_oracle(algorithm, objective, trials, seed, max_epochs):
    objective = keras_tuner.Objective(objective, DIRECTIONS[objective])
    common = dict(objective=objective, seed=seed)
    if algorithm == "random":
        return keras_tuner.oracles.RandomSearchOracle(
            max_trials=trials, **common
        )
    if algorithm == "bayesian":
        # KerasTuner's default, 3 random trials per dimension of the space,
        # left no trial to the Gaussian process in a 20-trial search of 10
        # settings: a quarter of the trials, at least 3, are random.
        return keras_tuner.oracles.BayesianOptimizationOracle(
            max_trials=trials, num_initial_points=initial_random_trials(trials),
            **common
        )
    oracle = keras_tuner.oracles.HyperbandOracle(
        max_epochs=max_epochs, factor=3, **common
    )
    # Hyperband plans its brackets by epochs; `trials` caps them all.
    oracle.max_trials = trials
    return oracle


def initial_random_trials(trials):
    """How many of a Bayesian search's `trials` are drawn at random before
    the Gaussian process proposes the others."""
    return max(3, trials // 4)


class AttnpredTuner(keras_tuner.Tuner):
    """Runs each trial as `train(config, OUT/trials/ID)` on the prepared
    data and reports the run's validation scores to the oracle."""

    def __init__(self, oracle, space, base, out_dir, objective, callbacks,
                 verbose, bleu_examples, **kwargs):
        self.space = space
        self.base = base
        self.out_dir = out_dir
        self.objective_name = objective
        self.extra_callbacks = list(callbacks or [])
        self.train_verbose = verbose
        self.bleu_examples = bleu_examples
        super().__init__(oracle, hypermodel=SpaceHyperModel(space), **kwargs)

    def on_search_begin(self):
        # Saved at once (KerasTuner first saves after a trial): a search
        # killed in its first trial reloads its oracle on the rerun.
        self.save()

    def trial_config(self, trial):
        """The `TrainingConfig` dict of `trial`."""
        hp = trial.hyperparameters
        values = self.space.config_values(hp.values, hp.is_active)
        if HYPERBAND_EPOCHS in hp.values:
            values["epochs"] = int(hp.values[HYPERBAND_EPOCHS])
        return TrainingConfig.from_dict({**self.base, **values}).to_dict()

    def run_dir(self, trial_id):
        return os.path.join(self.out_dir, "trials", str(trial_id))

    def run_trial(self, trial, *args, **kwargs):
        config = self.trial_config(trial)
        run_dir = self.run_dir(trial.trial_id)
        request = os.path.join(self.get_trial_dir(trial.trial_id), REQUEST)
        keras.backend.clear_session()
        if not (is_finished_run(run_dir) and _read(request) == config):
            # A rerun of an interrupted trial resumes its run from the
            # backup; an untouched one starts it.
            write_json(request, config)
            train(config, run_dir, callbacks=self.extra_callbacks,
                  verbose=self.train_verbose)
        with open(os.path.join(run_dir, files.METRICS), encoding="utf-8") as f:
            metrics = json.load(f)
        validation = metrics["validation"]
        results = {"val_loss": float(validation["loss"])}
        if "accuracy" in validation:
            results["val_accuracy"] = float(validation["accuracy"])
        if self.objective_name == "bleu":
            results["bleu"] = validation_bleu(run_dir, self.bleu_examples)
        return results

    def load_model(self, trial):
        from keras_attnpred.training.training_run import TrainingRun

        return TrainingRun.load(self.run_dir(trial.trial_id)).model

    def save_model(self, trial_id, model, step=0):
        pass  # the run directory holds the model


def validation_bleu(run_dir, examples):
    """Greedy BLEU of a translation run on (the first `examples` of) the
    validation part of its prepared folder, its ids detokenized by the run's
    tokenizers for sources and references."""
    from keras_attnpred.data import PreparedDataset
    from keras_attnpred.decoding import translation_metrics
    from keras_attnpred.training.training_run import TrainingRun

    run = TrainingRun.load(run_dir)
    part = PreparedDataset.load(run.config.prepared).part("validation")
    count = min(examples, len(part["source"]))
    rows = range(count)
    sources = run.source_tokenizer.detokenize(
        [part["source"].row(i).tolist() for i in rows]
    )
    references = run.target_tokenizer.detokenize(
        [part["target"].row(i).tolist() for i in rows]
    )
    hypotheses = run.translator.translate(list(sources))
    return float(
        translation_metrics(hypotheses, list(references), n_bootstrap=0)[
            "bleu"
        ]
    )


def _read(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None
