import dataclasses
import json
import math
import os
import reprlib

from keras_attnpred.validation import MAX_BIGRAM_BUCKETS
from keras_attnpred.validation import MAX_BIGRAM_VOCABULARY_SIZE

# Plain Python on purpose: a command line can read and check a configuration
# without loading TensorFlow.

TASKS = ("translation", "classification", "sentiment", "pretraining")
MODELS = ("transformer", "rnn")
ATTENTIONS = ("bahdanau", "luong")
PRESETS = ("tiny", "small", "base", "large")
MIXED_PRECISION = ("float32", "mixed_float16", "mixed_bfloat16")
STRATEGIES = ("auto", "one-device", "mirrored", "multi-worker", "tpu")
TOKENIZERS = ("wordpiece", "sentencepiece")
RNNS = ("gru", "lstm")
MONITORS = ("val_loss", "val_accuracy")
LEARNING_RATE_DECAYS = ("cosine",)
OBJECTIVES = ("mlm", "electra")
# The settings that make a prepared dataset (`prepare`); the others are
# training's own.
PREPARATION_FIELDS = (
    "task",
    "train_path",
    "validation_path",
    "test_path",
    "validation_fraction",
    "text_column",
    "label_column",
    "label_names",
    "delimiter",
    "reverse",
    "vocabulary_size",
    "tokenizer",
    "max_examples",
    "unlabeled_path",
    "unlabeled_text_column",
)


