import numpy as np
import pytest
import tensorflow as tf

from keras_attnpred.text import classification_dataset
from keras_attnpred.text import padding_fraction
from tests.text.conftest import TINY_CORPUS
from tests.text.conftest import normalise


def batches(dataset):
    return [(x.numpy(), y.numpy()) for x, y in dataset]


def test_shapes_dtypes_and_padding(tiny_tokenizer):
    dataset = classification_dataset(
        TINY_CORPUS, np.arange(8), tiny_tokenizer, batch_size=3
    )
    ids_spec, labels_spec = dataset.element_spec
    assert ids_spec.dtype == tf.int32 and ids_spec.shape.as_list() == [
        None,
        None,
    ]
    sizes = []
    for ids, labels in batches(dataset):
        assert ids.shape[0] == labels.shape[0]
        sizes.append(ids.shape[0])
        # Padding (0) only ever follows the real ids.
        lengths = (ids != 0).sum(1)
        for row, length in zip(ids, lengths):
            assert (row[:length] != 0).all() and (row[length:] == 0).all()
        assert lengths.max() == ids.shape[1]
    assert sizes == [3, 3, 2]


@pytest.mark.parametrize("bucket_boundaries", [None, "auto", [5, 10]])
def test_labels_stay_with_their_texts(spa_eng, bucket_boundaries):
    pairs, english, _ = spa_eng
    texts = [e for e, _ in pairs[:600]]
    dataset = classification_dataset(
        texts,
        np.arange(len(texts)),
        english,
        batch_size=32,
        bucket_boundaries=bucket_boundaries,
    )
    seen = []
    for ids, labels in batches(dataset):
        for text, label in zip(english.detokenize(ids), labels):
            if "[UNK]" not in text:
                assert text == normalise(texts[label])
            seen.append(label)
    assert sorted(seen) == list(range(len(texts)))


def test_truncation_at_max_length(tiny_tokenizer):
    dataset = classification_dataset(
        TINY_CORPUS, np.arange(8), tiny_tokenizer, max_length=5, shuffle=False
    )
    ((ids, labels),) = batches(dataset)
    assert ids.shape == (8, 5)
    expected = tiny_tokenizer.tokenize(TINY_CORPUS).to_list()
    for row, label in zip(ids, labels):
        np.testing.assert_array_equal(row, expected[label][:5])


def test_bucketing_lowers_padding(spa_eng):
    pairs, english, _ = spa_eng
    texts = [e for e, _ in pairs]
    labels = np.arange(len(texts)) % 2
    plain = classification_dataset(texts, labels, english, batch_size=32)
    bucketed = classification_dataset(
        texts, labels, english, batch_size=32, bucket_boundaries="auto"
    )
    plain_fraction = padding_fraction(plain)
    bucketed_fraction = padding_fraction(bucketed)
    assert bucketed_fraction < 0.5 * plain_fraction
    # Same examples, only grouped differently.
    assert sum(len(y) for _, y in bucketed) == len(texts)


def test_same_seed_same_order(spa_eng):
    pairs, english, _ = spa_eng
    texts = [e for e, _ in pairs[:500]]

    def order(seed, bucket_boundaries=None):
        dataset = classification_dataset(
            texts,
            np.arange(len(texts)),
            english,
            batch_size=16,
            seed=seed,
            bucket_boundaries=bucket_boundaries,
        )
        return np.concatenate([y for _, y in batches(dataset)]).tolist()

    assert order(7) == order(7)
    assert order(7, "auto") == order(7, "auto")
    assert order(7) != order(8)
    assert order(7) != list(range(len(texts)))


def test_argument_validation(tiny_tokenizer):
    labels = np.arange(8)
    with pytest.raises(ValueError, match="one label per text"):
        classification_dataset(TINY_CORPUS, labels[:3], tiny_tokenizer)
    with pytest.raises(ValueError, match="Received: batch_size=0"):
        classification_dataset(
            TINY_CORPUS, labels, tiny_tokenizer, batch_size=0
        )
    with pytest.raises(ValueError, match="Received: max_length=-1"):
        classification_dataset(
            TINY_CORPUS, labels, tiny_tokenizer, max_length=-1
        )
    with pytest.raises(ValueError, match="bucket_boundaries"):
        classification_dataset(
            TINY_CORPUS, labels, tiny_tokenizer, bucket_boundaries=[10, 5]
        )
    with pytest.raises(ValueError, match="bucket_boundaries"):
        classification_dataset(
            TINY_CORPUS, labels, tiny_tokenizer, bucket_boundaries="quantiles"
        )
    with pytest.raises(ValueError, match="tokenizer"):
        classification_dataset(TINY_CORPUS, labels, "not a tokenizer")
