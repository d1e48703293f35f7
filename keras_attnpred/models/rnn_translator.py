import keras
from keras import ops

from keras_attnpred.layers import AdditiveAttention
from keras_attnpred.layers import DotProductAttention
from keras_attnpred.layers.attention_utils import dtype_with_quantized_sublayers
from keras_attnpred.layers.dot_product_attention import SCORES
from keras_attnpred.models._dtype_policies import float32_policy
from keras_attnpred.models.rnn_layer import RNN_TYPES
from keras_attnpred.models.rnn_layer import rnn_layer
from keras_attnpred.reserved_ids import PAD_ID
from keras_attnpred.serialization import register
from keras_attnpred.validation import check_choice
from keras_attnpred.validation import check_positive_int
from keras_attnpred.validation import check_rate

ATTENTION_TYPES = ("bahdanau", "luong")


@register
class RNNTranslator(keras.Model):
    """An RNN encoder–decoder with attention for translation.

    Encoder: `Embedding` → bidirectional GRU/LSTM returning sequences,
    projected to `units` features (the attention memory); its final forward
    and backward states, concatenated and projected (`tanh` for `h`, linear
    for the LSTM cell state `c`), initialise the decoder. Decoder:
    `Embedding` → GRU/LSTM returning sequences; each decoder output `h_t`
    then queries the memory (`AdditiveAttention` for `"bahdanau"`,
    `DotProductAttention(score)` for `"luong"`), and Luong's attentional
    vector `h~_t = tanh(W_c [c_t; h_t])` gives the float32 next-token logits.

    Both variants attend *after* the decoder RNN step, Luong's arrangement:
    `"bahdanau"` swaps in the additive score only. The paper-exact Bahdanau
    decoder, which feeds the context into the RNN input, would need a custom
    recurrent cell and rules out running the decoder over the whole target
    at once.

    Id 0 is padding: the RNNs skip it (so the encoder's final states are
    those of the last real token) and the attention gives it zero weight.

    Step-by-step decoding: `start_decoding` runs the encoder once,
    `decode_step` runs the decoder cell once on the newest token and attends
    with a 2-D query. `cross_attention_weights` gives the alignment of a
    teacher-forced pass.

    Args:
        source_vocabulary_size: int, number of source ids (0 is padding).
        target_vocabulary_size: int, number of target ids (0 is padding),
            also the size of the logits.
        attention: `"bahdanau"` (additive score) or `"luong"`
            (multiplicative score).
        score: the Luong score, one of `"dot"`, `"general"`, `"concat"`,
            `"scaled_dot"`; defaults to `"general"`. Only with
            `attention="luong"`.
        rnn: `"gru"` or `"lstm"`.
        embedding_dim: int, size of the token embeddings.
        units: int, size of the decoder RNN, of each encoder direction, of
            the attention memory and of the attentional vector.
        dropout: float in [0, 1), on the embeddings and the attentional
            vector.
        **kwargs: `keras.Model` arguments such as `name`.

    Call arguments:
        inputs: dict `{"source": (batch, S) int, "target": (batch, T) int}`,
            the target shifted right, starting with the start id.

    Returns:
        Float32 logits `(batch, T, target_vocabulary_size)`.

    Example:

    >>> translator = RNNTranslator(50, 60, attention="luong", units=8,
    ...                            embedding_dim=4)
    >>> source, target = np.array([[5, 6, 0]]), np.array([[2, 9]])
    >>> logits = translator({"source": source, "target": target})
    >>> context, state = translator.start_decoding(source, max_length=4)
    >>> step_logits, state = translator.decode_step(
    ...     context, target[:, :1], 0, state)
    >>> np.allclose(step_logits, logits[:, 0], atol=1e-5)
    True

    References:
        - [Bahdanau et al., 2015. Neural Machine Translation by Jointly
          Learning to Align and Translate](https://arxiv.org/abs/1409.0473)
        - [Luong et al., 2015. Effective Approaches to Attention-based
          Neural Machine Translation](https://arxiv.org/abs/1508.04025)
    """

    def __init__(
        self,
        source_vocabulary_size,
        target_vocabulary_size,
        attention="bahdanau",
        score=None,
        rnn="gru",
        embedding_dim=128,
        units=256,
        dropout=0.0,
        dtype=None,
        **kwargs,
    ):
        check_positive_int("source_vocabulary_size", source_vocabulary_size)
        check_positive_int("target_vocabulary_size", target_vocabulary_size)
        check_choice("attention", attention, ATTENTION_TYPES)
        if score is not None:
            check_choice("score", score, SCORES)
            if attention != "luong":
                raise ValueError(
                    "`score` is only used with `attention='luong'`. "
                    f"Received: score={score!r}, attention={attention!r}"
                )
        check_choice("rnn", rnn, RNN_TYPES)
        check_positive_int("embedding_dim", embedding_dim)
        check_positive_int("units", units)
        check_rate("dropout", dropout)

        # === Layers ===
        self.source_embedding = keras.layers.Embedding(
            source_vocabulary_size,
            embedding_dim,
            mask_zero=True,
            dtype=dtype, name="source_embedding",
        )
        self.source_embedding_dropout = keras.layers.Dropout(
            dropout, dtype=dtype, name="source_embedding_dropout"
        )
        self.encoder_rnn = keras.layers.Bidirectional(
            rnn_layer(rnn, units, "encoder_rnn_cell", return_state=True),
            name="encoder_rnn",
        )
        self.encoder_projection = keras.layers.Dense(
            units, dtype=dtype, name="encoder_projection"
        )
        self.final_state_concat = [
            keras.layers.Concatenate(dtype=dtype, name=f"final_state_{kind}")
            for kind in ("h", "c")[: 2 if rnn == "lstm" else 1]
        ]
        self.initial_state_projections = [
            keras.layers.Dense(units, activation="tanh", dtype=dtype, name="initial_state_h")
        ]
        if rnn == "lstm":
            self.initial_state_projections.append(
                keras.layers.Dense(units, dtype=dtype, name="initial_state_c")
            )
        self.target_embedding = keras.layers.Embedding(
            target_vocabulary_size,
            embedding_dim,
            mask_zero=True,
            dtype=dtype, name="target_embedding",
        )
        self.target_embedding_dropout = keras.layers.Dropout(
            dropout, dtype=dtype, name="target_embedding_dropout"
        )
        self.decoder_rnn = rnn_layer(rnn, units, "decoder_rnn")
        if attention == "bahdanau":
            self.attention = AdditiveAttention(units=units, dtype=dtype, name="attention")
        else:
            self.attention = DotProductAttention(
                score=score or "general", dtype=dtype, name="attention"
            )
        self.attention_concat = keras.layers.Concatenate(
            dtype=dtype, name="attention_concat"
        )
        self.attentional_vector = keras.layers.Dense(
            units, activation="tanh", use_bias=False, dtype=dtype, name="attentional_vector"
        )
        self.attentional_vector_dropout = keras.layers.Dropout(
            dropout, dtype=dtype, name="attentional_vector_dropout"
        )
        self.logits_layer = keras.layers.Dense(
            target_vocabulary_size, dtype=float32_policy(dtype), name="logits"
        )

        # === Functional model ===
        source = keras.Input(shape=(None,), dtype="int32", name="source")
        target = keras.Input(shape=(None,), dtype="int32", name="target")
        memory, source_mask, initial_state = self._encode(source, None)
        target_mask = ops.not_equal(target, PAD_ID)
        y = self.target_embedding(target)
        y = self.target_embedding_dropout(y)
        decoded = self.decoder_rnn(
            y, initial_state=initial_state, mask=target_mask
        )
        context = self.attention(
            decoded, memory, query_mask=target_mask, value_mask=source_mask
        )
        attentional = self.attentional_vector(
            self.attention_concat([context, decoded])
        )
        logits = self.logits_layer(self.attentional_vector_dropout(attentional))
        super().__init__(
            inputs={"source": source, "target": target},
            outputs=logits,
            **kwargs,
        )

        # === Config ===
        self.source_vocabulary_size = source_vocabulary_size
        self.target_vocabulary_size = target_vocabulary_size
        self.attention_type = attention
        self.score = score
        self.rnn_type = rnn
        self.embedding_dim = embedding_dim
        self.units = units
        self.dropout = dropout

    def _encode(self, source, training):
        source_mask = ops.not_equal(source, PAD_ID)
        x = self.source_embedding(source)
        x = self.source_embedding_dropout(x, training=training)
        # GRU: [sequences, h_fwd, h_bwd]; LSTM: [sequences, h_fwd, c_fwd,
        # h_bwd, c_bwd].
        sequences, *states = self.encoder_rnn(
            x, mask=source_mask, training=training
        )
        memory = self.encoder_projection(sequences)
        half = len(states) // 2
        forward, backward = states[:half], states[half:]
        initial_state = [
            projection(concat([forward[i], backward[i]]))
            for i, (concat, projection) in enumerate(
                zip(self.final_state_concat, self.initial_state_projections)
            )
        ]
        return memory, source_mask, initial_state

    @property
    def max_decoding_length(self):
        """None: an RNN decoder has no position table."""
        return None

    def encode(self, source_ids, training=False):
        """`(memory, source_mask)`: the projected encoder outputs
        `(batch, S, units)` and bool `(batch, S)`."""
        source_ids = ops.convert_to_tensor(source_ids, dtype="int32")
        memory, source_mask, _ = self._encode(source_ids, training)
        return memory, source_mask

    def start_decoding(self, source_ids, max_length):
        """Encodes the source once for step-by-step decoding.

        Args:
            source_ids: int tensor `(batch, S)`, 0-padded.
            max_length: int, the most steps that will be decoded (unused:
                the state does not grow).

        Returns:
            `(context, state)`: `(memory, source_mask)` and the decoder's
            initial RNN state, tuples of tensors whose first axis is the
            batch.
        """
        del max_length
        source_ids = ops.convert_to_tensor(source_ids, dtype="int32")
        memory, source_mask, initial_state = self._encode(source_ids, False)
        return (memory, source_mask), tuple(initial_state)

    def decode_step(self, context, token_ids, index, state):
        """One decoder step: the RNN cell once, then attention.

        Args:
            context: from `start_decoding`.
            token_ids: int tensor `(batch, 1)`, the newest token.
            index: its position (unused: the state carries it).
            state: the RNN state.

        Returns:
            `(logits, state)`: float32 `(batch, target_vocabulary_size)` and
            the new RNN state.
        """
        del index
        memory, source_mask = context
        # Squeezed after the embedding: the cell takes no Keras mask.
        x = ops.squeeze(self.target_embedding(token_ids), 1)
        output, state = self.decoder_rnn.cell(x, list(state), training=False)
        context_vector = self.attention(
            output, memory, value_mask=source_mask, training=False
        )
        combined = self.attention_concat([context_vector, output])
        logits = self.logits_layer(self.attentional_vector(combined))
        return ops.cast(logits, "float32"), tuple(state)

    def cross_attention_weights(self, source_ids, target_ids):
        """The attention of a teacher-forced pass, as one layer and head.

        Returns:
            Float32 `(batch, 1, 1, T, S)`, in the layout of
            `TransformerTranslator.cross_attention_weights`.
        """
        source_ids = ops.convert_to_tensor(source_ids, dtype="int32")
        target_ids = ops.convert_to_tensor(target_ids, dtype="int32")
        memory, source_mask, initial_state = self._encode(source_ids, False)
        target_mask = ops.not_equal(target_ids, PAD_ID)
        decoded = self.decoder_rnn(
            self.target_embedding(target_ids),
            initial_state=initial_state,
            mask=target_mask,
            training=False,
        )
        _, weights = self.attention(
            decoded,
            memory,
            query_mask=target_mask,
            value_mask=source_mask,
            return_attention_scores=True,
            training=False,
        )
        return ops.cast(weights[:, None, None], "float32")

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": dtype_with_quantized_sublayers(self),
            "source_vocabulary_size": self.source_vocabulary_size,
            "target_vocabulary_size": self.target_vocabulary_size,
            "attention": self.attention_type,
            "score": self.score,
            "rnn": self.rnn_type,
            "embedding_dim": self.embedding_dim,
            "units": self.units,
            "dropout": self.dropout,
        }
