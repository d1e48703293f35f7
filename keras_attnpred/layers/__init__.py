"""Attention layers for Keras 3, backend-agnostic (`keras.ops` only)."""

from keras_attnpred.layers.additive_attention import AdditiveAttention
from keras_attnpred.layers.attention_pooling import AttentionPooling
from keras_attnpred.layers.dot_product_attention import DotProductAttention
from keras_attnpred.layers.hashed_bigram_embedding import HashedBigramEmbedding
from keras_attnpred.layers.multi_head_attention import MultiHeadAttention
from keras_attnpred.layers.position_embedding import PositionEmbedding
from keras_attnpred.layers.positional_encoding import PositionalEncoding
from keras_attnpred.layers.rotary_embedding import RotaryEmbedding
from keras_attnpred.layers.token_and_position_embedding import (
    TokenAndPositionEmbedding,
)
from keras_attnpred.layers.transformer_decoder import TransformerDecoder
from keras_attnpred.layers.transformer_encoder import TransformerEncoder
