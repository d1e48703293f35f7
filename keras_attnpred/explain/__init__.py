"""See what the attention learned: alignments of translators, token
importance of classifiers (attention pooling and attention rollout), subword
merging, heatmap PNGs, highlighted HTML pages, an interactive page of every
layer and head (`AttentionExplorer`) and a TensorBoard callback.

Pictures need matplotlib (`pip install 'keras-attnpred[explain]'`), imported
only when one is drawn; the callback needs TensorFlow for its summaries.
"""

from keras_attnpred.explain.alignment import Alignment
from keras_attnpred.explain.attention_explorer import AttentionExplorer
from keras_attnpred.explain.attention_heatmap import attention_heatmap
from keras_attnpred.explain.attention_map_callback import AttentionMapCallback
from keras_attnpred.explain.attention_rollout import attention_rollout
from keras_attnpred.explain.explain_classification import explain_classification
from keras_attnpred.explain.importance_html import importance_html
from keras_attnpred.explain.merge_subwords import merge_subwords
from keras_attnpred.explain.self_attention_weights import self_attention_weights
from keras_attnpred.explain.text_explanation import TextExplanation
from keras_attnpred.explain.token_importance import token_importance
from keras_attnpred.explain.translation_alignment import translation_alignment
