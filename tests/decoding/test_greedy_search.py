import re

import keras
import numpy as np
import pytest
from keras import ops

from keras_attnpred.decoding import check_decoding_length
from keras_attnpred.decoding import greedy_loop
from keras_attnpred.decoding import greedy_search
from keras_attnpred.decoding import step_decoder
from keras_attnpred.decoding._decoding_utils import tracing_count
from keras_attnpred.models import build_rnn_translator
from tests.decoding.conftest import END_ID
from tests.decoding.conftest import MAX_LENGTH
from tests.decoding.conftest import START_ID
from tests.decoding.conftest import expected_reversal
from tests.decoding.conftest import reverse_task
from tests.decoding.conftest import tiny_translator
from tests.layer_checks import to_numpy

# Rows of the same length: no padding anywhere.
UNPADDED = np.array([[4, 5, 6, 7], [11, 10, 9, 8], [5, 5, 9, 4]], "int32")
# Rows of different lengths, and a column of padding only.
PADDED = np.array(
    [[4, 5, 6, 7, 0], [11, 10, 0, 0, 0], [9, 0, 0, 0, 0]], "int32"
)


def call(model, inputs):
    # JAX runs a Keras model op by op when called eagerly, which takes
    # seconds per call; predict_on_batch compiles it (once per shape).
    if keras.backend.backend() == "jax":
        return model.predict_on_batch(inputs)
    return model(inputs)


def reference_greedy(model, source, max_length):
    """Independent greedy search: eager model calls on the growing prefix."""
    target = np.full((len(source), 1), START_ID, "int32")
    done = np.zeros(len(source), bool)
    generated = []
    for _ in range(max_length):
        inputs = {"source": source, "target": target}
        logits = to_numpy(call(model, inputs))[:, -1]
        logits[:, [0, START_ID]] = -np.inf
        step = np.where(done, 0, logits.argmax(-1)).astype("int32")
        generated.append(step)
        done |= step == END_ID
        target = np.concatenate([target, step[:, None]], axis=1)
        if done.all():
            break
    return np.stack(generated, axis=1)


def assert_cached_equals_uncached(model, source):
    cached = greedy_search(model, source, max_length=MAX_LENGTH)
    uncached = greedy_search(
        model, source, max_length=MAX_LENGTH, use_cache=False
    )
    assert cached.dtype == np.int32
    np.testing.assert_array_equal(cached, uncached)
    return cached


@pytest.mark.parametrize("normalize_first", [False, True])
def test_cached_equals_uncached_random_model(normalize_first):
    # Two blocks (two caches each) once; one block keeps the rest quick.
    model = tiny_translator(
        normalize_first=normalize_first, num_layers=1 if normalize_first else 2
    )
    assert_cached_equals_uncached(model, UNPADDED)
    cached = assert_cached_equals_uncached(model, PADDED)
    np.testing.assert_array_equal(
        cached, reference_greedy(model, PADDED, MAX_LENGTH)
    )


@pytest.mark.parametrize("normalize_first", [False, True])
def test_cached_equals_uncached_trained_model(
    trained_translator, normalize_first
):
    model = trained_translator(normalize_first)
    source, _, _ = reverse_task(16, seed=5)
    for batch in (source, source[:3, :4]):  # padded, and unpadded
        cached = assert_cached_equals_uncached(model, batch)
        # Non-trivial outputs: several distinct ids, and END.
        assert len(np.unique(cached)) > 3 and (cached == END_ID).any()


def test_trained_model_decodes_the_task(trained_translator):
    model = trained_translator()
    source, _, _ = reverse_task(64, seed=1)
    generated = greedy_search(model, source, max_length=MAX_LENGTH)
    # Rows end at their own END, then padding; decoding stops once the
    # longest row has ended.
    np.testing.assert_array_equal(generated, expected_reversal(source))


def test_padding_columns_change_nothing(trained_translator):
    model = trained_translator()
    source, _, _ = reverse_task(8, seed=2)
    wider = np.pad(source, [(0, 0), (0, 2)])  # to the table's 8
    np.testing.assert_array_equal(
        greedy_search(model, wider, max_length=MAX_LENGTH),
        greedy_search(model, source, max_length=MAX_LENGTH),
    )


def test_stops_at_max_length_without_end():
    model = tiny_translator()
    generated = greedy_search(model, PADDED, max_length=5)
    assert generated.shape[0] == 3 and generated.shape[1] <= 5
    # Never PAD or START before a row's END.
    for row in generated:
        ended = np.flatnonzero(row == END_ID)
        real = row[: ended[0] + 1] if len(ended) else row
        assert (real != 0).all() and (real != START_ID).all()
        if len(ended):
            assert (row[ended[0] + 1 :] == 0).all()


