import numpy as np
from keras import ops

from keras_attnpred.decoding._decoding_utils import check_search_arguments
from keras_attnpred.decoding._decoding_utils import compiled_loop
from keras_attnpred.decoding._decoding_utils import decoder_key
from keras_attnpred.decoding.beam_loop import beam_loop
from keras_attnpred.decoding.step_decoder import step_decoder
from keras_attnpred.reserved_ids import END_ID
from keras_attnpred.reserved_ids import START_ID
from keras_attnpred.validation import MAX_BEAM_WIDTH
from keras_attnpred.validation import check_positive_int


def beam_search(
    model,
    source_ids,
    beam_width=4,
    n_best=1,
    length_penalty=0.0,
    max_length=64,
    start_id=START_ID,
    end_id=END_ID,
    use_cache=True,
):
    """Beam search decoding of an encoder–decoder translator, batched.

    Each source row keeps `beam_width` live hypotheses. At each step every
    live hypothesis is extended by every token, and the extensions are
    ranked by log-probability: those among the best `beam_width` that end
    with `end_id` join the row's finished hypotheses, and the best
    `beam_width` that do not end stay live (so an ended hypothesis never
    takes a live one's place). A finished hypothesis is never extended
    again.
    Finished hypotheses are ranked by their GNMT score

        log P(y) / lp(y),   lp(y) = ((5 + |y|) / 6) ** length_penalty,

    where `log P(y)` is the sum of the model's log-probabilities (softmax
    over the whole vocabulary) and `|y|` counts the generated tokens,
    `end_id` included. `length_penalty=0` ranks by log-probability alone;
    a larger value favours longer translations (GNMT used 0.6 to 0.7).
    Hypotheses still live after `max_length` steps are cut there and ranked
    with the finished ones. Decoding stops early once, in every row, the
    `n_best`-th finished score beats the best score any live hypothesis
    could still reach (its log-probability over `lp(max_length)`), which
    changes no result.

    The search (`keras.ops.while_loop` over fixed-size buffers) runs the
    same step decoders as `greedy_search`: with `use_cache=True` a model
    with `start_decoding` and `decode_step` (the translators of
    `keras_attnpred.models`) decodes one token per step through its
    key/value caches (Transformer) or its carried state (RNN), reordered by
    each hypothesis's parent at every step; other models, or
    `use_cache=False`, re-run the whole model per step. Both give the same
    hypotheses. The loop is compiled once per model, settings and input
    shape (a `tf.function` on TensorFlow, `jax.jit` on JAX); calling again
    with inputs of the same shape does not trace again.

    The padding id 0 and `start_id` are never generated. With
    `beam_width=1` and `length_penalty=0` the result is `greedy_search`'s.

    Args:
        model: a `keras.Model` taking `{"source": (batch, S) int,
            "target": (batch, T) int}` and returning logits
            `(batch, T, vocabulary_size)`, causal in the target.
        source_ids: int array or tensor `(batch, S)`, the source ids padded
            with 0.
        beam_width: int in [1, 256], the live hypotheses kept per row.
        n_best: int, the hypotheses returned per row, best first; at most
            `beam_width`.
        length_penalty: float >= 0, the GNMT `alpha` above.
        max_length: int, the most tokens to generate, `end_id` included.
            It may not exceed the model's `max_decoding_length` (the size of
            a Transformer's learned target position table), when it has one.
        start_id: int, the id that starts every target sequence.
        end_id: int, the id that ends a sequence.
        use_cache: bool, decode through the caches where the model allows
            it.

    Returns:
        A tuple `(ids, scores)`. `ids`: int32 NumPy array
        `(batch, n_best, steps)` of the generated ids without `start_id`,
        each hypothesis ending with its `end_id` (unless cut at
        `max_length`) and padded with 0, `steps` the length of the longest
        one. `scores`: float32 NumPy array `(batch, n_best)` of their scores,
        in decreasing order. A row with fewer than `n_best` possible
        hypotheses (a tiny vocabulary) fills the rest with ids 0 and
        score `-inf`.

    Example:

    >>> model = build_transformer_translator(
    ...     english.vocabulary_size, spanish.vocabulary_size, max_length=16,
    ...     preset="tiny")  # ... then trained on English-Spanish pairs
    >>> source_ids = english.tokenize(["the cat eats fish", "a dog"])
    >>> source_ids = source_ids.to_tensor()  # padded with 0
    >>> ids, scores = beam_search(model, source_ids, beam_width=4,
    ...                           n_best=2, length_penalty=0.6, max_length=16)
    >>> ids.shape[:2], scores.shape
    ((2, 2), (2, 2))
    >>> bool(np.all(scores[:, 0] >= scores[:, 1]))  # best first
    True
    >>> best = spanish.detokenize(ids[:, 0])  # one text per source
    >>> len(best)
    2
    >>> # One hypothesis, no length penalty: greedy search.
    >>> ids, _ = beam_search(model, source_ids, beam_width=1, max_length=16)
    >>> np.array_equal(ids[:, 0], greedy_search(model, source_ids, 16))
    True

    References:
        - [Wu et al., 2016. Google's Neural Machine Translation System:
          Bridging the Gap between Human and Machine
          Translation](https://arxiv.org/abs/1609.08144)
        - [Vaswani et al., 2018. Tensor2Tensor for Neural Machine
          Translation](https://arxiv.org/abs/1803.07416)
    """
    beam_width, n_best, length_penalty = check_beam_arguments(
        beam_width, n_best, length_penalty
    )
    max_length, start_id, end_id, source = check_search_arguments(
        model, source_ids, max_length, start_id, end_id, use_cache
    )
    if source.shape[0] == 0:
        return (
            np.zeros((0, n_best, 0), dtype="int32"),
            np.zeros((0, n_best), dtype="float32"),
        )
    decoder = step_decoder(model, use_cache)
    settings = (
        max_length, start_id, end_id, beam_width, n_best, length_penalty
    )
    loop = compiled_loop(
        model,
        ("beam", decoder_key(model, decoder)) + settings,
        lambda: beam_loop(decoder, *settings),
    )
    ids, scores = loop(ops.convert_to_tensor(source, dtype="int32"))
    ids = ops.convert_to_numpy(ids).astype("int32")
    scores = ops.convert_to_numpy(scores).astype("float32")
    # Unformed hypotheses (score -inf) hold arbitrary ids.
    ids[scores == -np.inf] = 0
    used = np.flatnonzero(ids.any(axis=(0, 1)))
    steps = used[-1] + 1 if len(used) else 0
    return ids[:, :, :steps], scores


def check_beam_arguments(beam_width, n_best, length_penalty):
    """`(beam_width, n_best, length_penalty)` validated, as int, int, float."""
    beam_width = check_positive_int("beam_width", beam_width)
    if beam_width > MAX_BEAM_WIDTH:
        raise ValueError(
            f"`beam_width` must be at most {MAX_BEAM_WIDTH}: the search keeps "
            "that many hypotheses of every text, each with its scores over "
            "the whole vocabulary at every step. Received: "
            f"beam_width={beam_width}"
        )
    n_best = check_positive_int("n_best", n_best)
    if n_best > beam_width:
        raise ValueError(
            "`n_best` must not exceed `beam_width`. "
            f"Received: n_best={n_best}, beam_width={beam_width}"
        )
    if (
        isinstance(length_penalty, bool)
        or not isinstance(length_penalty, (int, float, np.integer, np.floating))
        or not 0 <= length_penalty < np.inf
    ):
        raise ValueError(
            "`length_penalty` must be a finite number >= 0. "
            f"Received: length_penalty={length_penalty!r}"
        )
    return beam_width, n_best, float(length_penalty)
