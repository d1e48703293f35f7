"""One decoder step at a time, for the search loops (private).

A step decoder turns a translator into two functions that the search loops
(`greedy_search`, `beam_search`) run inside `keras.ops.while_loop`:

- `start(source)` encodes the source once and returns `(context, state)`:
  `context` holds what every step reads but never changes (the encoder
  output, the source mask, the cross-attention caches); `state` what each
  step updates (the self-attention caches, the RNN state). Both are tuples
  of tensors whose first axis is the batch, so a beam search can repeat them
  per hypothesis and reorder `state` by each hypothesis's parent.
- `step(context, tokens, t, state)` returns the float32 next-token logits
  `(batch, vocabulary)` at step `t` and the new state. `tokens` is the
  `(batch, max_length + 1)` buffer of the ids so far: column 0 the start id,
  column `i + 1` the id generated at step `i`, padding after column `t`.

Three kinds:

- `TransformerSteps` (`build_transformer_translator`): each step runs the
  decoder on the newest token only, through the blocks' self-attention
  key/value caches; the cross-attention keys and values are projected once.
- `RNNSteps` (`build_rnn_translator`): each step runs the decoder cell once
  on the newest token, carrying its state, and attends with a 2-D query.
- `UncachedSteps` (any model): each step re-runs the whole model on the
  source and the token buffer and reads the logits at `t`.
"""

import keras
import numpy as np
from keras import ops

from keras_attnpred.models._model_utils import numbered_layers
from keras_attnpred.layers import AdditiveAttention
from keras_attnpred.layers import DotProductAttention
from keras_attnpred.layers import TokenAndPositionEmbedding
from keras_attnpred.layers import TransformerDecoder
from keras_attnpred.layers import TransformerEncoder

PAD_ID = 0


def step_decoder(model, use_cache):
    """`(kind, parts)`: the fastest step decoder class `model` allows.

    `kind(parts, max_length)` makes the decoder; `kind.name` names it.
    Building it may build a Keras model, so the search loops build it only
    when they compile a new loop.
    """
    if use_cache:
        for kind in (TransformerSteps, RNNSteps):
            parts = kind.parts(model)
            if parts is not None:
                return kind, parts
    return UncachedSteps, model


def _optional(layer, x):
    return x if layer is None else layer(x)


class UncachedSteps:
    name = "uncached"

    def __init__(self, model, max_length):
        self.model = model
        self.max_length = max_length

    @staticmethod
    def parts(model):
        return model

    def start(self, source):
        return (source,), ()

    def step(self, context, tokens, t, state):
        (source,) = context
        # The buffer's tail is padding: a causal model ignores it at t.
        logits = self.model(
            {"source": source, "target": tokens[:, : self.max_length]},
            training=False,
        )
        return ops.cast(ops.take(logits, t, axis=1), "float32"), state


