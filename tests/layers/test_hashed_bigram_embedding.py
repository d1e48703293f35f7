import keras
import numpy as np
import pytest

from keras_attnpred.layers import HashedBigramEmbedding
from tests.layer_checks import LayerChecks
from tests.layer_checks import MaskAsOutput
from tests.layer_checks import padded_ids
from tests.layer_checks import to_numpy

IDS = padded_ids([5, 3, 1], 5)


class TestHashedBigramEmbedding(LayerChecks):
    layer_cls = HashedBigramEmbedding
    init_kwargs = {"vocabulary_size": 20, "num_buckets": 7, "embedding_dim": 6}

    def make_inputs(self):
        return {"inputs": IDS}

    def make_padded_inputs(self):
        return None  # takes ids, not float vectors: see the mask tests below


def make(**kwargs):
    args = {"vocabulary_size": 20, "num_buckets": 7, "embedding_dim": 6}
    return HashedBigramEmbedding(**{**args, **kwargs})


def numpy_bigram_embedding(ids, table, vocabulary_size, num_buckets):
    out = np.zeros(ids.shape + (table.shape[1],), "float32")
    for b, row in enumerate(ids):
        for t in range(len(row) - 1):
            first, second = int(row[t]), int(row[t + 1])
            if first and second:
                bucket = (first * vocabulary_size + second) % num_buckets + 1
                out[b, t] = table[bucket]
    return out


def test_matches_numpy_reference():
    layer = make()
    out = to_numpy(layer(IDS))
    table = to_numpy(layer._embedding.embeddings)
    np.testing.assert_allclose(
        out, numpy_bigram_embedding(IDS, table, 20, 7), atol=1e-6
    )


def test_pairs_with_padding_and_the_last_position_give_zeros():
    out = to_numpy(make()(IDS))
    lengths = (IDS != 0).sum(1)
    for row, length in enumerate(lengths):
        # A bigram starts at each real token but the last one.
        assert (np.abs(out[row, : length - 1]).sum(-1) > 0).all()
        np.testing.assert_array_equal(out[row, length - 1 :], 0.0)


def test_padding_content_cannot_leak_into_real_positions():
    ids = np.array([[4, 5, 6, 0, 0]])
    noisy = np.array([[4, 5, 6, 0, 9]])  # garbage after the padding
    layer = make()
    np.testing.assert_array_equal(
        to_numpy(layer(ids))[:, :3], to_numpy(layer(noisy))[:, :3]
    )


def test_same_pair_same_vector_and_order_matters():
    layer = make(num_buckets=1000)
    out = to_numpy(layer(np.array([[3, 4, 3, 4, 3]])))
    np.testing.assert_array_equal(out[0, 0], out[0, 2])  # (3, 4) twice
    assert not np.allclose(out[0, 0], out[0, 1])  # (3, 4) against (4, 3)


def test_largest_vocabulary_hashes_without_int32_overflow():
    vocabulary_size = 46340
    layer = make(vocabulary_size=vocabulary_size, num_buckets=1000003)
    ids = np.array([[vocabulary_size - 1, vocabulary_size - 1, 1, 0]])
    buckets = to_numpy(layer.bucket_ids(ids))
    want = ((vocabulary_size - 1) * vocabulary_size + vocabulary_size - 1)
    assert buckets[0, 0] == want % 1000003 + 1
    assert 0 < buckets[0, 1] <= 1000003
    np.testing.assert_array_equal(buckets[0, 2:], 0)


def test_no_bigram_row_gets_no_gradient_through_padding():
    layer = make()
    layer.build(IDS.shape)
    model_input = keras.Input(shape=(None,), dtype="int32")
    model = keras.Model(model_input, layer(model_input))
    model.compile("sgd", "mse")
    before = to_numpy(layer._embedding.embeddings)[0].copy()
    model.fit(IDS, np.ones(IDS.shape + (6,)), epochs=1, verbose=0)
    np.testing.assert_array_equal(to_numpy(layer._embedding.embeddings)[0], before)


def test_padding_mask_is_produced_and_reaches_downstream_layers():
    ids = keras.Input(shape=(None,), dtype="int32")
    x = make()(ids)
    model = keras.Model(ids, MaskAsOutput()(x))
    np.testing.assert_array_equal(to_numpy(model(IDS)), (IDS != 0).astype("float32"))
    assert make(mask_zero=False).compute_mask(IDS) is None


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"vocabulary_size": 0}, "Received: vocabulary_size=0"),
        ({"vocabulary_size": 46341}, "Received: vocabulary_size=46341"),
        ({"num_buckets": 0}, "Received: num_buckets=0"),
        ({"embedding_dim": 2.0}, "Received: embedding_dim=2.0"),
        ({"mask_zero": "yes"}, "Received: mask_zero='yes'"),
    ],
)
def test_bad_arguments_name_the_argument_and_value(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make(**kwargs)


def test_rejects_inputs_that_are_not_id_matrices():
    with pytest.raises(ValueError, match=r"inputs.shape=\(3, 5, 1\)"):
        make()(IDS[..., None])
