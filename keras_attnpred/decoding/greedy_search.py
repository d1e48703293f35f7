import keras
import numpy as np
from keras import ops

from keras_attnpred.validation import check_bool
from keras_attnpred.validation import check_positive_int
from keras_attnpred.decoding._decoding_utils import compiled_loop
from keras_attnpred.decoding._decoding_utils import count_trace
from keras_attnpred.layers import TokenAndPositionEmbedding
from keras_attnpred.layers import TransformerDecoder
from keras_attnpred.layers import TransformerEncoder

PAD_ID = 0


def greedy_search(
    model,
    source_ids,
    max_length=64,
    start_id=2,
    end_id=3,
    use_cache=True,
):
    """Greedy decoding of an encoder–decoder translator, one token at a time.

    At each step the most likely next token is taken. Decoding stops when
    every row has produced `end_id`, or after `max_length` tokens.

    Two ways to run the decoder:

    - **Cached** (`use_cache=True`, models from
      `keras_attnpred.models.build_transformer_translator`): the source is
      encoded once, each decoder block's cross-attention keys and values are
      projected once, and each step runs the decoder on the new token only,
      through the blocks' self-attention key/value caches (step `t` computes
      step `t` only; its position comes from `start_index=t`). The model is
      recognised by its layer names (`"source_embedding"`, `"encoder_0"`,
      ..., `"target_embedding"`, `"decoder_0"`, ..., `"logits"`).
    - **Uncached** (`use_cache=False`, or any other model, e.g. from
      `build_rnn_translator`; `use_cache=True` falls back to it silently
      when the named layers are missing): each step re-runs the whole model
      on `{"source": source_ids, "target": [start_id] + tokens so far}`.
      The target is held in a fixed `(batch, max_length)` buffer padded with
      0 after the tokens so far, so the model must be causal in the target
      (as every teacher-forced translator is): logits at step `t` may depend
      on target steps `<= t` only.

    Both give the same tokens. The whole loop (`keras.ops.while_loop` over
    fixed-size buffers and caches) is compiled once per model, settings and
    input shape: a `tf.function` on TensorFlow, `jax.jit` on JAX (the
    weights are passed in, so training the model further is seen by later
    calls); other backends run it eagerly. Calling again with inputs of the
    same shape does not trace again; a new batch size or source length does.

    The padding id 0 and `start_id` are never generated (their logits are
    masked out): a generated 0 would be read as padding by the model, and
    the start id only ever begins a sentence.

    Args:
        model: a `keras.Model` taking `{"source": (batch, S) int,
            "target": (batch, T) int}` and returning logits
            `(batch, T, vocabulary_size)`.
        source_ids: int array or tensor `(batch, S)`, the source ids padded
            with 0.
        max_length: int, the most tokens to generate, `end_id` included. With
            a learned target position embedding it may not exceed the
            embedding's `sequence_length`.
        start_id: int, the id that starts every target sequence.
        end_id: int, the id that ends a sequence.
        use_cache: bool, decode through the key/value caches where the model
            allows it.

    Returns:
        An int32 NumPy array `(batch, steps)` of the generated ids, without
        `start_id`, with `steps <= max_length` the number of steps taken. A
        row's `end_id` is included, so rows that ended can be told from rows
        cut off at `max_length`; everything after it is 0 (padding).

    Example:

    >>> model = build_transformer_translator(8000, 8000, max_length=64)
    >>> # ... model.fit(...) ...
    >>> ids = greedy_search(model, source_ids, max_length=64)
    >>> texts = target_tokenizer.detokenize(ids)  # drops [END] and padding

    References:
        - [Vaswani et al., 2017. Attention Is All You
          Need](https://arxiv.org/abs/1706.03762)
    """
    if not isinstance(model, keras.Model):
        raise ValueError(
            "`model` must be a `keras.Model`. "
            f"Received: model of type {type(model).__name__}"
        )
    max_length = check_positive_int("max_length", max_length)
    start_id = check_positive_int("start_id", start_id)
    end_id = check_positive_int("end_id", end_id)
    check_bool("use_cache", use_cache)
    if start_id == end_id:
        # The start id is never generated, so the end could never come.
        raise ValueError(
            "`start_id` and `end_id` must differ. "
            f"Received: start_id={start_id}, end_id={end_id}"
        )
    vocabulary_size = model.outputs[0].shape[-1]
    for name, value in (("start_id", start_id), ("end_id", end_id)):
        if vocabulary_size is not None and value >= vocabulary_size:
            raise ValueError(
                f"`{name}` must be a target id, below the model's vocabulary "
                f"size {vocabulary_size}. Received: {name}={value}"
            )
    _check_position_table(model, max_length)

    try:
        source = ops.convert_to_numpy(source_ids)
    except ValueError:  # e.g. rows of different lengths
        source = np.asarray(source_ids, dtype=object)
    if source.ndim != 2 or not np.issubdtype(source.dtype, np.integer):
        raise ValueError(
            "`source_ids` must be an integer array of shape (batch, length). "
            f"Received: source_ids with shape {source.shape} and dtype "
            f"{source.dtype}"
        )
    _check_source_ids(model, source)
    if source.shape[0] == 0:
        return np.zeros((0, 0), dtype="int32")
    if source.shape[1] == 0:
        # Keep the encoder's shapes non-empty: one padding column is the
        # same (fully padded) source.
        source = np.zeros((source.shape[0], 1), source.dtype)

    parts = _transformer_parts(model) if use_cache else None
    key = ("cached" if parts else "uncached", max_length, start_id, end_id)
    if parts:
        make_loop = lambda: _cached_loop(parts, max_length, start_id, end_id)
    else:
        make_loop = lambda: _uncached_loop(model, max_length, start_id, end_id)
    loop = compiled_loop(model, key, make_loop)
    steps, tokens = loop(ops.convert_to_tensor(source, dtype="int32"))
    steps = int(ops.convert_to_numpy(steps))
    return ops.convert_to_numpy(tokens)[:, 1 : steps + 1].astype("int32")


