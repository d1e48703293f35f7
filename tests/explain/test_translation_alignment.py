import numpy as np
import pytest

from keras_attnpred.explain import translation_alignment
from tests.explain.conftest import SOURCE
from tests.explain.conftest import TARGET
from tests.explain.conftest import padded
from tests.explain.conftest import rnn_translator
from tests.explain.conftest import transformer_classifier
from tests.explain.conftest import transformer_translator


def check_real_rows_sum_to_one(weights):
    source_real, target_real = SOURCE != 0, TARGET != 0
    rows = weights.sum(-1)  # (batch, layers, heads, T)
    for b in range(len(SOURCE)):
        np.testing.assert_allclose(rows[b][..., target_real[b]], 1.0,
                                   atol=1e-5)
        # Padded targets attend to nothing; padded sources get nothing.
        assert (weights[b][..., ~target_real[b], :] == 0).all()
        assert (weights[b][..., ~source_real[b]] == 0).all()


@pytest.mark.parametrize("normalize_first", [False, True])
def test_transformer_alignment_per_layer_and_head(normalize_first):
    model = transformer_translator(num_layers=2,
                                   normalize_first=normalize_first)
    weights = translation_alignment(model, SOURCE, TARGET)
    assert weights.shape == (2, 2, 2, 5, 6) and weights.dtype == np.float32
    check_real_rows_sum_to_one(weights)
    # Heads and layers differ: they are not one map repeated.
    assert not np.allclose(weights[:, 0, 0], weights[:, 0, 1])
    assert not np.allclose(weights[:, 0], weights[:, 1])


@pytest.mark.parametrize("attention", ["bahdanau", "luong"])
def test_rnn_alignment(attention):
    weights = translation_alignment(rnn_translator(attention), SOURCE, TARGET)
    assert weights.shape == (2, 1, 1, 5, 6)
    check_real_rows_sum_to_one(weights)


@pytest.mark.parametrize("make", [transformer_translator, rnn_translator])
def test_more_padding_changes_nothing(make):
    model = make()
    weights = translation_alignment(model, SOURCE, TARGET)
    more = translation_alignment(model, padded(SOURCE, 2), padded(TARGET, 2))
    np.testing.assert_allclose(more[..., :5, :6], weights, atol=1e-5)


@pytest.mark.parametrize("normalize_first", [False, True])
def test_transformer_alignment_matches_a_plain_pass_through_the_layers(
    normalize_first,
):
    # The encoder's functional pass, then the decoder blocks called one by
    # one, the target mask left to Keras.
    import keras

    model = transformer_translator(num_layers=2,
                                   normalize_first=normalize_first)
    encoded = model.encoder(SOURCE)
    memory = encoded["sequence_output"]
    y = model.target_embedding(TARGET)
    maps = []
    for block in model.decoder_blocks:
        y, _, cross = block(
            y, memory, encoder_padding_mask=encoded["padding_mask"],
            return_attention_scores=True,
        )
        maps.append(keras.ops.convert_to_numpy(cross))
    weights = translation_alignment(model, SOURCE, TARGET)
    np.testing.assert_allclose(weights, np.stack(maps, axis=1), atol=1e-5)


def test_other_models_and_bad_ids_are_refused():
    with pytest.raises(ValueError, match="must be a translator"):
        translation_alignment(transformer_classifier(), SOURCE, TARGET)
    with pytest.raises(ValueError, match="same batch size"):
        translation_alignment(rnn_translator(), SOURCE, TARGET[:1])
    with pytest.raises(ValueError, match="source_ids"):
        translation_alignment(rnn_translator(), SOURCE[0], TARGET)