@pytest.mark.parametrize(
    "attention, rnn", [("bahdanau", "gru"), ("luong", "lstm")]
)
def test_cached_equals_uncached_rnn_translator(attention, rnn):
    model = build_rnn_translator(
        12, 12, rnn=rnn, embedding_dim=8, units=8, attention=attention
    )
    cached = assert_cached_equals_uncached(model, PADDED)
    np.testing.assert_array_equal(
        cached, reference_greedy(model, PADDED, MAX_LENGTH)
    )


def test_model_without_decoding_methods_runs_uncached():
    # A model built by hand: no start_decoding / decode_step, so no cached
    # decoder applies; greedy still works.
    source = keras.Input(shape=(None,), dtype="int32", name="source")
    target = keras.Input(shape=(None,), dtype="int32", name="target")
    x = keras.layers.Embedding(12, 8, mask_zero=True)(target)
    x = keras.layers.GRU(8, return_sequences=True)(x)
    model = keras.Model(
        {"source": source, "target": target}, keras.layers.Dense(12)(x)
    )
    assert step_decoder(model) is not model
    generated = greedy_search(model, PADDED, max_length=6)
    np.testing.assert_array_equal(generated, reference_greedy(model, PADDED, 6))
    (key,) = model.__dict__["_attnpred_decoding_functions"]
    assert key[:2] == ("greedy", "uncached")


@pytest.mark.parametrize("rnn", [False, True])
def test_translators_are_their_own_cached_step_decoders(rnn):
    model = (
        build_rnn_translator(12, 12, embedding_dim=8, units=8)
        if rnn
        else tiny_translator()
    )
    assert step_decoder(model) is model
    assert step_decoder(model, use_cache=False) is not model
    with pytest.raises(ValueError, match="use_cache=1"):
        step_decoder(model, use_cache=1)
    greedy_search(model, PADDED, max_length=4)
    greedy_search(model, PADDED, max_length=4, use_cache=False)
    keys = model.__dict__["_attnpred_decoding_functions"]
    assert sorted(key[1] for key in keys) == ["cached", "uncached"]


def test_greedy_loop_runs_the_search_up_to_a_limit(trained_translator):
    # The public loop, as an exporter traces it: the same ids as
    # greedy_search, and `limit` stops it early without changing shapes.
    model = trained_translator()
    source, _, _ = reverse_task(8, seed=3)
    loop = greedy_loop(model, MAX_LENGTH, START_ID, END_ID)
    steps, tokens = loop(ops.convert_to_tensor(source, "int32"))
    tokens = to_numpy(tokens)
    assert tokens.shape == (8, MAX_LENGTH + 1)
    assert (tokens[:, 0] == START_ID).all()
    expected = greedy_search(model, source, max_length=MAX_LENGTH)
    np.testing.assert_array_equal(
        tokens[:, 1 : int(to_numpy(steps)) + 1], expected
    )
    steps, tokens = loop(
        ops.convert_to_tensor(source, "int32"),
        limit=ops.convert_to_tensor(2, "int32"),
    )
    assert int(to_numpy(steps)) == 2
    tokens = to_numpy(tokens)
    assert tokens.shape == (8, MAX_LENGTH + 1)
    np.testing.assert_array_equal(tokens[:, 1:3], expected[:, :2])
    assert (tokens[:, 3:] == 0).all()


def test_check_decoding_length():
    model = tiny_translator()
    assert model.max_decoding_length == MAX_LENGTH
    assert check_decoding_length(model, MAX_LENGTH) == MAX_LENGTH
    with pytest.raises(
        ValueError, match=f"sequence_length={MAX_LENGTH}.*max_length=9"
    ):
        check_decoding_length(model, MAX_LENGTH + 1)
    with pytest.raises(ValueError, match="max_length=0"):
        check_decoding_length(model, 0)
    # No position table: no bound.
    rnn = build_rnn_translator(12, 12, embedding_dim=8, units=8)
    assert check_decoding_length(rnn, 1000) == 1000


@pytest.mark.parametrize("use_cache", [True, False])
def test_no_retrace_for_the_same_shapes(use_cache):
    model = tiny_translator()
    before = tracing_count()
    first = greedy_search(model, PADDED, max_length=6, use_cache=use_cache)
    assert tracing_count() == before + 1
    second = greedy_search(model, PADDED, max_length=6, use_cache=use_cache)
    other = greedy_search(
        model, PADDED[::-1], max_length=6, use_cache=use_cache
    )
    assert tracing_count() == before + 1  # same shapes: no new trace
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(other, first[::-1])