def _check_source_ids(model, source):
    # An id outside the embedding table is an error on TensorFlow but a
    # silently clamped lookup on JAX: refuse it before either runs.
    if not source.size:
        return
    try:
        embedding = model.get_layer("source_embedding")
    except ValueError:
        embedding = None
    vocabulary_size = getattr(embedding, "vocabulary_size", None) or getattr(
        embedding, "input_dim", None
    )
    low, high = int(source.min()), int(source.max())
    if low < 0 or (vocabulary_size is not None and high >= vocabulary_size):
        upper = (
            ""
            if vocabulary_size is None
            else f" and below the source vocabulary size {vocabulary_size}"
        )
        raise ValueError(
            f"`source_ids` must be >= 0{upper}. "
            f"Received: source_ids from {low} to {high}"
        )


def _check_position_table(model, max_length):
    # The decoder reads positions 0 .. max_length - 1; a learned table must
    # hold them all (a sinusoidal one has no end).
    try:
        embedding = model.get_layer("target_embedding")
    except ValueError:
        return
    table = getattr(embedding, "sequence_length", None)
    if (
        getattr(embedding, "position_encoding", None) == "learned"
        and table is not None
        and max_length > table
    ):
        raise ValueError(
            "`max_length` must not exceed the target position embedding's "
            f"sequence_length={table}. Received: max_length={max_length}"
        )


def _transformer_parts(model):
    """The layers of a `build_transformer_translator` model, or None."""
    layers = {layer.name: layer for layer in model.layers}

    def stack(prefix, kind):
        blocks = []
        while isinstance(layers.get(f"{prefix}_{len(blocks)}"), kind):
            blocks.append(layers[f"{prefix}_{len(blocks)}"])
        return blocks

    parts = {
        "source_embedding": layers.get("source_embedding"),
        "encoders": stack("encoder", TransformerEncoder),
        "encoder_final_norm": layers.get("encoder_final_norm"),
        "target_embedding": layers.get("target_embedding"),
        "decoders": stack("decoder", TransformerDecoder),
        "decoder_final_norm": layers.get("decoder_final_norm"),
        "logits": layers.get("logits"),
    }
    if not (
        isinstance(parts["source_embedding"], TokenAndPositionEmbedding)
        and isinstance(parts["target_embedding"], TokenAndPositionEmbedding)
        and parts["encoders"]
        and parts["decoders"]
        and parts["logits"] is not None
    ):
        return None
    return parts