@dataclasses.dataclass
class TrainingConfig:
    """Everything `train` needs to know, readable from YAML or JSON.

    Data: `train_path` is read as a CSV/TSV of labelled texts for
    classification (`LabeledTexts.from_csv`), and for translation either as
    one TSV of pairs (`ParallelTexts.from_tsv`, source in column 0) or, when
    given as a list of two paths, as two line-aligned files
    (`ParallelTexts.from_files`). `validation_path` and `test_path` take the
    same forms. Without `validation_path`, a seeded random
    `validation_fraction` of the training file is held out.

    Any of the three may instead name a TensorFlow Datasets split,
    `"tfds:NAME"` or `"tfds:NAME:SPLIT"` (needs `tensorflow-datasets`), e.g.
    `"tfds:imdb_reviews"`: without a split, `train_path` reads `"train"`,
    `validation_path` `"validation"` and `test_path` `"test"`. For
    classification `text_column` and `label_column` name its features
    (`LabeledTexts.from_tfds`); for translation its `supervised_keys` are
    the source and the target (`ParallelTexts.from_tfds`).

    `"sentiment"` is classification with its class names kept for people:
    labels `0`/`1` without `label_names` are named `"negative"` and
    `"positive"`.

    Args:
        task: `"translation"`, `"classification"`, `"sentiment"` or
            `"pretraining"` (masked-language-model pretraining of a
            Transformer encoder on unlabelled texts, `attnpred pretrain`).
        train_path: str, or for translation a list of two str; for
            pretraining a str or a list of str, read as one corpus (a
            `.csv`/`.tsv` file's `text_column`, any other file one text a
            line).
        model: `"transformer"` or `"rnn"`.
        attention: `"bahdanau"` or `"luong"`, the attention of RNN
            translators.
        preset: `"tiny"`, `"small"`, `"base"` or `"large"`: the
            Transformer presets of
            `keras_attnpred.models`; for RNNs embedding/units of
            32/64, 128/128 and 256/256.
        validation_path: optional, like `train_path`.
        test_path: optional, like `train_path`; adds test metrics.
        validation_fraction: float in (0, 1), used without
            `validation_path`.
        text_column: classification text column, name or 0-based index.
        label_column: classification label column, name or 0-based index.
        label_names: optional list of str fixing the classes and their order.
        delimiter: optional one character, the field delimiter of CSV/TSV
            files; None (the default) takes a tab for `.tsv` names and
            otherwise detects `,`, `;` or a tab from the header line.
        reverse: bool, translate from the second language to the first.
        prepared: optional path of a folder written by `prepare`
            (`attnpred prepare`): train on its token ids instead of reading
            and tokenizing the data. Its settings fill the data fields
            left at their defaults (a default given explicitly counts as
            left), and its data paths replace these (the files may sit
            elsewhere now); any other data field given another value than
            the folder's raises. `train_path` may then be None.
        max_length: optional int >= 2, the most tokens per sequence. None
            (the default) fits it to the training data: the 95th percentile
            of the text lengths for classification, the longest pair for
            translation, rounded up to a multiple of 8 and at most 512
            (256 for translation). The run records the value used.
        head_tokens: optional int < `max_length`, classification: a text
            longer than `max_length` keeps its first `head_tokens` tokens
            and its last `max_length - head_tokens` (reviews often give
            their verdict at the end). Default: its first `max_length`.
        vocabulary_size: int > 4, the largest vocabulary of each tokenizer.
        tokenizer: `"wordpiece"` (`SubwordTokenizer`) or `"sentencepiece"`
            (`SentencePieceTokenizer`, needs the `sentencepiece` package),
            learned on the training part.
        epochs: int > 0.
        batch_size: int > 0, the global batch size (over all replicas).
        max_tokens: optional int >= `max_length`: batches of a token
            budget instead (`token_budget_batches`): `max_tokens // L`
            sequences of bucket length `L`; `batch_size` is then unused.
        learning_rate: float > 0, or `"transformer"` for
            `TransformerSchedule` (with Adam's beta_2=0.98, epsilon=1e-9).
        learning_rate_decay: None, or `"cosine"`: a float `learning_rate`
            decays along a cosine to 5% of itself over all the steps.
        weight_decay: float >= 0; above 0 the optimizer is AdamW with this
            decoupled weight decay.
        warmup_steps: optional int > 0: the linear warm-up of the learning
            rate, in steps; None gives 4000 for `"transformer"` and no
            warm-up for a float `learning_rate`.
        label_smoothing: float in [0, 1).
        clipnorm: optional float > 0, gradient norm clipping.
        mixed_precision: `"float32"`, `"mixed_float16"` or
            `"mixed_bfloat16"`.
        flash_attention: bool; False trains without fused attention
            kernels (`keras.config.disable_flash_attention()` while `train`
            runs), e.g. where a fused kernel makes the loss NaN.
        strategy: `"auto"`, `"one-device"`, `"mirrored"`, `"multi-worker"`
            or `"tpu"` (see `get_strategy`).
        seed: int >= 0, for splits, shuffling, initial weights and dropout.
        early_stopping_patience: optional int > 0: stop after that many
            epochs without a better `monitor` value; the weights of the
            best epoch are restored at the end.
        time_limit: optional float > 0, seconds: stop at the end of the
            first epoch after which another epoch as long as the last one
            would end past this many seconds from the start of `fit` (the
            run is saved as after its last epoch; `metrics.json` says
            `stopped_by_time_limit`).
        monitor: `"val_loss"` or `"val_accuracy"`: what picks the best
            epoch (early stopping, `checkpoints/best.keras`, averaging).
        average_last_epochs: optional int >= 2: checkpoint averaging
            (Vaswani et al., 2017). The weights of the epochs up to the best
            one, this many of them (an interrupted call's too), are
            averaged, and the average is kept when it scores better on the
            validation part than the best epoch.
        bucket_boundaries: None, `"auto"` or a strictly increasing list of
            ints, as in `classification_dataset`.
        max_examples: optional int > 0, keep only the first examples of the
            training part, for quick runs.
        bigram_buckets: optional int in [1, 2**24], classifiers only: add hashed
            bigram embeddings with this many rows to the token embeddings
            (`HashedBigramEmbedding`); `vocabulary_size` must then be at
            most 46,340.
        dropout: optional float in [0, 1), the model's dropout (default:
            the preset's for Transformers, 0 for RNNs).
        activation_dropout: optional float in [0, 1), Transformers: the
            dropout inside the feed-forward blocks (default: none).
        embedding_dim: optional int > 0, RNNs: overrides the preset.
        units: optional int > 0, RNNs: overrides the preset.
        rnn: `"gru"` or `"lstm"`, the cell of RNN models.
        bidirectional: bool, RNN classifiers: run the RNN both ways.
        mask_rate: float in (0, 1), pretraining: the share of words to
            predict (whole-word masking, `mask_token_ids`).
        objective: pretraining: `"mlm"` (masked-language modelling,
            `MaskedLanguageModel`) or `"electra"` (replaced-token
            detection, `ElectraPretrainer`, with a generator a quarter of
            the encoder's width).
        pack_texts: bool, pretraining: rows of `max_length` consecutive
            ids of the texts joined with `[END]` instead of one text a row
            (`PreparedBatches`): no padding and one batch shape, so one
            compilation; takes no `bucket_boundaries`.
        init_from: optional path of a pretraining run (`attnpred
            pretrain`): a Transformer classifier starts from its encoder,
            with its tokenizer, `preset` and `bigram_buckets`, and its
            `max_length` unless a shorter one is given.
        lora_rank: optional int > 0, with `init_from`: fine-tune with LoRA
            (`TransformerEncoderBackbone.enable_lora`): the encoder stays
            frozen but for rank-`lora_rank` updates of its projections; the
            classifier head trains in full. The saved model has the updates
            merged.
        layer_decay: optional float in (0, 1], Transformer classifiers:
            layer-wise learning-rate decay (`LayerwiseDecayAdamW`): the
            rate of encoder block `i` of `L` is multiplied by
            `layer_decay ** (L - i)`, of the embeddings by
            `layer_decay ** (L + 1)`; the head keeps the full rate.
        attention_maps: optional int > 0: at the end of every epoch, write
            the attention of this many validation texts to TensorBoard
            (`AttentionMapCallback`, `logs/attention/`) and, for
            classifiers, the validation confusion matrix
            (`logs/confusion_matrix/`); needs TensorFlow and matplotlib.
        teacher: optional path of a finished run of the same kind
            (`attnpred distill`): knowledge distillation into this run's
            model, which must use the teacher's tokenizer(s) (and labels)
            and at most its `max_length` (the teacher's when left out).
            Classifiers learn from the teacher's softened probabilities
            and the labels (`keras_attnpred.models.Distiller`); translators
            train on the teacher's beam-search translations of the
            training sources (sequence-level distillation). The run keeps
            the student only: an ordinary run.
        distillation_temperature: float > 0, classifiers: the softmax
            temperature of the teacher's and the student's probabilities.
        distillation_alpha: float in [0, 1], classifiers: the weight of
            the teacher's term, `1 - alpha` that of the labels.
        distillation_attention_weight: float >= 0, Transformer classifiers:
            the weight of the last-layer self-attention transfer (MiniLM).
        distillation_beam_width: int > 0, translators: the beam of the
            teacher's translations.
        distillation_keep_references: bool, translators: train on the
            reference translations as well as the teacher's.
        unlabeled_path: optional path or list of paths, classification with
            a `teacher`: unlabelled texts (a `.csv`/`.tsv` file's
            `unlabeled_text_column`, any other file one text a line) that
            the student learns from the teacher alone; the `"unlabeled"`
            part of a prepared folder.
        unlabeled_text_column: the text column of `unlabeled_path`.

    Example:

    >>> config = TrainingConfig.from_dict(
    ...     {"task": "sentiment", "train_path": "reviews.csv",
    ...      "preset": "tiny", "epochs": 2})
    >>> TrainingConfig.from_dict(config.to_dict()) == config
    True
    """

    task: str
    train_path: object = None
    model: str = "transformer"
    attention: str = "bahdanau"
    preset: str = "small"
    validation_path: object = None
    test_path: object = None
    validation_fraction: float = 0.1
    text_column: object = "text"
    label_column: object = "label"
    label_names: object = None
    delimiter: object = None
    reverse: bool = False
    prepared: object = None
    max_length: object = None
    head_tokens: object = None
    vocabulary_size: int = 8000
    tokenizer: str = "wordpiece"
    epochs: int = 10
    batch_size: int = 64
    max_tokens: object = None
    learning_rate: object = 1e-3
    learning_rate_decay: object = None
    weight_decay: float = 0.0
    warmup_steps: object = None
    label_smoothing: float = 0.0
    clipnorm: object = None
    mixed_precision: str = "float32"
    flash_attention: bool = True
    strategy: str = "auto"
    seed: int = 0
    early_stopping_patience: object = None
    time_limit: object = None
    bucket_boundaries: object = None
    max_examples: object = None
    bigram_buckets: object = None
    monitor: str = "val_loss"
    average_last_epochs: object = None
    dropout: object = None
    activation_dropout: object = None
    embedding_dim: object = None
    units: object = None
    rnn: str = "gru"
    bidirectional: bool = True
    mask_rate: float = 0.15
    objective: str = "mlm"
    pack_texts: bool = False
    init_from: object = None
    lora_rank: object = None
    layer_decay: object = None
    attention_maps: object = None
    teacher: object = None
    distillation_temperature: float = 2.0
    distillation_alpha: float = 0.5
    distillation_attention_weight: float = 0.0
    distillation_beam_width: int = 4
    distillation_keep_references: bool = False
    unlabeled_path: object = None
    unlabeled_text_column: object = "text"

    def __post_init__(self):
        _choice("task", self.task, TASKS)
        _choice("model", self.model, MODELS)
        _choice("attention", self.attention, ATTENTIONS)
        _choice("preset", self.preset, PRESETS)
        _choice("mixed_precision", self.mixed_precision, MIXED_PRECISION)
        _bool("flash_attention", self.flash_attention)
        _choice("strategy", self.strategy, STRATEGIES)
        _choice("tokenizer", self.tokenizer, TOKENIZERS)
        _choice("rnn", self.rnn, RNNS)
        _choice("monitor", self.monitor, MONITORS)
        translation = self.task == "translation"
        # A pretraining corpus may span files, its validation texts too.
        for name, allow_none in (
            ("train_path", self.prepared is not None),
            ("validation_path", True),
        ):
            value = getattr(self, name)
            if self.task == "pretraining" and isinstance(value, (list, tuple)):
                if not value or not all(isinstance(p, str) and p for p in value):
                    _bad(name, value, "a path or a non-empty list of paths")
                setattr(self, name, list(value))
            else:
                setattr(self, name, _path(name, value, translation, allow_none))
        if self.prepared is not None and (
            not isinstance(self.prepared, str) or not self.prepared
        ):
            _bad("prepared", self.prepared, "None or a folder path")
        self.test_path = _path("test_path", self.test_path, translation, True)
        _number("validation_fraction", self.validation_fraction, 0, 1)
        for name in ("text_column", "label_column"):
            value = getattr(self, name)
            if not _is_int(value, 0) and not (
                isinstance(value, str) and value
            ):
                _bad(name, value, "a column name or a 0-based index")
        if self.label_names is not None:
            names = self.label_names
            if (
                not isinstance(names, (list, tuple))
                or not names
                or not all(isinstance(n, str) and n for n in names)
                or len(set(names)) != len(names)
            ):
                _bad("label_names", names, "a non-empty list of distinct str")
            self.label_names = list(names)
        if self.delimiter is not None and (
            not isinstance(self.delimiter, str) or len(self.delimiter) != 1
        ):
            _bad("delimiter", self.delimiter, "None or one character")
        _bool("reverse", self.reverse)
        _int("max_length", self.max_length, 2, True)
        _int("head_tokens", self.head_tokens, 0, True)
        if self.head_tokens is not None:
            if translation:
                _bad("head_tokens", self.head_tokens,
                     "None for translation (a translation keeps its opening)")
            if self.max_length is not None and (
                self.head_tokens >= self.max_length
            ):
                raise ValueError(
                    "`head_tokens` must be less than `max_length`. Received: "
                    f"head_tokens={self.head_tokens} and "
                    f"max_length={self.max_length}"
                )
        _int("vocabulary_size", self.vocabulary_size, 5)
        _int("epochs", self.epochs, 1)
        _int("batch_size", self.batch_size, 1)
        _int("max_tokens", self.max_tokens, 1, True)
        if (
            self.max_tokens is not None
            and self.max_length is not None
            and self.max_tokens < self.max_length
        ):
            raise ValueError(
                "`max_tokens` must be at least `max_length`, so that a batch "
                f"holds a sequence. Received: max_tokens={self.max_tokens} "
                f"and max_length={self.max_length}"
            )
        if self.learning_rate != "transformer":
            _number("learning_rate", self.learning_rate, 0, None)
        if self.learning_rate_decay is not None:
            _choice("learning_rate_decay", self.learning_rate_decay,
                    LEARNING_RATE_DECAYS)
            if self.learning_rate == "transformer":
                raise ValueError(
                    "`learning_rate_decay` decays a float learning rate; "
                    "the transformer schedule has its own decay. Received: "
                    f"learning_rate_decay={self.learning_rate_decay!r} with "
                    "learning_rate='transformer'"
                )
        _number("weight_decay", self.weight_decay, 0, None, closed=True)
        _int("warmup_steps", self.warmup_steps, 1, True)
        _number("label_smoothing", self.label_smoothing, 0, 1, closed=True)
        if self.clipnorm is not None:
            _number("clipnorm", self.clipnorm, 0, None)
        _int("seed", self.seed, 0)
        _int("early_stopping_patience", self.early_stopping_patience, 1, True)
        if self.time_limit is not None:
            _number("time_limit", self.time_limit, 0, None)
        boundaries = self.bucket_boundaries
        if boundaries is not None and boundaries != "auto":
            if (
                not isinstance(boundaries, (list, tuple))
                or not boundaries
                or not all(_is_int(b, 2) for b in boundaries)
                or any(a >= b for a, b in zip(boundaries, boundaries[1:]))
            ):
                _bad(
                    "bucket_boundaries",
                    boundaries,
                    'None, "auto" or a strictly increasing list of int > 1',
                )
            self.bucket_boundaries = list(boundaries)
        _int("max_examples", self.max_examples, 1, True)
        _int("bigram_buckets", self.bigram_buckets, 1, True)
        if self.bigram_buckets is not None and (
            self.bigram_buckets > MAX_BIGRAM_BUCKETS
        ):
            _bad("bigram_buckets", self.bigram_buckets,
                 f"at most {MAX_BIGRAM_BUCKETS:,} (2**24 rows)")
        _int("average_last_epochs", self.average_last_epochs, 2, True)
        for name in ("dropout", "activation_dropout"):
            if getattr(self, name) is not None:
                _number(name, getattr(self, name), 0, 1, closed=True)
        _int("attention_maps", self.attention_maps, 1, True)
        if self.attention_maps is not None and self.task == "pretraining":
            _bad("attention_maps", self.attention_maps,
                 "None for pretraining (maps of classifiers and translators)")
        _int("embedding_dim", self.embedding_dim, 1, True)
        _int("units", self.units, 1, True)
        _bool("bidirectional", self.bidirectional)
        _number("mask_rate", self.mask_rate, 0, 1)
        _choice("objective", self.objective, OBJECTIVES)
        if self.objective != "mlm" and self.task != "pretraining":
            raise ValueError(
                "`objective` is a pretraining setting. Received: "
                f"objective={self.objective!r} with task={self.task!r}"
            )
        _bool("pack_texts", self.pack_texts)
        if self.pack_texts and self.task != "pretraining":
            raise ValueError(
                "`pack_texts` is a pretraining setting (a labelled text must "
                f"stay one row). Received: pack_texts={self.pack_texts} with "
                f"task={self.task!r}"
            )
        if self.pack_texts and self.bucket_boundaries is not None:
            raise ValueError(
                "Packed rows are all `max_length` long: give no "
                "`bucket_boundaries` with `pack_texts`. Received: "
                f"bucket_boundaries={self.bucket_boundaries!r}"
            )
        if self.init_from is not None:
            if not isinstance(self.init_from, str) or not self.init_from:
                _bad("init_from", self.init_from, "None or a run directory")
            if not self.is_classification or self.model != "transformer":
                raise ValueError(
                    "`init_from` starts a Transformer classifier from a "
                    "pretrained encoder. Received: "
                    f"init_from={self.init_from!r} with task={self.task!r} "
                    f"and model={self.model!r}"
                )
        _int("lora_rank", self.lora_rank, 1, True)
        if self.layer_decay is not None:
            _number("layer_decay", self.layer_decay, 0, None)
            if self.layer_decay > 1 or not self.is_classification or (
                self.model != "transformer"
            ):
                raise ValueError(
                    "`layer_decay` must be in (0, 1], for a Transformer "
                    "classifier. Received: "
                    f"layer_decay={self.layer_decay} with task="
                    f"{self.task!r} and model={self.model!r}"
                )
        if self.lora_rank is not None and self.init_from is None:
            raise ValueError(
                "`lora_rank` fine-tunes a pretrained encoder: give "
                f"`init_from` too. Received: lora_rank={self.lora_rank} and "
                "init_from=None"
            )
        self._check_distillation()
        if self.task == "pretraining" and self.model != "transformer":
            _bad("model", self.model,
                 "'transformer' for pretraining (an encoder backbone)")
        if self.bigram_buckets is not None:
            if translation:
                _bad("bigram_buckets", self.bigram_buckets,
                     "None for translation (bigrams are for classifiers)")
            if self.vocabulary_size > MAX_BIGRAM_VOCABULARY_SIZE:
                raise ValueError(
                    "With `bigram_buckets`, `vocabulary_size` must be at "
                    f"most {MAX_BIGRAM_VOCABULARY_SIZE}. Received: "
                    f"vocabulary_size={self.vocabulary_size}"
                )

    def _check_distillation(self):
        _number("distillation_temperature", self.distillation_temperature,
                0, None)
        _number("distillation_alpha", self.distillation_alpha, 0, None,
                closed=True)
        if self.distillation_alpha > 1:
            _bad("distillation_alpha", self.distillation_alpha,
                 "a finite number in [0, 1]")
        _number("distillation_attention_weight",
                self.distillation_attention_weight, 0, None, closed=True)
        _int("distillation_beam_width", self.distillation_beam_width, 1)
        _bool("distillation_keep_references",
              self.distillation_keep_references)
        if not _is_int(self.unlabeled_text_column, 0) and not (
            isinstance(self.unlabeled_text_column, str)
            and self.unlabeled_text_column
        ):
            _bad("unlabeled_text_column", self.unlabeled_text_column,
                 "a column name or a 0-based index")
        if self.unlabeled_path is not None:
            value = self.unlabeled_path
            if isinstance(value, (list, tuple)) and value and all(
                isinstance(p, str) and p for p in value
            ):
                self.unlabeled_path = list(value)
            elif not (isinstance(value, str) and value):
                _bad("unlabeled_path", value,
                     "None, a path or a non-empty list of paths")
            if not self.is_classification:
                raise ValueError(
                    "`unlabeled_path` holds texts for distilling a "
                    "classifier. Received: "
                    f"unlabeled_path={_short(value)} with task={self.task!r}"
                )
        if self.teacher is None:
            return
        if not isinstance(self.teacher, str) or not self.teacher:
            _bad("teacher", self.teacher, "None or a run directory")
        if self.task == "pretraining":
            _bad("teacher", self.teacher,
                 "None for pretraining (a teacher of classifiers and "
                 "translators)")
        if self.init_from is not None:
            raise ValueError(
                "Give at most one of `teacher` and `init_from`: a student "
                "starts from scratch. Received: "
                f"teacher={self.teacher!r} and init_from={self.init_from!r}"
            )
        if self.distillation_attention_weight and self.model != (
            "transformer"
        ):
            raise ValueError(
                "`distillation_attention_weight` transfers self-attention "
                "into a Transformer student. Received: "
                "distillation_attention_weight="
                f"{self.distillation_attention_weight} with "
                f"model={self.model!r}"
            )

    @classmethod
    def from_dict(cls, values):
        """A `TrainingConfig` from a dict such as `to_dict()` gives.

        Raises:
            ValueError: an unknown or missing key, or a bad value, named with
                the value received.
        """
        if not isinstance(values, dict):
            raise ValueError(
                "A training configuration must be a mapping. "
                f"Received: {type(values).__name__} {_short(values)}"
            )
        fields = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(values) - fields)
        if unknown:
            raise ValueError(
                f"Unknown training configuration keys: {unknown}. "
                f"Known keys: {sorted(fields)}. Received: "
                + ", ".join(f"{key}={_short(values[key])}" for key in unknown)
            )
        needed = ("task",) if values.get("prepared") else (
            "task", "train_path"
        )
        for required in needed:
            if required not in values:
                raise ValueError(
                    f"`{required}` is required. Received: keys "
                    f"{sorted(values)}"
                )
        return cls(**values)

    @classmethod
    def from_file(cls, path):
        """Reads a configuration from a `.yaml`/`.yml` or `.json` file.

        Relative data paths are kept as written (relative to the working
        directory of the run, not to the file). Environment variables in
        paths are expanded: `${ATTNPRED_DATA}/imdb/train.csv.gz`.

        Raises:
            ValueError: naming the file, when it is not UTF-8, not valid
                YAML/JSON, or holds a bad setting.
        """
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except UnicodeDecodeError as error:
            raise ValueError(
                f"{path}: not valid UTF-8 (byte "
                f"{error.object[error.start:error.start + 1]!r} at offset "
                f"{error.start})."
            ) from None
        if os.path.splitext(path)[1].lower() in (".yaml", ".yml"):
            import yaml

            try:
                values = yaml.load(text, Loader=_config_loader())
            except yaml.YAMLError as error:
                raise ValueError(
                    f"{path}: not valid YAML: {error}"
                ) from None
        else:
            try:
                values = json.loads(text)
            except (json.JSONDecodeError, RecursionError) as error:
                raise ValueError(f"{path}: not valid JSON: {error}") from None
            if _depth(values) > MAX_CONFIG_DEPTH:
                raise ValueError(
                    f"{path}: not a training configuration: nested deeper "
                    f"than {MAX_CONFIG_DEPTH} levels."
                )
        if values is None:
            values = {}
        try:
            if isinstance(values, dict):
                values = _expand_variables(values)
            return cls.from_dict(values)
        except ValueError as error:
            raise ValueError(f"{path}: {error}") from None

    def to_dict(self):
        """The fields as a JSON-ready dict (lists, not tuples)."""
        return json.loads(json.dumps(dataclasses.asdict(self)))

    @classmethod
    def defaults(cls):
        """The default of every field that has one, by field name."""
        return {
            field.name: field.default
            for field in dataclasses.fields(cls)
            if field.default is not dataclasses.MISSING
        }

    @classmethod
    def coerce(cls, config):
        """`config` as a `TrainingConfig`: one already, or a dict for
        `from_dict`; anything else raises a `ValueError`."""
        if isinstance(config, dict):
            config = cls.from_dict(config)
        if not isinstance(config, cls):
            raise ValueError(
                "`config` must be a `TrainingConfig` or a dict. "
                f"Received: config of type {type(config).__name__}"
            )
        return config

    @property
    def is_translation(self):
        """True for `"translation"`."""
        return self.task == "translation"

    @property
    def is_classification(self):
        """True for `"classification"` and `"sentiment"`."""
        return self.task in ("classification", "sentiment")


