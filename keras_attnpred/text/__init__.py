"""Subword tokenization and `tf.data` pipelines for translation and
classification. Unlike `keras_attnpred.layers`, this subpackage needs
TensorFlow and TensorFlow Text (KerasHub to learn a WordPiece vocabulary,
`sentencepiece` for a SentencePiece one)."""

from keras_attnpred.bucket_boundaries import resolve_bucket_boundaries
from keras_attnpred.text.check_tokenizer import check_tokenizer
from keras_attnpred.text.classification_dataset import classification_dataset
from keras_attnpred.text.join_punctuation import join_punctuation
from keras_attnpred.text.load_tokenizer import load_tokenizer
from keras_attnpred.text.load_tokenizer import tokenizer_class
from keras_attnpred.text.padding_fraction import padding_fraction
from keras_attnpred.text.sentence_piece_tokenizer import SentencePieceTokenizer
from keras_attnpred.text.subword_tokenizer import SubwordTokenizer
from keras_attnpred.text.translation_dataset import translation_dataset
