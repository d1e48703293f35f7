"""Decoding for the translators of `keras_attnpred.models`: greedy and beam
search with key/value caches (Transformer) or carried state (RNN), and
corpus BLEU and chrF with sacrebleu. `keras_attnpred.inference.Translator`
turns text into text with them."""

from keras_attnpred.decoding.beam_search import beam_search
from keras_attnpred.decoding.greedy_search import greedy_search
from keras_attnpred.decoding.translation_metrics import translation_metrics
