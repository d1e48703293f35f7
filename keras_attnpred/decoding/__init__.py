"""Decoding for the translators of `keras_attnpred.models`: greedy and beam
search with key/value caches (Transformer) or carried state (RNN), and
corpus BLEU and chrF with sacrebleu. `keras_attnpred.inference.Translator`
turns text into text with them.

The search loops themselves (`greedy_loop`, `beam_loop`), what they decode
through (`step_decoder`) and the check of a decoding length against the
model (`check_decoding_length`) are public too, for exporters that trace
the loops into graphs of their own."""

from keras_attnpred.decoding.beam_loop import beam_loop
from keras_attnpred.decoding.beam_search import beam_search
from keras_attnpred.decoding.check_decoding_length import check_decoding_length
from keras_attnpred.decoding.greedy_loop import greedy_loop
from keras_attnpred.decoding.greedy_search import greedy_search
from keras_attnpred.decoding.step_decoder import step_decoder
from keras_attnpred.decoding.translation_metrics import translation_metrics
