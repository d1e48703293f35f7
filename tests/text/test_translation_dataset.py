import numpy as np
import pytest
import tensorflow as tf

from keras_attnpred.text import SubwordTokenizer
from keras_attnpred.text import padding_fraction
from keras_attnpred.text import translation_dataset
from tests.text.conftest import TINY_CORPUS
from tests.text.conftest import normalise

START, END = SubwordTokenizer.START_ID, SubwordTokenizer.END_ID


def batches(dataset):
    return [
        (inputs["source"].numpy(), inputs["target"].numpy(), labels.numpy())
        for inputs, labels in dataset
    ]


def check_shift(target_in, labels):
    """Teacher forcing: the decoder input is the label shifted right."""
    assert target_in.shape == labels.shape
    real = labels != 0
    lengths = real.sum(1)
    assert (target_in[:, 0] == START).all()
    for row_in, row_label, length in zip(target_in, labels, lengths):
        assert (row_in[1:length] == row_label[: length - 1]).all()
        assert row_label[length - 1] == END
        assert (row_label[: length - 1] != END).all()
        assert (row_in[length:] == 0).all() and (row_label[length:] == 0).all()


def test_shapes_and_dtypes(tiny_tokenizer):
    dataset = translation_dataset(
        TINY_CORPUS,
        TINY_CORPUS[::-1],
        tiny_tokenizer,
        tiny_tokenizer,
        batch_size=3,
    )
    inputs_spec, labels_spec = dataset.element_spec
    assert set(inputs_spec) == {"source", "target"}
    for spec in (inputs_spec["source"], inputs_spec["target"], labels_spec):
        assert spec.dtype == tf.int32 and spec.shape.as_list() == [None, None]
    for source, target_in, labels in batches(dataset):
        assert source.shape[0] == target_in.shape[0] == labels.shape[0]
        check_shift(target_in, labels)


@pytest.mark.parametrize("bucket_boundaries", [None, "auto"])
def test_pairs_shift_and_alignment_on_real_data(spa_eng, bucket_boundaries):
    pairs, english, spanish = spa_eng
    pairs = pairs[:600]
    dataset = translation_dataset(
        [e for e, _ in pairs],
        [s for _, s in pairs],
        english,
        spanish,
        batch_size=32,
        bucket_boundaries=bucket_boundaries,
    )
    expected = {(normalise(e), normalise(s)) for e, s in pairs}
    count = 0
    for source, target_in, labels in batches(dataset):
        check_shift(target_in, labels)
        decoded = zip(english.detokenize(source), spanish.detokenize(labels))
        for pair in decoded:
            if "[UNK]" not in " ".join(pair):
                assert pair in expected
        # The decoder input decodes to the same sentence as the label.
        assert spanish.detokenize(target_in) == spanish.detokenize(labels)
        count += len(labels)
    assert count == len(pairs)


def test_truncation_keeps_room_for_start_and_end(spa_eng):
    pairs, english, spanish = spa_eng
    sources = [e for e, _ in pairs[:200]]
    targets = [s for _, s in pairs[:200]]
    max_length = 4
    dataset = translation_dataset(
        sources, targets, english, spanish, max_length=max_length, shuffle=False
    )
    full_targets = spanish.tokenize(targets).to_list()
    full_sources = english.tokenize(sources).to_list()
    index = 0
    for source, target_in, labels in batches(dataset):
        assert source.shape[1] <= max_length and labels.shape[1] <= max_length
        check_shift(target_in, labels)
        for row_source, row_label in zip(source, labels):
            expected = full_targets[index][: max_length - 1] + [END]
            np.testing.assert_array_equal(row_label[: len(expected)], expected)
            expected_source = full_sources[index][:max_length]
            np.testing.assert_array_equal(
                row_source[: len(expected_source)], expected_source
            )
            index += 1
    assert index == len(sources)


def test_bucketing_lowers_padding(spa_eng):
    pairs, english, spanish = spa_eng
    sources, targets = [e for e, _ in pairs], [s for _, s in pairs]
    plain = translation_dataset(
        sources, targets, english, spanish, batch_size=64
    )
    bucketed = translation_dataset(
        sources,
        targets,
        english,
        spanish,
        batch_size=64,
        bucket_boundaries="auto",
    )
    assert padding_fraction(bucketed) < 0.5 * padding_fraction(plain)


def test_same_seed_same_order(spa_eng):
    pairs, english, spanish = spa_eng
    sources, targets = [e for e, _ in pairs[:400]], [s for _, s in pairs[:400]]

    def run(seed, bucket_boundaries=None):
        dataset = translation_dataset(
            sources,
            targets,
            english,
            spanish,
            batch_size=16,
            seed=seed,
            bucket_boundaries=bucket_boundaries,
        )
        return [tuple(a.tolist() for a in batch) for batch in batches(dataset)]

    assert run(3) == run(3)
    assert run(3, [6, 9, 12]) == run(3, [6, 9, 12])
    assert run(3) != run(4)


def test_argument_validation(tiny_tokenizer):
    with pytest.raises(ValueError, match="same length"):
        translation_dataset(
            TINY_CORPUS, TINY_CORPUS[:2], tiny_tokenizer, tiny_tokenizer
        )
    with pytest.raises(ValueError, match="Received: max_length=1"):
        translation_dataset(
            TINY_CORPUS,
            TINY_CORPUS,
            tiny_tokenizer,
            tiny_tokenizer,
            max_length=1,
        )
    with pytest.raises(ValueError, match="Received: seed=-1"):
        translation_dataset(
            TINY_CORPUS, TINY_CORPUS, tiny_tokenizer, tiny_tokenizer, seed=-1
        )
