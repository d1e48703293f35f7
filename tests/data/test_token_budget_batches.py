import os
import subprocess
import sys

import numpy as np
import pytest

from keras_attnpred.data import token_budget_batches

BUCKETS = [64, 128, 192, 256, 320, 384, 448, 512]
BUDGET = 64 * 512


def _imdb_like_lengths(n, seed):
    # Long-tailed, with a spike at the truncation length, like IMDB reviews.
    rng = np.random.default_rng(seed)
    return np.minimum(rng.lognormal(5.3, 0.7, n).astype(int) + 1, 512)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_sequence_once_in_a_bucket_that_holds_it(seed):
    lengths = _imdb_like_lengths(3000, seed)
    batches = token_budget_batches(lengths, BUDGET, BUCKETS, seed=seed)
    indices = np.concatenate([i for i, _ in batches])
    np.testing.assert_array_equal(np.sort(indices), np.arange(len(lengths)))
    for batch, length in batches:
        assert length in BUCKETS
        assert lengths[batch].max() <= length
        assert len(batch) * length <= BUDGET


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_one_shape_per_bucket_and_one_smaller_last_batch(seed):
    lengths = _imdb_like_lengths(3000, seed)
    batches = token_budget_batches(lengths, BUDGET, BUCKETS, seed=seed)
    shapes = [(len(i), length) for i, length in batches]
    full = {(BUDGET // b, b) for b in BUCKETS}
    partial = [s for s in shapes if s not in full]
    assert len(partial) <= 1
    assert all(length == BUCKETS[-1] for _, length in partial)
    # The budget is used: short buckets take more sequences per batch.
    assert (256, 128) in shapes and (64, 512) in shapes


def test_full_buckets_keep_each_sequence_in_its_shortest_bucket():
    # 2 batches of 64-token sequences, 3 of 128, 1 of 512: nothing is left
    # over, so nothing moves up and the padding is the least possible.
    lengths = np.concatenate([
        np.full(2 * 512, 40), np.full(3 * 256, 65), np.full(64, 512)
    ])
    batches = token_budget_batches(lengths, BUDGET, [64, 128, 512], seed=3)
    assert sorted(n for _, n in batches) == [64] * 2 + [128] * 3 + [512]
    expected = {64: 40, 128: 65, 512: 512}
    for batch, length in batches:
        assert set(lengths[batch]) == {expected[length]}


def test_leftovers_move_up_and_the_padding_stays_small():
    lengths = _imdb_like_lengths(4096, 0)
    batches = token_budget_batches(lengths, BUDGET, BUCKETS, seed=0)
    shortest = np.asarray(BUCKETS)[np.searchsorted(BUCKETS, lengths)]
    padded_to = np.empty_like(lengths)
    for batch, length in batches:
        padded_to[batch] = length
    moved = padded_to > shortest
    # At most a batch less one sequence leaves each bucket but the last.
    assert moved.sum() <= sum(BUDGET // b - 1 for b in BUCKETS[:-1])
    processed = sum(len(i) * length for i, length in batches)
    assert processed < 1.2 * lengths.sum() < 0.7 * len(lengths) * 512


def test_seeded_order_and_the_unshuffled_order():
    lengths = _imdb_like_lengths(2000, 5)
    first = token_budget_batches(lengths, BUDGET, BUCKETS, seed=7)
    again = token_budget_batches(lengths, BUDGET, BUCKETS, seed=7)
    other = token_budget_batches(lengths, BUDGET, BUCKETS, seed=8)
    assert [(list(i), n) for i, n in first] == [(list(i), n) for i, n in again]
    assert [list(i) for i, _ in first] != [list(i) for i, _ in other]
    # Shuffled within the buckets too, not only the order of the batches.
    assert not any((np.diff(i) > 0).all() for i, _ in first)
    plain = token_budget_batches(lengths, BUDGET, BUCKETS, shuffle=False)
    bucket_order = [n for _, n in plain]
    assert bucket_order == sorted(bucket_order)
    assert all((np.diff(i) > 0).all() for i, _ in plain)


def test_empty_input_and_zero_lengths():
    assert token_budget_batches([], 100, [10]) == []
    [(batch, length)] = token_budget_batches([0, 3], 20, [10], shuffle=False)
    np.testing.assert_array_equal(batch, [0, 1])
    assert length == 10


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"lengths": [5, 600]}, r"longest bucket length 512.*lengths\[1\]=600"),
        ({"lengths": [5, -1]}, r"lengths\[1\]=-1"),
        ({"lengths": [[5]]}, r"lengths of shape \(1, 1\)"),
        ({"lengths": [5.0]}, "dtype float64"),
        ({"max_tokens": 0}, "max_tokens=0"),
        ({"max_tokens": 256}, "at most `max_tokens`.*max_tokens=256"),
        ({"bucket_lengths": [128, 64]}, r"bucket_lengths=\[128, 64\]"),
        ({"bucket_lengths": []}, r"bucket_lengths=\[\]"),
        ({"bucket_lengths": [0, 512]}, "strictly increasing"),
        ({"shuffle": 1}, "shuffle=1"),
        ({"seed": -1}, "seed=-1"),
    ],
)
def test_bad_arguments_are_named(kwargs, match):
    arguments = {"lengths": [5, 70], "max_tokens": BUDGET,
                 "bucket_lengths": [64, 512], **kwargs}
    with pytest.raises(ValueError, match=match):
        token_budget_batches(**arguments)


def test_imports_without_tensorflow():
    """The GPU machine has JAX (and Keras) only; benchmarks batch NumPy ids
    with this."""
    pytest.importorskip("jax")
    code = (
        "import sys; sys.modules['tensorflow'] = None\n"  # its import fails
        "from keras_attnpred.data import token_budget_batches\n"
        "print(len(token_budget_batches([3, 9], 16, [8, 16])))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True,
        timeout=120, env={**os.environ, "KERAS_BACKEND": "jax"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "2"
