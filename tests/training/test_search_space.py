"""The search space of `tune`: what a space file may say, and the errors
that name the field of a bad one."""

import json
import re

import pytest

from keras_attnpred.training import SearchSpace

BASE = {"task": "sentiment", "prepared": "prepared/reviews", "model": "rnn",
        "preset": "tiny"}
SPACE = {
    "units": {"choices": [16, 32], "when": {"model": "rnn"}},
    "model": ["transformer", "rnn"],
    "learning_rate": {"min": 1e-4, "max": 1e-2, "log": True},
    "batch_size": {"min": 16, "max": 64, "step": 16},
    "bidirectional": [True, False],
    "dropout": [None, 0.1],
    "warmup_steps": {"min": 10, "max": 100, "when": {"model": "transformer"}},
}


def test_a_space_reads_choices_ranges_and_conditions():
    space = SearchSpace.from_dict(SPACE)
    # A condition's field is declared before the fields that depend on it.
    assert space.names == ("model", "learning_rate", "batch_size",
                           "bidirectional", "dropout", "units",
                           "warmup_steps")
    assert SearchSpace.from_dict(space.to_dict()).to_dict() == space.to_dict()
    space.check(BASE)


def test_values_come_back_as_the_configuration_takes_them():
    """KerasTuner's `Choice` holds one type of str, int or float: bools,
    None and mixed choices travel as JSON and come back decoded."""
    space = SearchSpace.from_dict(
        {**SPACE, "learning_rate": [0.001, "transformer"]})
    hp_values = {"model": "rnn", "learning_rate": '"transformer"',
                 "batch_size": 32, "bidirectional": "false",
                 "dropout": "null", "units": 16, "warmup_steps": 50}
    active = {"model", "learning_rate", "bidirectional", "dropout", "units"}
    assert space.config_values(hp_values, active.__contains__) == {
        "model": "rnn", "learning_rate": "transformer",
        "bidirectional": False, "dropout": None, "units": 16,
    }


def test_the_space_declares_conditional_hyperparameters():
    keras_tuner = pytest.importorskip("keras_tuner")
    space = SearchSpace.from_dict(SPACE)
    hp = keras_tuner.HyperParameters()
    space.declare(hp)
    assert {p.name for p in hp.space} == set(SPACE)
    hp.values["model"] = "transformer"
    assert not hp.is_active("units") and hp.is_active("warmup_steps")
    hp.values["model"] = "rnn"
    assert hp.is_active("units") and not hp.is_active("warmup_steps")
    [rate] = [p for p in hp.space if p.name == "learning_rate"]
    assert rate.sampling == "log"
    [batch] = [p for p in hp.space if p.name == "batch_size"]
    assert (batch.min_value, batch.max_value, batch.step) == (16, 64, 16)


BAD_SPACES = [
    ({"hidden_size": [1, 2]}, "Unknown search space field",
     "field='hidden_size'"),
    ({"preset": []}, "empty list of choices", "field='preset', choices=[]"),
    ({"dropout": {"min": 0.5, "max": 0.1}}, "`min` must be at most `max`",
     "field='dropout', min=0.5, max=0.1"),
    ({"model": {"min": 1, "max": 2}}, "takes no number",
     "field='model'"),
    ({"learning_rate": {"min": 0, "max": 0.1, "log": True}},
     "a log range needs `min` > 0", "field='learning_rate', min=0.0"),
    ({"batch_size": {"min": 16.5, "max": 64}}, "must be an integer",
     "field='batch_size', min=16.5"),
    ({"dropout": {"min": 0.1}}, "must be a finite number",
     "field='dropout', max=None"),
    ({"dropout": {"min": 0.0, "max": 0.3, "step": 0}}, "`step` must be",
     "field='dropout', step=0"),
    ({"dropout": {"min": 0.0, "max": 0.3, "steps": 2}}, "unknown keys",
     "field='dropout', keys=['steps']"),
    ({"vocabulary_size": [1000, 2000]}, "cannot be searched",
     "field='vocabulary_size'"),
    ({"units": {"choices": [8], "when": {"model": "rnn"}}},
     "not an unconditional list of choices", "field='units'"),
    ({"model": ["rnn"], "units": {"choices": [8], "when": {"model": "cnn"}}},
     "offers no 'cnn'", "field='units'"),
    ({"preset": ["tiny", "tiny"]}, "lists a choice twice",
     "field='preset', choices=['tiny', 'tiny']"),
    ({"preset": "tiny"}, "must be a list of choices",
     "field='preset', value='tiny'"),
    ([1, 2], "non-empty mapping", "[1, 2]"),
]


@pytest.mark.parametrize("values, problem, received", BAD_SPACES)
def test_a_bad_space_is_refused_naming_the_field(values, problem, received):
    with pytest.raises(ValueError, match=re.escape(problem)) as error:
        SearchSpace.from_dict(values)
    assert f"Received: {received}" in str(error.value)


def test_a_value_that_makes_no_configuration_is_refused_with_its_field():
    with pytest.raises(ValueError, match="`preset`: the value 'huge'") as error:
        SearchSpace.from_dict({"preset": ["tiny", "huge"]}).check(BASE)
    assert "Received: field='preset', value='huge'" in str(error.value)
    # Checked with the value of its condition: a layer decay is for
    # Transformer classifiers, its condition says so.
    space = SearchSpace.from_dict(
        {"model": ["rnn", "transformer"],
         "layer_decay": {"min": 0.5, "max": 0.9,
                         "when": {"model": "transformer"}}})
    space.check(BASE)
    with pytest.raises(ValueError, match="field='layer_decay'"):
        SearchSpace.from_dict(
            {"layer_decay": {"min": 0.5, "max": 0.9}}).check(BASE)


def test_a_space_file_is_read_and_its_errors_name_it(tmp_path):
    path = tmp_path / "space.yaml"
    path.write_text("model: [transformer, rnn]\n"
                    "units: {choices: [8, 16], when: {model: rnn}}\n")
    assert SearchSpace.from_file(str(path)).names == ("model", "units")
    path.write_text("dropout: {min: 0.3, max: 0.1}\n")
    with pytest.raises(ValueError, match=re.escape(f"{path}: Search space "
                                                   "field `dropout`")):
        SearchSpace.from_file(str(path))


def test_the_example_space_fits_its_configuration():
    import os

    from keras_attnpred.training import TrainingConfig

    root = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
    config = TrainingConfig.from_file(
        os.path.join(root, "examples", "configs", "trec_transformer.yaml"))
    space = SearchSpace.from_file(
        os.path.join(root, "examples", "spaces", "trec_transformer.yaml"))
    space.check(config)
    assert "learning_rate" in space.names


def test_coerce_takes_a_space_a_dict_or_a_file(tmp_path):
    values = {"learning_rate": {"min": 1e-4, "max": 1e-2, "log": True}}
    space = SearchSpace.from_dict(values)
    assert SearchSpace.coerce(space) is space
    path = tmp_path / "space.json"
    path.write_text(json.dumps(values))
    for given in (values, str(path), path):
        coerced = SearchSpace.coerce(given)
        assert isinstance(coerced, SearchSpace)
        assert coerced.to_dict() == space.to_dict()
    with pytest.raises(ValueError, match="Received: space of type list"):
        SearchSpace.coerce([values])