# A configuration is a mapping of values and lists: a few levels deep.
MAX_CONFIG_DEPTH = 16


def _depth(value):
    """How deeply lists and dicts nest in `value` (0 for a scalar), counted
    without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, list):
            deepest = max(deepest, depth)
            if depth <= MAX_CONFIG_DEPTH:
                stack.extend((item, depth + 1) for item in value)
    return deepest


def _config_loader():
    """PyYAML's safe loader without aliases (`*name`), nested at most
    `MAX_CONFIG_DEPTH` levels: a few hundred bytes of aliases expand to
    gigabytes (a "billion laughs"), deep nesting overflows the stack."""
    import yaml

    class ConfigLoader(yaml.SafeLoader):
        depth = 0

        def compose_node(self, parent, index):
            event = self.peek_event()
            if isinstance(event, yaml.AliasEvent):
                raise yaml.composer.ComposerError(
                    None, None,
                    "aliases (*name) are not allowed in a configuration",
                    event.start_mark,
                )
            if self.depth >= MAX_CONFIG_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None,
                    f"nested deeper than {MAX_CONFIG_DEPTH} levels",
                    event.start_mark,
                )
            self.depth += 1
            try:
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

    return ConfigLoader


_PATH_FIELDS = (
    "train_path", "validation_path", "test_path", "prepared", "init_from",
    "teacher", "unlabeled_path",
)


def _expand_variables(values):
    """`values` with `$NAME` / `${NAME}` expanded in its paths."""
    values = dict(values)
    for name in _PATH_FIELDS:
        value = values.get(name)
        paths = value if isinstance(value, list) else [value]
        if not all(isinstance(path, str) for path in paths):
            continue
        # An unset variable stays as written: reading the file then names it.
        expanded = [os.path.expandvars(path) for path in paths]
        values[name] = expanded if isinstance(value, list) else expanded[0]
    return values


def _short(value, limit=200):
    """`repr(value)`, cut: an error message must not print (or build) a
    huge value."""
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]!r}... ({len(value):,} characters)"
    short = reprlib.Repr()
    short.maxlevel = 2
    short.maxlist = short.maxtuple = short.maxdict = short.maxset = 10
    short.maxstring = short.maxother = limit
    text = short.repr(value)
    return text if len(text) <= limit else f"{text[:limit]}..."


def _bad(name, value, expected):
    raise ValueError(
        f"`{name}` must be {expected}. Received: {name}={_short(value)}"
    )


def _is_int(value, minimum):
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and value >= minimum
    )


def _int(name, value, minimum, allow_none=False):
    if value is None and allow_none:
        return
    if not _is_int(value, minimum):
        _bad(name, value, f"an integer >= {minimum}")


def _bool(name, value):
    if not isinstance(value, bool):
        _bad(name, value, "a bool")


def _number(name, value, low, high, closed=False):
    """A finite number in (low, high), or [low, high) with `closed`."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    ok = ok and math.isfinite(value)
    ok = ok and (value >= low if closed else value > low)
    ok = ok and (high is None or value < high)
    if not ok:
        left = "[" if closed else "("
        right = "inf)" if high is None else f"{high})"
        _bad(name, value, f"a finite number in {left}{low}, {right}")


def _choice(name, value, choices):
    if value not in choices:
        _bad(name, value, f"one of {list(choices)}")


def _path(name, value, pair_allowed, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, str) and value:
        return value
    if (
        pair_allowed
        and isinstance(value, (list, tuple))
        and len(value) == 2
        and all(isinstance(v, str) and v for v in value)
    ):
        return list(value)
    expected = "a path" + (
        " or a list of two aligned files" if pair_allowed else ""
    )
    _bad(name, value, expected)