class TransformerSteps:
    name = "transformer"

    def __init__(self, parts, max_length):
        self.parts = parts
        self.max_length = max_length

    @staticmethod
    def parts(model):
        """The layers of a `build_transformer_translator` model, or None."""
        layers = {layer.name: layer for layer in model.layers}
        parts = {
            "source_embedding": layers.get("source_embedding"),
            "encoders": numbered_layers(model, "encoder", TransformerEncoder),
            "encoder_final_norm": layers.get("encoder_final_norm"),
            "target_embedding": layers.get("target_embedding"),
            "decoders": numbered_layers(model, "decoder", TransformerDecoder),
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

    def start(self, source):
        parts = self.parts
        batch = ops.shape(source)[0]
        # The dropout layers after the embeddings are skipped: inference.
        source_mask = parts["source_embedding"].compute_mask(source)
        memory = parts["source_embedding"](source)
        for encoder in parts["encoders"]:
            memory = encoder(memory, padding_mask=source_mask, training=False)
        memory = _optional(parts["encoder_final_norm"], memory)
        cross_caches = tuple(
            decoder.compute_cross_attention_cache(memory)
            for decoder in parts["decoders"]
        )
        # (batch, 2, max_length, key/value heads, head size), like the cross
        # caches but over the target steps.
        self_caches = tuple(
            ops.zeros(
                (batch, 2, self.max_length) + tuple(cache.shape[3:]),
                dtype=cache.dtype,
            )
            for cache in cross_caches
        )
        return (memory, source_mask, cross_caches), self_caches

    def step(self, context, tokens, t, state):
        current = ops.expand_dims(ops.take(tokens, t, axis=1), 1)
        return self.token_step(context, current, t, state)

    def token_step(self, context, current, t, state):
        """`step` on `current` `(batch, 1)`, the token at position `t`.

        The TFLite decoder step runs this alone. The encoder output in
        `context` only lends its shape: the cross-attention reads the
        caches.
        """
        parts = self.parts
        memory, source_mask, cross_caches = context
        x = parts["target_embedding"](current, start_index=t)
        updated = []
        for decoder, self_cache, cross_cache in zip(
            parts["decoders"], state, cross_caches
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
        x = _optional(parts["decoder_final_norm"], x)
        logits = parts["logits"](x)[:, 0, :]
        return ops.cast(logits, "float32"), tuple(updated)


class RNNSteps:
    name = "rnn"

    def __init__(self, parts, max_length):
        self.parts = parts
        self.max_length = max_length
        # The encoder half of the model's own graph: the masks flow through
        # the bidirectional RNN exactly as in training.
        model = parts["model"]
        outputs = [model.get_layer("encoder_projection").output]
        outputs += [layer.output for layer in parts["initial_states"]]
        self.encoder = keras.Model(
            model.get_layer("source_embedding").input, outputs
        )

    @staticmethod
    def parts(model):
        """The layers of a `build_rnn_translator` model, or None."""
        layers = {layer.name: layer for layer in model.layers}
        rnn = layers.get("decoder_rnn")
        states = [layers.get("initial_state_h")]
        if isinstance(rnn, keras.layers.LSTM):
            states.append(layers.get("initial_state_c"))
        parts = {
            "model": model,
            "source_embedding": layers.get("source_embedding"),
            "initial_states": states,
            "target_embedding": layers.get("target_embedding"),
            "decoder_rnn": rnn,
            "attention": layers.get("attention"),
            "attention_concat": layers.get("attention_concat"),
            "attentional_vector": layers.get("attentional_vector"),
            "logits": layers.get("logits"),
        }
        if not (
            isinstance(parts["source_embedding"], keras.layers.Embedding)
            and isinstance(parts["target_embedding"], keras.layers.Embedding)
            and isinstance(rnn, (keras.layers.GRU, keras.layers.LSTM))
            and isinstance(
                parts["attention"], (AdditiveAttention, DotProductAttention)
            )
            and "encoder_projection" in layers
            and all(layer is not None for layer in parts.values())
            and all(layer is not None for layer in states)
        ):
            return None
        return parts

    def start(self, source):
        memory, *states = self.encoder(source, training=False)
        source_mask = self.parts["source_embedding"].compute_mask(source)
        return (memory, source_mask), tuple(states)

    def step(self, context, tokens, t, state):
        parts = self.parts
        memory, source_mask = context
        current = ops.expand_dims(ops.take(tokens, t, axis=1), 1)
        # Squeezed after the embedding: the cell takes no Keras mask.
        x = ops.squeeze(parts["target_embedding"](current), 1)
        # The cell of the decoder RNN: one step, state in, state out.
        output, state = parts["decoder_rnn"].cell(
            x, list(state), training=False
        )
        context_vector = parts["attention"](
            output, memory, value_mask=source_mask, training=False
        )
        combined = parts["attention_concat"]([context_vector, output])
        logits = parts["logits"](parts["attentional_vector"](combined))
        return ops.cast(logits, "float32"), tuple(state)


def repeat_rows(structure, copies):
    """Each tensor's rows repeated `copies` times in place (beam layout)."""
    return keras.tree.map_structure(
        lambda x: ops.repeat(x, copies, axis=0), structure
    )


def take_rows(structure, indices):
    """Each tensor's rows `indices` (a beam's parents)."""
    return keras.tree.map_structure(
        lambda x: ops.take(x, indices, axis=0), structure
    )


def banned_logits(vocabulary_size, banned_ids):
    """A float32 row adding -inf to `banned_ids` and 0 elsewhere."""
    row = np.zeros((vocabulary_size,), "float32")
    row[list(banned_ids)] = -np.inf
    return row


def initial_tokens(batch, max_length, start_id):
    """The `(batch, max_length + 1)` token buffer: `start_id`, then 0."""
    # Column 0 holds start_id, column t + 1 the token generated at step t.
    return ops.concatenate(
        [
            ops.full((batch, 1), start_id, dtype="int32"),
            ops.zeros((batch, max_length), dtype="int32"),
        ],
        axis=1,
    )
