"""Decoding for the translators of `keras_attnpred.models`: greedy and beam
search with key/value caches (Transformer) or carried state (RNN), a
`Translator` that turns text into text and saves with its tokenizers, and
corpus BLEU and chrF with sacrebleu."""

from keras_attnpred.decoding.beam_search import beam_search
from keras_attnpred.decoding.greedy_search import greedy_search
from keras_attnpred.decoding.translation_metrics import translation_metrics
from keras_attnpred.decoding.translator import Translator
