from keras_attnpred.decoding._step_decoders import UncachedSteps
from keras_attnpred.decoding._step_decoders import decodes_step_by_step
from keras_attnpred.validation import check_bool


def step_decoder(model, use_cache=True):
    """What `greedy_loop` and `beam_loop` decode `model` through.

    With `use_cache=True`, a model with its own `start_decoding` and
    `decode_step` methods (`TransformerTranslator`: key/value caches;
    `RNNTranslator`: carried RNN state) is its own step decoder and is
    returned as it is. Any other model, or `use_cache=False`, gets an
    adapter with the same two methods that re-runs the whole model on the
    source and the target so far at every step (the model must be causal in
    the target, as every teacher-forced translator is). Both decode the
    same tokens.

    Args:
        model: a `keras.Model` taking `{"source": (batch, S) int,
            "target": (batch, T) int}` and returning logits
            `(batch, T, vocabulary_size)`.
        use_cache: bool, whether to use the model's own step methods when
            it has them.

    Returns:
        An object with `start_decoding(source_ids, max_length)` and
        `decode_step(context, token_ids, index, state)`: `model` itself, or
        the uncached adapter.

    Example:

    >>> from keras_attnpred.reserved_ids import END_ID, START_ID
    >>> model = build_transformer_translator(20, 20, max_length=8,
    ...                                      preset="tiny")
    >>> step_decoder(model) is model
    True
    >>> step_decoder(model, use_cache=False) is model  # the adapter
    False
    >>> source_ids = keras.ops.convert_to_tensor([[5, 6, 7, END_ID]])
    >>> _, cached = greedy_loop(
    ...     step_decoder(model), 8, START_ID, END_ID)(source_ids)
    >>> _, uncached = greedy_loop(
    ...     step_decoder(model, use_cache=False), 8, START_ID, END_ID
    ... )(source_ids)
    >>> np.array_equal(cached, uncached)
    True
    """
    check_bool("use_cache", use_cache)
    if use_cache and decodes_step_by_step(model):
        return model
    return UncachedSteps(model)
