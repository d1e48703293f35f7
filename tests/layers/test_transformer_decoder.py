import keras_hub
import numpy as np
import pytest
from keras import ops

from keras_attnpred.layers import TransformerDecoder
from tests.layer_checks import LayerChecks
from tests.layer_checks import padded_ids
from tests.layer_checks import random_floats
from tests.layer_checks import to_numpy
from tests.layers.transformer_reference import activation_dropout_cases
from tests.layers.transformer_reference import assert_hidden_dropout_scale
from tests.layers.transformer_reference import copy_weights_from_keras_hub


class TestEncoderDecoderBlock(LayerChecks):
    layer_cls = TransformerDecoder
    init_kwargs = {"intermediate_dim": 12, "num_heads": 2}

    def make_inputs(self):
        return {
            "decoder_sequence": random_floats((2, 5, 8)),
            "encoder_sequence": random_floats((2, 7, 8)),
        }

    def make_padded_inputs(self):
        return {
            "decoder_sequence": (padded_ids([5, 3], 5), 8),
            "encoder_sequence": (padded_ids([4, 7], 7), 8),
        }


class TestDecoderOnlyPreNormBlock(LayerChecks):
    layer_cls = TransformerDecoder
    init_kwargs = {"intermediate_dim": 12, "num_heads": 2, "normalize_first": True}

    def make_inputs(self):
        return {"decoder_sequence": random_floats((2, 5, 8))}

    def make_padded_inputs(self):
        return {"decoder_sequence": (padded_ids([5, 3], 5), 8)}


class TestDecoderWithActivationDropout(TestEncoderDecoderBlock):
    init_kwargs = {
        "intermediate_dim": 12,
        "num_heads": 2,
        "dropout": 0.1,
        "activation_dropout": 0.0,
    }


@pytest.mark.parametrize("normalize_first", [False, True])
def test_equals_keras_hub_decoder_with_same_weights(normalize_first):
    target, source = random_floats((2, 5, 8)), random_floats((2, 7, 8))
    target_mask = np.arange(5)[None] < np.array([[5], [3]])
    source_mask = np.arange(7)[None] < np.array([[4], [7]])
    theirs = keras_hub.layers.TransformerDecoder(16, 2, normalize_first=normalize_first)
    ours = TransformerDecoder(16, 2, normalize_first=normalize_first)
    theirs(target, source)
    ours(target, source)
    copy_weights_from_keras_hub(theirs, ours)
    kwargs = dict(decoder_padding_mask=target_mask, encoder_padding_mask=source_mask)
    want = to_numpy(theirs(target, source, **kwargs))
    got = to_numpy(ours(target, source, **kwargs))
    np.testing.assert_allclose(got[target_mask], want[target_mask], atol=1e-5)


@pytest.mark.parametrize("num_key_value_heads", [None, 1])
def test_cached_step_by_step_decoding_equals_full_pass(num_key_value_heads):
    batch, length, heads, dim = 2, 5, 2, 8
    target, source = random_floats((batch, length, dim)), random_floats((batch, 6, dim))
    source_mask = np.arange(6)[None] < np.array([[6], [4]])
    layer = TransformerDecoder(16, heads, num_key_value_heads=num_key_value_heads)
    full = to_numpy(layer(target, source, encoder_padding_mask=source_mask))
    kv_heads = num_key_value_heads or heads
    self_cache = ops.zeros((batch, 2, length, kv_heads, dim // heads))
    cross_cache = layer.compute_cross_attention_cache(source)
    steps = []
    for t in range(length):
        output, self_cache, cross_cache = layer(
            target[:, t : t + 1],
            source,
            encoder_padding_mask=source_mask,
            self_attention_cache=self_cache,
            self_attention_cache_update_index=t,
            cross_attention_cache=cross_cache,
        )
        steps.append(to_numpy(output))
    np.testing.assert_allclose(np.concatenate(steps, 1), full, atol=1e-5)


def test_first_cached_step_returns_the_cross_attention_cache():
    target, source = random_floats((1, 1, 8)), random_floats((1, 4, 8))
    layer = TransformerDecoder(16, 2)
    cache = ops.zeros((1, 2, 3, 2, 4))
    _, _, cross_cache = layer(
        target, source, self_attention_cache=cache, self_attention_cache_update_index=0
    )
    np.testing.assert_allclose(
        to_numpy(cross_cache), to_numpy(layer.compute_cross_attention_cache(source))
    )


def test_attention_scores_have_the_right_shapes_and_are_causal():
    target, source = random_floats((2, 4, 8)), random_floats((2, 6, 8))
    layer = TransformerDecoder(16, 2)
    _, self_scores, cross_scores = layer(target, source, return_attention_scores=True)
    self_scores, cross_scores = to_numpy(self_scores), to_numpy(cross_scores)
    assert self_scores.shape == (2, 2, 4, 4)
    assert cross_scores.shape == (2, 2, 4, 6)
    assert (self_scores[..., np.triu_indices(4, 1)[0], np.triu_indices(4, 1)[1]] == 0).all()


def test_causal_mask_stays_when_padding_mask_is_given():
    target = random_floats((1, 5, 8))
    mask = np.array([[True, True, True, True, False]])
    layer = TransformerDecoder(16, 2)
    before = to_numpy(layer(target, decoder_padding_mask=mask))
    changed = target.copy()
    changed[:, 2:] += 5.0
    after = to_numpy(layer(changed, decoder_padding_mask=mask))
    np.testing.assert_allclose(after[:, :2], before[:, :2], atol=1e-5)


def test_encoder_sequence_must_match_how_the_layer_was_built():
    layer = TransformerDecoder(16, 2)
    layer(random_floats((1, 3, 8)))
    with pytest.raises(ValueError, match="encoder_sequence"):
        layer(random_floats((1, 3, 8)), random_floats((1, 4, 8)))


def test_self_attention_cache_needs_its_update_index():
    layer = TransformerDecoder(16, 2)
    step = random_floats((1, 1, 8))
    with pytest.raises(ValueError, match="self_attention_cache_update_index=None"):
        layer(step, self_attention_cache=ops.zeros((1, 2, 3, 2, 4)))


@activation_dropout_cases
def test_activation_dropout_is_the_rate_on_the_hidden_activations(
    activation_dropout, scale, monkeypatch
):
    target, source = random_floats((2, 5, 8)), random_floats((2, 7, 8))
    layer = TransformerDecoder(
        32, 2, dropout=0.5, activation_dropout=activation_dropout
    )
    layer(target, source)
    assert_hidden_dropout_scale(
        layer, lambda: layer(target, source, training=True), scale,
        monkeypatch)


def test_bad_activation_dropout_is_named():
    with pytest.raises(ValueError, match=r"Received: activation_dropout=-0\.1"):
        TransformerDecoder(16, 2, activation_dropout=-0.1)