def _next_tokens(logits, start_id, end_id, done):
    """Argmax of `(batch, vocabulary)` logits, never PAD or `start_id`."""
    banned = np.zeros((logits.shape[-1],), "float32")
    banned[[PAD_ID, start_id]] = -np.inf
    logits = ops.cast(logits, "float32") + banned
    tokens = ops.cast(ops.argmax(logits, axis=-1), "int32")
    # Rows that already ended get padding.
    tokens = ops.where(done, ops.zeros_like(tokens), tokens)
    return tokens, ops.logical_or(done, ops.equal(tokens, end_id))


def _initial_state(source, max_length, start_id):
    batch = ops.shape(source)[0]
    # Column 0 holds start_id, column t + 1 the token generated at step t.
    tokens = ops.concatenate(
        [
            ops.full((batch, 1), start_id, dtype="int32"),
            ops.zeros((batch, max_length), dtype="int32"),
        ],
        axis=1,
    )
    done = ops.zeros((batch,), "bool")
    return ops.convert_to_tensor(0, "int32"), tokens, done


def _keep_going(max_length):
    def cond(t, tokens, done, *caches):
        return ops.logical_and(
            ops.less(t, max_length), ops.logical_not(ops.all(done))
        )

    return cond


def _uncached_loop(model, max_length, start_id, end_id):
    def loop(source):
        count_trace()
        t, tokens, done = _initial_state(source, max_length, start_id)

        def body(t, tokens, done):
            # The buffer's tail is padding: a causal model ignores it at t.
            logits = model(
                {"source": source, "target": tokens[:, :max_length]},
                training=False,
            )
            step, done = _next_tokens(
                ops.take(logits, t, axis=1), start_id, end_id, done
            )
            tokens = ops.slice_update(tokens, [0, t + 1], step[:, None])
            return t + 1, tokens, done

        t, tokens, done = ops.while_loop(
            _keep_going(max_length), body, (t, tokens, done)
        )
        return t, tokens

    return loop


def _cached_loop(parts, max_length, start_id, end_id):
    source_embedding = parts["source_embedding"]
    target_embedding = parts["target_embedding"]
    decoders = parts["decoders"]

    def optional(layer, x):
        return x if layer is None else layer(x)

    def loop(source):
        count_trace()
        batch = ops.shape(source)[0]
        # The dropout layers after the embeddings are skipped: inference.
        source_mask = source_embedding.compute_mask(source)
        memory = source_embedding(source)
        for encoder in parts["encoders"]:
            memory = encoder(memory, padding_mask=source_mask, training=False)
        memory = optional(parts["encoder_final_norm"], memory)
        cross_caches = tuple(
            decoder.compute_cross_attention_cache(memory)
            for decoder in decoders
        )
        # (batch, 2, max_length, key/value heads, head size), like the cross
        # caches but over the target steps.
        self_caches = tuple(
            ops.zeros(
                (batch, 2, max_length) + tuple(cache.shape[3:]),
                dtype=cache.dtype,
            )
            for cache in cross_caches
        )
        t, tokens, done = _initial_state(source, max_length, start_id)

        def body(t, tokens, done, self_caches):
            current = ops.slice(tokens, [0, t], [batch, 1])
            x = target_embedding(current, start_index=t)
            updated = []
            for decoder, self_cache, cross_cache in zip(
                decoders, self_caches, cross_caches
            ):
                x, self_cache, _ = decoder(
                    x,
                    memory,
                    encoder_padding_mask=source_mask,
                    self_attention_cache=self_cache,
                    self_attention_cache_update_index=t,
                    cross_attention_cache=cross_cache,
                    training=False,
                )
                updated.append(self_cache)
            x = optional(parts["decoder_final_norm"], x)
            logits = parts["logits"](x)[:, 0, :]
            step, done = _next_tokens(logits, start_id, end_id, done)
            tokens = ops.slice_update(tokens, [0, t + 1], step[:, None])
            return t + 1, tokens, done, tuple(updated)

        t, tokens, done, _ = ops.while_loop(
            _keep_going(max_length), body, (t, tokens, done, self_caches)
        )
        return t, tokens

    return loop
