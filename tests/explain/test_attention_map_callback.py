import glob
import io

import numpy as np
import pytest
from PIL import Image

from keras_attnpred.explain import AttentionMapCallback
from keras_attnpred.models import MaskedSparseCategoricalCrossentropy
from tests.explain.conftest import SOURCE
from tests.explain.conftest import TARGET
from tests.explain.conftest import rnn_classifier
from tests.explain.conftest import transformer_translator


def image_summaries(log_dir):
    """`{(tag, step): PNG bytes}` read back from the event files."""
    import tensorflow as tf

    found = {}
    for path in glob.glob(f"{log_dir}/events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                if value.metadata.plugin_data.plugin_name != "images":
                    continue
                # tf.summary.image stores [width, height, png...].
                strings = tf.make_ndarray(value.tensor)
                found[(value.tag, event.step)] = strings[2]
    return found


def test_translator_maps_are_written_at_each_epoch_end(tmp_path):
    model = transformer_translator(num_layers=1)
    # Eager: tracing a training step would take longer than the step.
    model.compile("adam", MaskedSparseCategoricalCrossentropy(),
                  run_eagerly=True)
    callback = AttentionMapCallback(tmp_path, SOURCE, target_ids=TARGET)
    labels = np.roll(TARGET, -1, axis=1)
    model.fit({"source": SOURCE, "target": TARGET}, labels, epochs=2,
              batch_size=2, verbose=0, callbacks=[callback])
    found = image_summaries(tmp_path)
    assert sorted(found) == [
        ("attention/example_0", 0), ("attention/example_0", 1),
        ("attention/example_1", 0), ("attention/example_1", 1),
    ]
    for png in found.values():
        assert Image.open(io.BytesIO(png)).format == "PNG"
    # One training step between the epochs changes the attention.
    assert found[("attention/example_0", 0)] != found[
        ("attention/example_0", 1)
    ]


def test_classifier_maps_use_the_token_strings(tmp_path, tokenizers):
    tokenizer, _ = tokenizers
    model = rnn_classifier()
    model.compile("adam", "sparse_categorical_crossentropy", run_eagerly=True)
    callback = AttentionMapCallback(
        tmp_path, SOURCE, tokenizer=tokenizer, label_names=["neg", "pos"],
        name="words",
    )
    model.fit(SOURCE, np.array([0, 1]), epochs=1, verbose=0,
              callbacks=[callback])
    found = image_summaries(tmp_path)
    assert sorted(found) == [("words/example_0", 0), ("words/example_1", 0)]
    # Padding is cut off: 4 tokens make a wider picture than 2 (0.4 inch a
    # token at 60 dpi, at least 4 inches).
    sizes = [Image.open(io.BytesIO(found[(f"words/example_{i}", 0)])).size
             for i in range(2)]
    assert sizes[0][0] == round(60 * (2.5 + 0.4 * 4)) and sizes[1][0] == 240


def test_mismatched_targets_are_refused(tmp_path):
    with pytest.raises(ValueError, match="one row per row"):
        AttentionMapCallback(tmp_path, SOURCE, target_ids=TARGET[:1])
    with pytest.raises(ValueError, match="method"):
        AttentionMapCallback(tmp_path, SOURCE, method="gradients")
