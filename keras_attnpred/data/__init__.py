"""Strict readers for text datasets: classification texts and parallel pairs.

Plain Python and NumPy: importing this subpackage loads neither Keras nor
TensorFlow. Every reader takes a local path or a URL (downloaded once,
complete or not at all, see `text_file.resolve`; `PATH#sha256=HEX` pins
its content); bad rows raise a `ValueError` naming file and line, or
are skipped and counted with `on_error="skip"`. `read_labeled_texts` and
`read_parallel_texts` take any path a run's data settings accept (also
`tfds:NAME[:SPLIT]`) and pick the reader.

`PreparedDataset` holds the token ids of a dataset (`RaggedIds`) as
`attnpred prepare` writes them, and `PreparedBatches` groups them by length
into NumPy batches for `model.fit` on any backend (`token_budget_batches`
for a fixed token budget; pretraining batches are masked by
`mask_token_ids`); the `tf.data` pipelines are in
`keras_attnpred.text`.
"""

from keras_attnpred.data.labeled_texts import LabeledTexts
from keras_attnpred.data.mask_token_ids import mask_token_ids
from keras_attnpred.data.parallel_texts import ParallelTexts
from keras_attnpred.data.prepared_batches import PreparedBatches
from keras_attnpred.data.prepared_dataset import PreparedDataset
from keras_attnpred.data.ragged_ids import RaggedIds
from keras_attnpred.data.read_labeled_texts import read_labeled_texts
from keras_attnpred.data.read_parallel_texts import read_parallel_texts
from keras_attnpred.data.read_texts import read_texts
from keras_attnpred.data.token_budget_batches import token_budget_batches
