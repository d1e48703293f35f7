"""Attention layers for Keras 3, backend-agnostic (`keras.ops` only)."""

from keras_attnpred.layers.attention_pooling import AttentionPooling
from keras_attnpred.layers.multi_head_attention import MultiHeadAttention
from keras_attnpred.layers.transformer_decoder import TransformerDecoder
from keras_attnpred.layers.transformer_encoder import TransformerEncoder
