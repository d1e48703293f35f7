import itertools

import keras
import numpy as np
import pytest
from keras import ops

from keras_attnpred.decoding import beam_loop
from keras_attnpred.decoding import beam_search
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

PADDED = np.array(
    [[4, 5, 6, 7, 0], [11, 10, 0, 0, 0], [9, 0, 0, 0, 0]], "int32"
)
UNLIKELY = -30.0  # the logit of "not an option" in the hand-made tables


class TableLogits(keras.layers.Layer):
    """Logits `table[previous target id] + row_table[first source id]`."""

    def __init__(self, table, row_table, **kwargs):
        super().__init__(**kwargs)
        self.table = np.asarray(table, "float32")
        self.row_table = np.asarray(row_table, "float32")

    def call(self, source, target):
        rows = ops.take(self.row_table, source[:, 0], axis=0)
        return ops.take(self.table, target, axis=0) + rows[:, None, :]


def table_model(table, row_table=None):
    """A translator whose next-token probabilities are a fixed table.

    The logits at a step depend only on the previous target id (a Markov
    chain) and on the source row's first id, so every sequence's
    probability is known in closed form.
    """
    table = np.asarray(table, "float32")
    if row_table is None:
        row_table = np.zeros((1, table.shape[1]), "float32")
    source = keras.Input(shape=(None,), dtype="int32", name="source")
    target = keras.Input(shape=(None,), dtype="int32", name="target")
    logits = TableLogits(table, row_table)(source, target)
    return keras.Model({"source": source, "target": target}, logits)


def step_log_probs(table, row_bias, previous):
    """The model's log-probabilities after `previous`, PAD and START banned."""
    logits = table[previous].astype("float64") + row_bias
    shifted = logits - logits.max()
    log_probs = shifted - np.log(np.exp(shifted).sum())
    log_probs[[0, START_ID]] = -np.inf
    return log_probs


def penalty(length, alpha):
    return ((5.0 + length) / 6.0) ** alpha


def brute_force(table, row_bias, max_length, alpha):
    """Every hypothesis (ended, or cut at max_length) with its GNMT score,
    best first."""
    results = []
    vocabulary = range(table.shape[1])
    for length in range(1, max_length + 1):
        for ids in itertools.product(vocabulary, repeat=length):
            ended = ids[-1] == END_ID
            if END_ID in ids[:-1] or (length < max_length and not ended):
                continue
            previous, log_p = START_ID, 0.0
            for token in ids:
                log_p += step_log_probs(table, row_bias, previous)[token]
                previous = token
            if np.isfinite(log_p):
                results.append((log_p / penalty(length, alpha), ids))
    return sorted(results, key=lambda item: -item[0])


def reference_beam(table, row_bias, beam_width, max_length, alpha):
    """Plain-Python beam search as documented, no early stop."""
    alive, finished = [(0.0, ())], []
    for t in range(max_length):
        candidates = []
        for log_p, ids in alive:
            previous = ids[-1] if ids else START_ID
            row = step_log_probs(table, row_bias, previous)
            for token in np.flatnonzero(np.isfinite(row)):
                candidates.append((log_p + row[token], ids + (int(token),)))
        candidates.sort(key=lambda item: -item[0])
        candidates = candidates[: 2 * beam_width]
        for rank, (log_p, ids) in enumerate(candidates):
            if ids[-1] == END_ID and rank < beam_width:
                finished.append((log_p / penalty(t + 1, alpha), ids))
        alive = [c for c in candidates if c[1][-1] != END_ID][:beam_width]
    finished += [
        (log_p / penalty(max_length, alpha), ids) for log_p, ids in alive
    ]
    return sorted(finished, key=lambda item: -item[0])


def as_rows(ids):
    """A `(n_best, steps)` block of ids as tuples without padding."""
    return [tuple(int(i) for i in row if i != 0) for row in ids]


def random_table(vocabulary_size, rows, seed):
    rng = np.random.default_rng(seed)
    return (
        rng.normal(0, 2, (vocabulary_size, vocabulary_size)),
        rng.normal(0, 1, (rows, vocabulary_size)),
    )


@pytest.mark.parametrize("alpha", [0.0, 0.6, 3.0])
def test_wide_beam_finds_the_brute_force_n_best(alpha):
    # 6 ids, 4 of them possible (UNK, END, 4, 5), 3 steps: a beam of 36
    # never drops a hypothesis, so it must find the exact n-best.
    table, row_table = random_table(6, 2, seed=0)
    model = table_model(table, row_table)
    source = np.array([[0], [1]], "int32")
    ids, scores = beam_search(
        model, source, beam_width=36, n_best=8, length_penalty=alpha,
        max_length=3,
    )
    assert ids.shape[:2] == (2, 8) and scores.shape == (2, 8)
    for row in range(2):
        expected = brute_force(table, row_table[row], 3, alpha)[:8]
        assert as_rows(ids[row]) == [item[1] for item in expected]
        np.testing.assert_allclose(
            scores[row], [item[0] for item in expected], rtol=1e-5
        )


