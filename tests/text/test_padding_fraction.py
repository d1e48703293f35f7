import pytest
import tensorflow as tf

from keras_attnpred.text import padding_fraction


def test_counts_inputs_only():
    ids = tf.constant([[5, 6, 0, 0], [7, 0, 0, 0]])
    labels = tf.constant([[0, 0], [0, 0]])
    dataset = tf.data.Dataset.from_tensors((ids, labels))
    assert padding_fraction(dataset) == pytest.approx(5 / 8)


def test_dict_inputs_and_several_batches():
    first = {
        "source": tf.constant([[1, 0]]),
        "target": tf.constant([[2, 3, 0]]),
    }
    second = {
        "source": tf.constant([[1, 1]]),
        "target": tf.constant([[2, 3, 4]]),
    }
    dataset = tf.data.Dataset.from_tensors(
        (first, tf.constant([0]))
    ).concatenate(tf.data.Dataset.from_tensors((second, tf.constant([0]))))
    assert padding_fraction(dataset) == pytest.approx(2 / 10)


def test_rejects_non_datasets():
    with pytest.raises(ValueError, match="tf.data.Dataset"):
        padding_fraction([[1, 0]])
