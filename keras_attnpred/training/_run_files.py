"""Names inside a run directory, shared by `train` (which writes it) and
`TrainingRun` (which reads it).

`keras_attnpred.inference.Translator.load` reads the same layout: change it
in both places or not at all.
"""

CONFIG = "config.json"
MODEL = "model.keras"
BEST = "checkpoints/best.keras"
LAST = "checkpoints/last.keras"
BACKUP = "backup"
LOGS = "logs"
METRICS = "metrics.json"
TOKENIZER = "tokenizer"
LABELS = "labels.json"
SOURCE_TOKENIZER = "source_tokenizer"
TARGET_TOKENIZER = "target_tokenizer"
TRANSLATOR = "translator.json"

# The files `TrainingRun.load` needs, by task kind.
REQUIRED = {
    "classification": (CONFIG, MODEL, METRICS, TOKENIZER, LABELS),
    "pretraining": (CONFIG, MODEL, METRICS, TOKENIZER),
    "translation": (
        CONFIG,
        MODEL,
        METRICS,
        SOURCE_TOKENIZER,
        TARGET_TOKENIZER,
        TRANSLATOR,
    ),
}