@pytest.mark.parametrize("beam_width, alpha", [(2, 0.0), (3, 1.0), (1, 0.6)])
def test_narrow_beam_matches_the_reference(beam_width, alpha):
    table, row_table = random_table(9, 3, seed=1)
    model = table_model(table, row_table)
    source = np.array([[0], [1], [2]], "int32")
    ids, scores = beam_search(
        model, source, beam_width=beam_width, n_best=beam_width,
        length_penalty=alpha, max_length=6,
    )
    for row in range(3):
        expected = reference_beam(table, row_table[row], beam_width, 6, alpha)
        expected = expected[:beam_width]
        assert as_rows(ids[row]) == [item[1] for item in expected]
        np.testing.assert_allclose(
            scores[row], [item[0] for item in expected], rtol=1e-5
        )


def hand_made_table(rows):
    """A table from `{previous id: {next id: probability}}`."""
    table = np.full((6, 6), UNLIKELY, "float32")
    for previous, probabilities in rows.items():
        for token, probability in probabilities.items():
            table[previous, token] = np.log(probability)
    return table


def test_beam_keeps_the_runner_up_that_greedy_drops():
    # Greedy takes 4 (0.5), then 5 and END: P(4 5 END) = 0.2025. The
    # runner-up 5 (0.4) ends almost surely: P(5 END) = 0.36.
    table = hand_made_table(
        {
            START_ID: {4: 0.5, 5: 0.4, END_ID: 0.1},
            4: {END_ID: 0.25, 4: 0.3, 5: 0.45},
            5: {END_ID: 0.9, 4: 0.1},
        }
    )
    model = table_model(table)
    source = np.zeros((1, 1), "int32")
    greedy = greedy_search(model, source, max_length=4)
    assert as_rows(greedy) == [(4, 5, END_ID)]
    ids, scores = beam_search(
        model, source, beam_width=2, n_best=2, max_length=4
    )
    # (4 END), 0.125, is only third among the extensions of step 2: it
    # never finishes.
    assert as_rows(ids[0]) == [(5, END_ID), (4, 5, END_ID)]
    np.testing.assert_allclose(
        scores[0], np.log([0.4 * 0.9, 0.5 * 0.45 * 0.9]), rtol=1e-4
    )


def test_length_penalty_favours_the_longer_translation():
    # P(END) = 0.5 against P(4 END) = 0.45: log-probability alone prefers
    # the empty translation, alpha = 1 the two-token one, since
    # log(0.45) / (7 / 6) > log(0.5).
    table = hand_made_table(
        {START_ID: {END_ID: 0.5, 4: 0.5}, 4: {END_ID: 0.9, 4: 0.1}}
    )
    model = table_model(table)
    source = np.zeros((1, 1), "int32")
    ids, scores = beam_search(model, source, beam_width=2, n_best=2)
    assert as_rows(ids[0]) == [(END_ID,), (4, END_ID)]
    np.testing.assert_allclose(scores[0], np.log([0.5, 0.45]), rtol=1e-4)
    ids, scores = beam_search(
        model, source, beam_width=2, n_best=2, length_penalty=1.0
    )
    assert as_rows(ids[0]) == [(4, END_ID), (END_ID,)]
    np.testing.assert_allclose(
        scores[0], [np.log(0.45) / (7 / 6), np.log(0.5)], rtol=1e-4
    )


def test_unformed_hypotheses_get_minus_infinity():
    # Only END is possible: one hypothesis, however many are asked for.
    table = hand_made_table({START_ID: {END_ID: 1.0}})
    table[START_ID, 1] = table[START_ID, 4] = table[START_ID, 5] = -np.inf
    ids, scores = beam_search(
        table_model(table), np.zeros((1, 1), "int32"), beam_width=3,
        n_best=3,
    )
    assert as_rows(ids[0]) == [(END_ID,), (), ()]
    assert scores[0, 0] == pytest.approx(0.0, abs=1e-5)
    assert (scores[0, 1:] == -np.inf).all()


def rnn_translator(attention, rnn):
    keras.utils.set_random_seed(3)
    return build_rnn_translator(
        12, 12, attention=attention, rnn=rnn, embedding_dim=8, units=8
    )


def assert_cached_equals_uncached(model, source, **kwargs):
    cached = beam_search(model, source, max_length=MAX_LENGTH, **kwargs)
    uncached = beam_search(
        model, source, max_length=MAX_LENGTH, use_cache=False, **kwargs
    )
    np.testing.assert_array_equal(cached[0], uncached[0])
    np.testing.assert_allclose(cached[1], uncached[1], rtol=1e-5, atol=1e-5)
    return cached