def test_sees_weight_updates():
    # The compiled loop must read the current weights, not a snapshot.
    model = tiny_translator()
    first = greedy_search(model, PADDED, max_length=6)
    kernel = model.logits_layer.kernel
    bias = model.logits_layer.bias
    kernel.assign(np.zeros(kernel.shape, "float32"))
    favourite = np.zeros(bias.shape, "float32")
    favourite[END_ID] = 1.0
    bias.assign(favourite)
    second = greedy_search(model, PADDED, max_length=6)
    np.testing.assert_array_equal(second, np.full((3, 1), END_ID))
    assert not np.array_equal(first[:, :1], second)


def test_empty_batch_and_empty_sources():
    model = tiny_translator()
    empty = greedy_search(model, np.zeros((0, 4), "int32"), max_length=4)
    assert empty.shape == (0, 0)
    # Fully padded sources must not crash (nor give NaN-driven garbage ids).
    generated = greedy_search(model, np.zeros((2, 3), "int32"), max_length=4)
    assert generated.shape[0] == 2 and (generated != 0).any()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(max_length=0), "max_length"),
        (dict(max_length=MAX_LENGTH + 1), "sequence_length=8"),
        (dict(start_id=12), "start_id"),
        (dict(end_id=-1), "end_id"),
        (dict(use_cache=1), "use_cache"),
    ],
)
def test_argument_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        greedy_search(tiny_translator(), PADDED, **kwargs)


def test_source_errors():
    with pytest.raises(ValueError, match="source_ids"):
        greedy_search(tiny_translator(), np.ones((3,), "int32"), max_length=4)
    # Ids outside the source vocabulary (12): an error on TensorFlow, a
    # silently clamped lookup on JAX, so refused before decoding.
    with pytest.raises(
        ValueError,
        match="below the source vocabulary size 12. Received: source_ids "
        "from 0 to 12",
    ):
        greedy_search(tiny_translator(), PADDED + (PADDED == 11), max_length=4)
    with pytest.raises(ValueError, match="source_ids from -1 to 11"):
        greedy_search(tiny_translator(), PADDED - (PADDED == 0), max_length=4)
    with pytest.raises(ValueError, match="model"):
        greedy_search("model", PADDED)


def test_same_start_and_end_id_is_refused():
    with pytest.raises(ValueError, match="start_id=3, end_id=3"):
        greedy_search(tiny_translator(), np.ones((1, 4), "int32"), start_id=3, end_id=3)


def _loop_fused_products(hlo):
    """Names of XLA:CPU loop fusions that hold a matrix product."""
    bodies = dict(
        re.findall(r"^%?([\w.-]+) \(.*?\{\n(.*?)\n\}", hlo, re.M | re.S)
    )
    return [
        name
        for name in re.findall(r"kind=kLoop, calls=%?([\w.-]+)", hlo)
        if " dot(" in bodies.get(name, "")
    ]


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="XLA:CPU's fusion of TensorFlow programs",
)
def test_one_row_steps_call_library_matrix_vector_products():
    """With one row, XLA:CPU once emitted each query, key and value
    projection as a naive loop over the weights (3-4 times slower); the flat
    projection kernels keep every product a library call."""
    model = tiny_translator()
    source = UNPADDED[:1]
    greedy_search(model, source, max_length=4)
    (loop,) = model.__dict__["_attnpred_decoding_functions"].values()
    hlo = loop.experimental_get_compiler_ir(
        ops.convert_to_tensor(source, dtype="int32"), None
    )(stage="optimized_hlo")
    assert " dot(" in hlo
    assert _loop_fused_products(hlo) == []


def test_int8_quantized_translator_decodes_and_reloads(
    trained_translator, tmp_path
):
    path = tmp_path / "float.keras"
    trained_translator().save(path)  # a copy: the fixture is shared
    model = keras.models.load_model(path)
    model.quantize("int8")
    source, _, _ = reverse_task(32, seed=6)
    quantized_ids = assert_cached_equals_uncached(model, source)
    np.testing.assert_array_equal(quantized_ids, expected_reversal(source))
    model.save(tmp_path / "int8.keras")
    reloaded = keras.models.load_model(tmp_path / "int8.keras")
    decoder_dtype = reloaded.decoder_blocks[0].get_config()["dtype"]
    assert decoder_dtype["class_name"] == "DTypePolicyMap"
    np.testing.assert_array_equal(
        greedy_search(reloaded, source, max_length=MAX_LENGTH), quantized_ids
    )
