"""Strict readers for text datasets: classification texts and parallel pairs.

Plain Python and NumPy: importing this subpackage loads neither Keras nor
TensorFlow (Keras is imported only to download a URL). Every reader takes a
local path or a URL; bad rows raise a `ValueError` naming file and line, or
are skipped and counted with `on_error="skip"`. `read_labeled_texts` and
`read_parallel_texts` take any path a run's data settings accept (also
`tfds:NAME[:SPLIT]`) and pick the reader.

`token_budget_batches` groups NumPy token ids by length into batches of a
fixed token budget, for jit-compiled training without `tf.data` (the
`tf.data` pipelines are in `keras_attnpred.text`).
"""

from keras_attnpred.data.labeled_texts import LabeledTexts
from keras_attnpred.data.parallel_texts import ParallelTexts
from keras_attnpred.data.read_labeled_texts import read_labeled_texts
from keras_attnpred.data.read_parallel_texts import read_parallel_texts
from keras_attnpred.data.token_budget_batches import token_budget_batches