def test_cached_equals_uncached_transformer(trained_translator):
    source, _, _ = reverse_task(8, seed=5)
    ids, _ = assert_cached_equals_uncached(
        trained_translator(True), source, beam_width=3, n_best=3,
        length_penalty=0.6,
    )
    assert len(np.unique(ids)) > 3 and (ids == END_ID).any()
    assert_cached_equals_uncached(
        tiny_translator(), PADDED, beam_width=2, n_best=2
    )


@pytest.mark.parametrize(
    "attention, rnn", [("bahdanau", "gru"), ("luong", "lstm")]
)
def test_cached_equals_uncached_rnn(attention, rnn):
    assert_cached_equals_uncached(
        rnn_translator(attention, rnn), PADDED, beam_width=3, n_best=2,
        length_penalty=0.6,
    )


def test_beam_width_one_is_greedy(trained_translator):
    source, _, _ = reverse_task(8, seed=6)
    for model, batch in (
        (trained_translator(True), source),
        (tiny_translator(), PADDED),
        (rnn_translator("bahdanau", "gru"), PADDED),
    ):
        ids, _ = beam_search(model, batch, beam_width=1, max_length=MAX_LENGTH)
        greedy = greedy_search(model, batch, max_length=MAX_LENGTH)
        np.testing.assert_array_equal(ids[:, 0], greedy)


def test_trained_model_decodes_the_task(trained_translator):
    source, _, _ = reverse_task(32, seed=1)
    ids, scores = beam_search(
        trained_translator(), source, beam_width=4, n_best=2,
        max_length=MAX_LENGTH,
    )
    expected = expected_reversal(source)
    np.testing.assert_array_equal(ids[:, 0, : expected.shape[1]], expected)
    assert (ids[:, 0, expected.shape[1] :] == 0).all()
    # The runner-up is another, less likely hypothesis.
    assert (scores[:, 0] > scores[:, 1]).all()
    assert all(as_rows(a) != as_rows(b) for a, b in zip(ids[:, :1], ids[:, 1:]))


@pytest.mark.parametrize("use_cache", [True, False])
def test_beam_loop_with_a_limit_is_a_shorter_search(
    trained_translator, use_cache
):
    # The public loop, as the SavedModel export traces it: `limit` stops it
    # as if `max_length` were `limit`, in buffers of the full size.
    model = trained_translator(True)
    source, _, _ = reverse_task(8, seed=7)
    loop = beam_loop(
        step_decoder(model, use_cache), MAX_LENGTH, START_ID, END_ID,
        beam_width=3, n_best=2, length_penalty=0.6,
    )
    ids, scores = loop(
        ops.convert_to_tensor(source, "int32"),
        limit=ops.convert_to_tensor(4, "int32"),
    )
    ids, scores = ops.convert_to_numpy(ids), ops.convert_to_numpy(scores)
    assert ids.shape == (8, 2, MAX_LENGTH)
    expected_ids, expected_scores = beam_search(
        model, source, beam_width=3, n_best=2, length_penalty=0.6,
        max_length=4,
    )
    steps = expected_ids.shape[2]
    assert steps <= 4
    np.testing.assert_array_equal(ids[:, :, :steps], expected_ids)
    assert (ids[:, :, steps:] == 0).all()
    np.testing.assert_allclose(scores, expected_scores, rtol=1e-5, atol=1e-5)


def test_no_retrace_for_the_same_shapes():
    model = tiny_translator()
    before = tracing_count()
    first = beam_search(model, PADDED, beam_width=2, n_best=2, max_length=6)
    assert tracing_count() == before + 1
    second = beam_search(model, PADDED, beam_width=2, n_best=2, max_length=6)
    other = beam_search(
        model, PADDED[::-1], beam_width=2, n_best=2, max_length=6
    )
    assert tracing_count() == before + 1
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(other[0], first[0][::-1])


def test_empty_batch():
    ids, scores = beam_search(
        tiny_translator(), np.zeros((0, 4), "int32"), beam_width=3, n_best=2,
        max_length=MAX_LENGTH,
    )
    assert ids.shape == (0, 2, 0) and scores.shape == (0, 2)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(beam_width=0), "beam_width=0"),
        (dict(beam_width=2.0), "beam_width=2.0"),
        (dict(n_best=0), "n_best=0"),
        (dict(beam_width=2, n_best=3), "n_best=3, beam_width=2"),
        (dict(length_penalty=-0.5), "length_penalty=-0.5"),
        (dict(length_penalty="0.6"), "length_penalty='0.6'"),
        (dict(length_penalty=float("nan")), "length_penalty=nan"),
        (dict(max_length=0), "max_length=0"),
        (dict(max_length=MAX_LENGTH + 1), "sequence_length=8"),
        (dict(end_id=12), "end_id"),
    ],
)
def test_argument_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        beam_search(tiny_translator(), PADDED, **kwargs)
