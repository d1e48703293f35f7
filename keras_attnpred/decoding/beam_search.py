import numpy as np
from keras import ops

from keras_attnpred.decoding._decoding_utils import check_search_arguments
from keras_attnpred.decoding._decoding_utils import compiled_loop
from keras_attnpred.decoding._decoding_utils import count_trace
from keras_attnpred.decoding._step_decoders import PAD_ID
from keras_attnpred.decoding._step_decoders import banned_logits
from keras_attnpred.decoding._step_decoders import initial_tokens
from keras_attnpred.decoding._step_decoders import repeat_rows
from keras_attnpred.decoding._step_decoders import step_decoder
from keras_attnpred.decoding._step_decoders import take_rows
from keras_attnpred.validation import check_positive_int


def beam_search(
    model,
    source_ids,
    beam_width=4,
    n_best=1,
    length_penalty=0.0,
    max_length=64,
    start_id=2,
    end_id=3,
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
    same step decoders as `greedy_search`: with `use_cache=True` the models
    of `keras_attnpred.models` decode one token per step through their
    key/value caches (Transformer) or their carried state (RNN), reordered
    by each hypothesis's parent at every step; other models, or
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
        beam_width: int, the live hypotheses kept per row.
        n_best: int, the hypotheses returned per row, best first; at most
            `beam_width`.
        length_penalty: float >= 0, the GNMT `alpha` above.
        max_length: int, the most tokens to generate, `end_id` included.
            With a learned target position embedding it may not exceed the
            embedding's `sequence_length`.
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

    >>> model = build_transformer_translator(8000, 8000, max_length=64)
    >>> # ... model.fit(...) ...
    >>> ids, scores = beam_search(model, source_ids, beam_width=4,
    ...                           n_best=2, length_penalty=0.6)
    >>> best = target_tokenizer.detokenize(ids[:, 0])

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
    kind, parts = step_decoder(model, use_cache)
    settings = (
        max_length, start_id, end_id, beam_width, n_best, length_penalty
    )
    loop = compiled_loop(
        model,
        ("beam", kind.name) + settings,
        lambda: _beam_loop(kind(parts, max_length), *settings),
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


def _gather_beams(x, indices):
    """`x[b, indices[b, m]]`: `x` is `(batch, N, ...)`, `indices`
    `(batch, M)`."""
    batch, size = ops.shape(x)[0], ops.shape(x)[1]
    flat = indices + ops.expand_dims(ops.arange(batch, dtype="int32") * size, 1)
    rows = ops.take(
        ops.reshape(x, (-1,) + tuple(x.shape[2:])),
        ops.reshape(flat, (-1,)),
        axis=0,
    )
    return ops.reshape(rows, (batch, -1) + tuple(x.shape[2:]))


def _beam_loop(
    decoder, max_length, start_id, end_id, beam_width, n_best, alpha
):
    """`loop(source, limit=None)`: `(ids, scores)` of the `n_best` best,
    `ids` `(batch, n_best, max_length)`, not yet cleaned (see
    `beam_search`).

    `limit`, a scalar int tensor at most `max_length` (default
    `max_length`), stops the search there as if `max_length` were `limit`,
    without changing the buffers' shapes. On TensorFlow `beam_width` and
    `alpha` may be scalar tensors too (int32, float32): the exported
    SavedModel takes all three as inputs.
    """
    width = beam_width

    def penalty(length):
        return ops.power((5.0 + ops.cast(length, "float32")) / 6.0, alpha)

    def loop(source, limit=None):
        count_trace()
        if limit is None:
            limit = max_length
            # No live hypothesis can score above its log-probability over
            # this.
            max_penalty = ((5.0 + max_length) / 6.0) ** alpha
        else:
            max_penalty = penalty(limit)
        batch = ops.shape(source)[0]
        context, state = decoder.start(source)
        # Row b's hypotheses are rows b * width ... b * width + width - 1.
        context, state = repeat_rows((context, state), width)
        tokens = initial_tokens(batch * width, max_length, start_id)
        # Only the first copy of each row is live at first: the others would
        # repeat its extensions.
        alive_logp = ops.concatenate(
            [
                ops.zeros((batch, 1), "float32"),
                ops.full((batch, width - 1), -np.inf, "float32"),
            ],
            axis=1,
        )
        finished_tokens = ops.zeros((batch, width, max_length + 1), "int32")
        finished_scores = ops.full((batch, width), -np.inf, "float32")
        t = ops.convert_to_tensor(0, "int32")
        loop_vars = (
            t, tokens, alive_logp, finished_tokens, finished_scores, state
        )

        def cond(t, tokens, alive_logp, finished_tokens, finished_scores, _):
            reachable = alive_logp[:, 0] / max_penalty
            settled = ops.all(
                ops.greater(finished_scores[:, n_best - 1], reachable)
            )
            return ops.logical_and(
                ops.less(t, limit), ops.logical_not(settled)
            )

        def body(
            t, tokens, alive_logp, finished_tokens, finished_scores, state
        ):
            logits, state = decoder.step(context, tokens, t, state)
            vocabulary_size = logits.shape[-1]
            banned = banned_logits(vocabulary_size, (PAD_ID, start_id))
            log_probs = ops.log_softmax(logits, axis=-1) + banned
            candidates = ops.expand_dims(alive_logp, 2) + ops.reshape(
                log_probs, (batch, width, vocabulary_size)
            )
            # At most `width` of the best 2 * width end (one per parent), so
            # at least `width` stay live.
            values, indices = ops.top_k(
                ops.reshape(candidates, (batch, width * vocabulary_size)),
                2 * width,
            )
            indices = ops.cast(indices, "int32")
            parents = ops.floor_divide(indices, vocabulary_size)
            new_ids = ops.mod(indices, vocabulary_size)
            sequences = _gather_beams(
                ops.reshape(tokens, (batch, width, max_length + 1)), parents
            )
            sequences = ops.slice_update(
                sequences, [0, 0, t + 1], ops.expand_dims(new_ids, 2)
            )
            ended = ops.equal(new_ids, end_id)

            alive_logp, alive = ops.top_k(
                ops.where(ended, -np.inf, values), width
            )
            alive = ops.cast(alive, "int32")
            # The known last axis keeps the loop's shapes static.
            tokens = ops.reshape(
                _gather_beams(sequences, alive), (-1, max_length + 1)
            )
            parent_rows = _gather_beams(parents, alive) + ops.expand_dims(
                ops.arange(batch, dtype="int32") * width, 1
            )
            state = take_rows(state, ops.reshape(parent_rows, (-1,)))

            # Only an end among the best `width` extensions finishes a
            # hypothesis, as in a beam that kept finished ones in its slots;
            # hence width 1 is greedy search.
            finishing = ops.logical_and(
                ended, ops.less(ops.arange(2 * width), width)
            )
            new_scores = ops.where(finishing, values / penalty(t + 1), -np.inf)
            finished_scores, kept = ops.top_k(
                ops.concatenate([finished_scores, new_scores], axis=1), width
            )
            finished_tokens = _gather_beams(
                ops.concatenate([finished_tokens, sequences], axis=1),
                ops.cast(kept, "int32"),
            )
            return (
                t + 1, tokens, alive_logp, finished_tokens, finished_scores,
                state,
            )

        t, tokens, alive_logp, finished_tokens, finished_scores, _ = (
            ops.while_loop(cond, body, loop_vars)
        )
        # The live hypotheses join as they are: after max_length steps they
        # are the cut-off translations; after an early stop none of them
        # reaches the n-best.
        scores, best = ops.top_k(
            ops.concatenate(
                [finished_scores, alive_logp / penalty(t)], axis=1
            ),
            n_best,
        )
        hypotheses = ops.concatenate(
            [
                finished_tokens,
                ops.reshape(tokens, (batch, width, max_length + 1)),
            ],
            axis=1,
        )
        ids = _gather_beams(hypotheses, ops.cast(best, "int32"))
        return ids[:, :, 1:], scores

    return loop
