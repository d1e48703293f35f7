import keras
import numpy as np
import pytest

from keras_attnpred.layers import TokenAndPositionEmbedding
from tests.layer_checks import LayerChecks
from tests.layer_checks import MaskAsOutput
from tests.layer_checks import padded_ids
from tests.layer_checks import to_numpy
from tests.layer_checks import xla_compile

IDS = padded_ids([5, 3, 1], 5)


class TestLearnedTokenAndPositionEmbedding(LayerChecks):
    layer_cls = TokenAndPositionEmbedding
    init_kwargs = {
        "vocabulary_size": 20,
        "sequence_length": 8,
        "embedding_dim": 6,
        "scale_embeddings": True,
    }

    def make_inputs(self):
        return {"inputs": IDS}

    def make_padded_inputs(self):
        return None  # takes ids, not float vectors: see the mask tests below


class TestSinusoidalTokenAndPositionEmbedding(
    TestLearnedTokenAndPositionEmbedding
):
    init_kwargs = {
        "vocabulary_size": 20,
        "sequence_length": 8,
        "embedding_dim": 6,
        "position_encoding": "sinusoidal",
        "max_wavelength": 100,
    }



def numpy_sinusoids(time, features, max_wavelength, start=0):
    pos = np.arange(start, start + time)[:, None]
    i = np.arange(features)[None, :]
    angle = pos / max_wavelength ** ((i // 2 * 2) / features)
    return np.where(i % 2 == 0, np.sin(angle), np.cos(angle))


def make(**kwargs):
    args = {"vocabulary_size": 20, "sequence_length": 8, "embedding_dim": 6}
    return TokenAndPositionEmbedding(**{**args, **kwargs})


@pytest.mark.parametrize("scale", [False, True])
def test_learned_output_is_token_plus_position_rows(scale):
    layer = make(scale_embeddings=scale)
    out = to_numpy(layer(IDS))
    tokens = to_numpy(layer._token_embedding.embeddings)[IDS]
    if scale:
        tokens = tokens * np.sqrt(6)
    positions = to_numpy(layer._position_embedding.embeddings)[:5]
    assert out.shape == (3, 5, 6)
    np.testing.assert_allclose(out, tokens + positions[None], atol=1e-5)


def test_sinusoidal_output_is_token_plus_sinusoids():
    layer = make(position_encoding="sinusoidal", max_wavelength=50)
    out = to_numpy(layer(IDS))
    tokens = to_numpy(layer._token_embedding.embeddings)[IDS]
    want = tokens + numpy_sinusoids(5, 6, 50)[None]
    np.testing.assert_allclose(out, want, atol=1e-5)
    # The sinusoidal table has no weights; only the token table is trained.
    assert len(layer.trainable_weights) == 1


def test_sinusoidal_accepts_sequences_longer_than_sequence_length():
    layer = make(position_encoding="sinusoidal", sequence_length=2)
    assert to_numpy(layer(IDS)).shape == (3, 5, 6)


def test_learned_rejects_sequences_longer_than_sequence_length():
    with pytest.raises(ValueError, match="sequence_length=4, time=5"):
        make(sequence_length=4)(IDS)


@pytest.mark.parametrize("position_encoding", ["learned", "sinusoidal"])
@pytest.mark.parametrize("as_tensor", [False, True])
def test_step_by_step_matches_full_sequence(position_encoding, as_tensor):
    layer = make(position_encoding=position_encoding, scale_embeddings=True)
    full = to_numpy(layer(IDS))
    for t in range(IDS.shape[1]):
        start = keras.ops.convert_to_tensor(t, "int32") if as_tensor else t
        step = to_numpy(layer(IDS[:, t : t + 1], start_index=start))
        np.testing.assert_allclose(step, full[:, t : t + 1], atol=1e-6)


@pytest.mark.parametrize("position_encoding", ["learned", "sinusoidal"])
def test_xla_with_traced_start_index(position_encoding):
    layer = make(position_encoding=position_encoding)
    full = to_numpy(layer(IDS))
    compiled = xla_compile(lambda ids, t: layer(ids, start_index=t))
    out = compiled(IDS[:, 3:4], keras.ops.convert_to_tensor(3, "int32"))
    np.testing.assert_allclose(to_numpy(out), full[:, 3:4], atol=1e-6)


@pytest.mark.parametrize("position_encoding", ["learned", "sinusoidal"])
def test_padding_mask_is_produced(position_encoding):
    layer = make(position_encoding=position_encoding)
    np.testing.assert_array_equal(to_numpy(layer.compute_mask(IDS)), IDS != 0)
    # Eager outputs carry the Keras mask too.
    np.testing.assert_array_equal(to_numpy(layer(IDS)._keras_mask), IDS != 0)


@pytest.mark.parametrize("position_encoding", ["learned", "sinusoidal"])
def test_downstream_layer_receives_mask(position_encoding):
    ids = keras.Input(shape=(None,), dtype="int32")
    x = make(position_encoding=position_encoding)(ids)
    model = keras.Model(ids, [x, MaskAsOutput()(x)])
    _, mask = model(IDS)
    np.testing.assert_array_equal(to_numpy(mask), (IDS != 0).astype("float32"))


def test_masked_pooling_ignores_padding():
    ids = keras.Input(shape=(None,), dtype="int32")
    layer = make()
    x = layer(ids)
    model = keras.Model(ids, [x, keras.layers.GlobalAveragePooling1D()(x)])
    vectors, pooled = (to_numpy(t) for t in model(IDS))
    real = IDS != 0
    want = (vectors * real[..., None]).sum(1) / real.sum(1, keepdims=True)
    np.testing.assert_allclose(pooled, want, atol=1e-5)


def test_without_mask_zero_no_mask_is_produced():
    layer = make(mask_zero=False)
    assert layer.compute_mask(IDS) is None
    ids = keras.Input(shape=(None,), dtype="int32")
    x = layer(ids)
    model = keras.Model(ids, MaskAsOutput()(x))
    np.testing.assert_array_equal(to_numpy(model(IDS)), -1.0)


def test_mask_survives_save_and_reload(tmp_path):
    ids = keras.Input(shape=(None,), dtype="int32")
    x = make()(ids)
    model = keras.Model(ids, MaskAsOutput()(x))
    model.save(tmp_path / "model.keras")
    reloaded = keras.models.load_model(
        tmp_path / "model.keras", custom_objects={"MaskAsOutput": MaskAsOutput}
    )
    np.testing.assert_array_equal(
        to_numpy(reloaded(IDS)), (IDS != 0).astype("float32")
    )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"vocabulary_size": 0}, "Received: vocabulary_size=0"),
        ({"sequence_length": -1}, "Received: sequence_length=-1"),
        ({"embedding_dim": 2.0}, "Received: embedding_dim=2.0"),
        (
            {"position_encoding": "rotary"},
            "Received: position_encoding='rotary'",
        ),
        ({"mask_zero": "yes"}, "Received: mask_zero='yes'"),
        ({"scale_embeddings": 1}, "Received: scale_embeddings=1"),
        ({"max_wavelength": 0}, "Received: max_wavelength=0"),
    ],
)
def test_bad_arguments_name_the_argument_and_value(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make(**kwargs)


def test_rejects_inputs_that_are_not_id_matrices():
    with pytest.raises(ValueError, match=r"inputs.shape=\(3, 5, 1\)"):
        make()(IDS[..., None])
