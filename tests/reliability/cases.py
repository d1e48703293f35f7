"""The bad inputs tried at every entry point, one table row per case.

Each case is `Case(kind, entry, name, call, expect)`: `call(env)` (see
`conftest.Env`) feeds one bad input to one entry point, and `expect` says
what it must get:

- `Raises(pattern)`: a `ValueError` whose message matches `pattern` (it
  names the argument, file, line or value at fault); `Raises(pattern,
  error)` for TensorFlow's own error in a serving signature or loader;
- `Exits(pattern)`: the `attnpred` command exits with status 2 and its
  last stderr line (the only one, except for argparse's usage text) matches
  `pattern`;
- `Gives(check)`: a documented result, `check(result)` is true.

`python -m tests.reliability.report` counts the cases by kind.
"""

import collections
import json

import numpy as np

Case = collections.namedtuple("Case", "kind entry name call expect")
# `error`: ValueError, or for what TensorFlow itself raises in serving, a
# builtin class or the name of a `tf.errors` class (no TensorFlow import).
Raises = collections.namedtuple("Raises", "pattern error",
                                defaults=(ValueError,))
Exits = collections.namedtuple("Exits", "pattern")
Gives = collections.namedtuple("Gives", "check")

EMPTY = "empty strings and empty batches"
LONG = "texts far over max_length"
UTF8 = "non-UTF-8 bytes, broken Unicode"
UNKNOWN = "unknown words only"
DTYPE = "wrong types, dtypes and shapes"
LABELS = "labels outside the label set"
MALFORMED = "malformed CSV/TSV"
PARALLEL = "mismatched parallel files"
VOCABULARY = "missing or corrupt vocabulary"
MODEL = "missing or corrupt model, run and backup files"
CONFIG = "corrupt config files and values"
FLAGS = "bad CLI flags and paths"
SERVING = "serving signatures"
KINDS = (EMPTY, LONG, UTF8, UNKNOWN, DTYPE, LABELS, MALFORMED, PARALLEL,
         VOCABULARY, MODEL, CONFIG, FLAGS, SERVING)

CASES = []


def case(kind, entry, name, expect):
    """Decorator adding the decorated `call(env)` to `CASES`."""

    def add(call):
        CASES.append(Case(kind, entry, name, call, expect))
        return call

    return add


# Lazy imports: collecting the table must not need TensorFlow.
def _data():
    from keras_attnpred import data

    return data


def _text():
    from keras_attnpred import text

    return text


def _training():
    from keras_attnpred import training

    return training


def _decoding():
    from keras_attnpred import decoding

    return decoding


def _inference():
    from keras_attnpred import inference

    return inference


def _export():
    from keras_attnpred import export

    return export


def _models():
    from keras_attnpred import models

    return models


def csv(env, body, name="data.csv", **kwargs):
    return _data().LabeledTexts.from_csv(
        env.write(name, body), "text", "label", **kwargs)


def tsv(env, body, name="pairs.tsv", **kwargs):
    return _data().ParallelTexts.from_tsv(env.write(name, body), **kwargs)


def files(env, source, target, **kwargs):
    return _data().ParallelTexts.from_files(
        env.write("source.txt", source), env.write("target.txt", target),
        **kwargs)


def run(env):
    return env.run


def translator(env):
    return env.translator


def config_file(env, name, body):
    return _training().TrainingConfig.from_file(env.write(name, body))


def config(**values):
    return _training().TrainingConfig.from_dict(
        {"task": "sentiment", "train_path": "x.csv", **values})


def probabilities(results):
    return np.array([r["probabilities"] for r in results])


def damaged_run(env, kind, name, content):
    """A copy of a run directory with `name` replaced by `content`."""
    directory = env.run_copy(kind)
    (directory / name).write_bytes(
        content.encode("utf-8") if isinstance(content, str) else content)
    return directory


def damaged_export(env, kind, name, content):
    """A copy of an export folder with `name` replaced (None: removed)."""
    import shutil

    source = env.export(kind)
    directory = env.tmp / f"{kind}_copy"
    shutil.copytree(source, directory)
    if content is None:
        (directory / name).unlink()
    else:
        (directory / name).write_bytes(content)
    return directory


def damaged_tokenizer(env, name, content):
    directory = env.run_copy("classification")
    (directory / "tokenizer" / name).write_bytes(
        content.encode("utf-8") if isinstance(content, str) else content)
    return _text().SubwordTokenizer.load(str(directory / "tokenizer"))


def train_config(env, **values):
    """A tiny classification config on the session's reviews file."""
    return {"task": "sentiment", "train_path": env.runs["reviews"],
            "model": "rnn", "preset": "tiny", "epochs": 1,
            "vocabulary_size": 60, "max_length": 8, **values}


def train(env, **values):
    return _training().train(train_config(env, **values),
                             str(env.tmp / "run"), verbose=0)


def train_on_backup(env, metadata, weights=None, settings=None, **values):
    """`train` into a run directory whose `backup/` holds these files
    (`weights=True`: an empty HDF5 file)."""
    backup = env.tmp / "run" / "backup"
    backup.mkdir(parents=True)
    (backup / "training_metadata.json").write_text(metadata)
    if weights is True:
        import h5py

        h5py.File(backup / "latest.weights.h5", "w").close()
    elif weights is not None:
        (backup / "latest.weights.h5").write_bytes(weights)
    if settings is not None:
        (backup / "config.json").write_text(json.dumps(
            _training().TrainingConfig.from_dict(settings).to_dict()))
    return train(env, **values)


def cli(env, *argv):
    return env.cli(*argv)


# --- empty strings and empty batches ----------------------------------------

case(EMPTY, "SubwordTokenizer.tokenize", '""',
     Gives(lambda ids: ids.shape == (0,)))(
    lambda env: env.tokenizer.tokenize("").numpy())
case(EMPTY, "SubwordTokenizer.tokenize", "[]",
     Gives(lambda ids: ids.shape[0] == 0))(
    lambda env: env.tokenizer.tokenize([]))
case(EMPTY, "SubwordTokenizer.detokenize", "[]", Gives(lambda t: t == ""))(
    lambda env: env.tokenizer.detokenize([]))
case(EMPTY, "SubwordTokenizer.train", "[]", Raises(r"`texts` must not be "
                                                  r"empty"))(
    lambda env: _text().SubwordTokenizer.train([], 50))
case(EMPTY, "SubwordTokenizer.train", "blank texts only",
     Raises(r"no words to learn .* Received: 2 blank texts"))(
    lambda env: _text().SubwordTokenizer.train(["", "  \t"], 50))
case(EMPTY, "classification_dataset", "[]",
     Raises(r"`texts` must not be empty"))(
    lambda env: _text().classification_dataset([], [], env.tokenizer))
case(EMPTY, "classification_dataset", "texts without tokens",
     Gives(lambda batch: batch.tolist() == [[0], [0]]))(
    lambda env: next(iter(_text().classification_dataset(
        ["", "   "], [0, 1], env.tokenizer, shuffle=False)))[0].numpy())
case(EMPTY, "translation_dataset", "empty source and target",
     Gives(lambda b: (b[0]["source"].numpy().tolist(),
                      b[0]["target"].numpy().tolist(),
                      b[1].numpy().tolist()) == ([[0]], [[2]], [[3]])))(
    lambda env: next(iter(_text().translation_dataset(
        [""], [""], env.tokenizer, env.tokenizer, shuffle=False))))
case(EMPTY, "LabeledTexts.from_csv", "header only",
     Gives(lambda texts: len(texts) == 0))(
    lambda env: csv(env, "text,label\n"))
case(EMPTY, "LabeledTexts.from_csv", "empty text field",
     Raises(r"data.csv, line 3: empty text"))(
    lambda env: csv(env, "text,label\nfine,1\n  ,0\n"))
case(EMPTY, "LabeledTexts.from_csv", "empty label field",
     Raises(r"data.csv, line 2: empty label"))(
    lambda env: csv(env, "text,label\nfine,\n"))
case(EMPTY, "LabeledTexts.from_csv", "0-byte file",
     Raises(r"data.csv: empty file, no header row"))(
    lambda env: csv(env, ""))
case(EMPTY, "ParallelTexts.from_tsv", "empty source sentence",
     Raises(r"pairs.tsv, line 1: empty source sentence"))(
    lambda env: tsv(env, "\thola\n"))
case(EMPTY, "ParallelTexts.from_files", "two empty files",
     Gives(lambda pairs: len(pairs) == 0))(
    lambda env: files(env, "", ""))
case(EMPTY, "train", "a training file without rows",
     Raises(r"empty.csv: no examples in the file"))(
    lambda env: train(env, train_path=env.write("empty.csv", "text,label\n")))
case(EMPTY, "TrainingRun.predict", "[]", Gives(lambda r: r == []))(
    lambda env: run(env).predict([]))
case(EMPTY, "TrainingRun.predict", '"" (RNN: zero time steps)',
     Gives(lambda r: len(r) == 1
           and abs(sum(r[0]["probabilities"]) - 1) < 1e-5))(
    lambda env: run(env).predict([""]))
case(EMPTY, "TrainingRun.predict", '"" in a batch: same answer alone',
     Gives(lambda r: np.allclose(r[0], r[1], atol=1e-6)))(
    lambda env: (probabilities(run(env).predict([""]))[0],
                 probabilities(run(env).predict(["", "a good film"]))[0]))
case(EMPTY, "Translator.translate", "[]", Gives(lambda r: r == []))(
    lambda env: translator(env).translate([]))
case(EMPTY, "Translator.translate", '"" next to a sentence',
     Gives(lambda r: len(r) == 2 and r[0] == "" and isinstance(r[1], str)))(
    lambda env: translator(env).translate(["", "the cat eats"]))
case(EMPTY, "greedy_search", "batch of 0 rows",
     Gives(lambda ids: ids.shape == (0, 0)))(
    lambda env: _decoding().greedy_search(
        translator(env).model, np.zeros((0, 4), "int32"), max_length=8))
case(EMPTY, "greedy_search", "sources of 0 steps",
     Gives(lambda ids: ids.shape[0] == 2 and ids.dtype == np.int32))(
    lambda env: _decoding().greedy_search(
        translator(env).model, np.zeros((2, 0), "int32"), max_length=8))
case(EMPTY, "attnpred predict", '""',
     Gives(lambda r: r[0] == 0 and r[2].count("\n") == 1))(
    lambda env: cli(env, "predict", env.runs["classification"], ""))
case(EMPTY, "attnpred evaluate", "a file without rows",
     Exits(r"empty.csv: no examples to evaluate"))(
    lambda env: cli(env, "evaluate", env.runs["classification"], "--data",
                    env.write("empty.csv", "text,label\n")))

# --- texts far over max_length ----------------------------------------------

case(LONG, "SubwordTokenizer.tokenize", "100,000 words: not cut here",
     Gives(lambda lengths: lengths.tolist() == [100000]))(
    lambda env: env.tokenizer.tokenize(["film " * 100000])
    .row_lengths().numpy())
case(LONG, "SubwordTokenizer.tokenize", "a 1,000-byte word",
     Gives(lambda ids: ids == [[1]]))(
    lambda env: env.tokenizer.tokenize(["a" * 1000]).to_list())
case(LONG, "classification_dataset", "5,000 words, max_length=7",
     Gives(lambda shape: shape == (1, 7)))(
    lambda env: tuple(next(iter(_text().classification_dataset(
        ["film " * 5000], [0], env.tokenizer, max_length=7)))[0].shape))
case(LONG, "translation_dataset", "500 words each side, max_length=9",
     Gives(lambda b: b[0]["source"].shape == (1, 9)
           and b[0]["target"].shape == (1, 9)
           and int(b[1][0, -1]) == 3))(  # the label still ends in [END]
    lambda env: next(iter(_text().translation_dataset(
        ["film " * 500], ["film " * 500], env.tokenizer, env.tokenizer,
        max_length=9))))
case(LONG, "TrainingRun.predict", "20,000 words: cut to max_length",
     Gives(lambda p: np.allclose(p[0], p[1], atol=1e-6)))(
    lambda env: probabilities(run(env).predict(
        ["good film " * 10000, "good film " * 6])))  # max_length 12
case(LONG, "Translator.translate", "6,000 words: cut to max_length",
     Gives(lambda t: t[0] == t[1]))(
    lambda env: translator(env).translate(
        ["the cat " * 3000, "the cat " * 6]))  # max_length 12
case(LONG, "LabeledTexts.from_csv", "a 1 MB field (over csv's limit)",
     Gives(lambda texts: len(texts.texts[0]) == 1_000_000))(
    lambda env: csv(env, "text,label\n" + "a" * 1_000_000 + ",0\n"))
case(LONG, "greedy_search", "max_length over the position table",
     Raises(r"must not exceed the target position embedding's "
            r"sequence_length=12. Received: max_length=100"))(
    lambda env: _decoding().greedy_search(
        translator(env).model, [[4, 5]], max_length=100))
case(LONG, "transformer classifier", "ids longer than the position table",
     Raises(r"sequence_length=16, time=40"))(
    lambda env: _models().build_transformer_classifier(
        100, 2, 16, preset="tiny")(np.ones((2, 40), "int32")))

# --- non-UTF-8 bytes, broken Unicode ----------------------------------------

case(UTF8, "LabeledTexts.from_csv", "byte 0xff",
     Raises(r"data.csv, line 2: not valid UTF-8 \(byte b'\\xff' at column 1"))(
    lambda env: csv(env, b"text,label\n\xff\xfe,1\n"))
case(UTF8, "LabeledTexts.from_csv", "gzip holding Latin-1",
     Raises(r"data.csv.gz, line 2: not valid UTF-8"))(
    lambda env: csv(env, __import__("gzip").compress(
        "text,label\ncafé,1\n".encode("latin-1")), name="data.csv.gz"))
case(UTF8, "ParallelTexts.from_tsv", "truncated 2-byte sequence",
     Raises(r"pairs.tsv, line 2: not valid UTF-8"))(
    lambda env: tsv(env, b"a\tb\n\xc3\x28\tc\n"))
case(UTF8, "ParallelTexts.from_files", "bad byte in the target file",
     Raises(r"target.txt, line 2: not valid UTF-8"))(
    lambda env: files(env, "a\nb\n", b"x\n\xe2\x82\n"))
case(UTF8, "SubwordTokenizer.tokenize", "bytes 0xff",
     Raises(r"`texts\[0\]` is not valid UTF-8"))(
    lambda env: env.tokenizer.tokenize([b"\xff\xfe abc"]))
case(UTF8, "SubwordTokenizer.tokenize", "lone surrogate (undecodable argv)",
     Raises(r"`texts\[1\]` is not valid Unicode: it holds the lone "
            r"surrogate"))(
    lambda env: env.tokenizer.tokenize(["fine", "a\udcffb"]))
case(UTF8, "SubwordTokenizer.tokenize", "bad bytes in a string tensor",
     Gives(lambda ids: ids[0][0] == 1))(  # [UNK]: a graph cannot raise
    lambda env: env.tokenizer.tokenize(
        __import__("tensorflow").constant([b"\xff abc"])).to_list())
case(UTF8, "SubwordTokenizer.train", "bytes 0xff",
     Raises(r"`texts\[0\]` is not valid UTF-8"))(
    lambda env: _text().SubwordTokenizer.train([b"\xff words"], 50))
case(UTF8, "classification_dataset", "bytes 0xff in the 2nd text",
     Raises(r"`texts\[1\]` is not valid UTF-8"))(
    lambda env: _text().classification_dataset(
        [b"ok", b"\xff"], [0, 1], env.tokenizer))
case(UTF8, "translation_dataset", "lone surrogate in a target",
     Raises(r"`targets\[0\]` is not valid Unicode"))(
    lambda env: _text().translation_dataset(
        ["ok"], ["\udc80"], env.tokenizer, env.tokenizer))
case(UTF8, "TrainingRun.predict", "bytes 0xff",
     Raises(r"`texts\[0\]` is not valid UTF-8"))(
    lambda env: run(env).predict([b"\xff"]))
case(UTF8, "Translator.translate", "lone surrogate",
     Raises(r"`texts\[0\]` is not valid Unicode"))(
    lambda env: translator(env).translate(["a\udcffb"]))
case(UTF8, "TrainingConfig.from_file", "byte 0xff",
     Raises(r"run.yaml: not valid UTF-8"))(
    lambda env: config_file(env, "run.yaml", b"task: \xff\n"))
case(UTF8, "attnpred predict", "undecodable argument",
     Exits(r"attnpred predict: error: `texts\[0\]` is not valid Unicode"))(
    lambda env: cli(env, "predict", env.runs["classification"], "a\udcffb"))
case(UTF8, "attnpred train", "training file in Latin-1",
     Exits(r"latin.csv, line 2: not valid UTF-8"))(
    lambda env: cli(env, "train", "--task", "sentiment", "--out",
                    env.tmp / "run", "--data", env.write(
                        "latin.csv", "text,label\ncafé,1\n".encode("latin-1"))))

# --- unknown words only -----------------------------------------------------

case(UNKNOWN, "SubwordTokenizer.tokenize", "other scripts and symbols",
     Gives(lambda ids: len(ids[0]) >= 3 and set(ids[0]) == {1}))(
    lambda env: env.tokenizer.tokenize(["жжж 北京 ☃"]).to_list())
case(UNKNOWN, "SubwordTokenizer.detokenize", "[UNK] ids stay visible",
     Gives(lambda text: text == "[UNK] [UNK]"))(
    lambda env: env.tokenizer.detokenize([1, 1]))
case(UNKNOWN, "classification_dataset", "unknown words",
     Gives(lambda ids: ids.tolist() == [[1, 1]]))(
    lambda env: next(iter(_text().classification_dataset(
        ["жжж ӝӝ"], [0], env.tokenizer)))[0].numpy())
case(UNKNOWN, "TrainingRun.predict", "any two unknown words: one answer",
     Gives(lambda p: np.allclose(p[0], p[1], atol=1e-6)))(
    lambda env: probabilities(run(env).predict(["жжж ӝӝ", "☃ ☃"])))
case(UNKNOWN, "Translator.translate", "unknown words",
     Gives(lambda t: len(t) == 1 and isinstance(t[0], str)))(
    lambda env: translator(env).translate(["жжж 北京"]))
case(UNKNOWN, "attnpred predict", "unknown words",
     Gives(lambda r: r[0] == 0 and r[2].count("\n") == 1))(
    lambda env: cli(env, "predict", env.runs["classification"], "жжж 北京"))

# --- wrong types, dtypes and shapes -----------------------------------------

case(DTYPE, "SubwordTokenizer.tokenize", "None",
     Raises(r"`texts` must be a str, a \(nested\) list of str or a string "
            r"tensor. Received: texts=None"))(
    lambda env: env.tokenizer.tokenize(None))
case(DTYPE, "SubwordTokenizer.tokenize", "int tensor",
     Raises(r"`texts` must be strings. Received: a tensor of dtype int32"))(
    lambda env: env.tokenizer.tokenize(
        __import__("tensorflow").constant([1, 2])))
case(DTYPE, "SubwordTokenizer.detokenize", "negative id (was a segfault)",
     Raises(r"`ids` must lie in \[0, \d+\) .* Received: ids from -5 to 5"))(
    lambda env: env.tokenizer.detokenize([[-5, 5]]))
case(DTYPE, "SubwordTokenizer.detokenize", "id past the vocabulary",
     Raises(r"`ids` must lie in \[0, \d+\) .* Received: ids from 5 to "
            r"1000000"))(
    lambda env: env.tokenizer.detokenize([[10**6, 5]]))
case(DTYPE, "SubwordTokenizer.detokenize", "float ids",
     Raises(r"`ids` must be integer token ids. Received: ids of dtype "
            r"float32"))(
    lambda env: env.tokenizer.detokenize(np.array([1.5, 5.0], "float32")))
case(DTYPE, "SubwordTokenizer.train", "list of int",
     Raises(r"must contain strings only. Received: an element 1 of type int"))(
    lambda env: _text().SubwordTokenizer.train([1, 2], 50))
case(DTYPE, "SubwordTokenizer.train", "one str instead of a list",
     Raises(r"not a single string. Received: texts='hello'"))(
    lambda env: _text().SubwordTokenizer.train("hello", 50))
case(DTYPE, "classification_dataset", "string labels",
     Raises(r"`labels` must be numbers .* Received: labels of dtype <U3"))(
    lambda env: _text().classification_dataset(["a b"], ["pos"],
                                               env.tokenizer))
case(DTYPE, "classification_dataset", "fewer labels than texts",
     Raises(r"one label per text. Received: 2 texts and labels.shape=\(1,\)"))(
    lambda env: _text().classification_dataset(["a", "b"], [0],
                                               env.tokenizer))
case(DTYPE, "classification_dataset", "batch_size=0",
     Raises(r"`batch_size` must be a positive integer. Received: "
            r"batch_size=0"))(
    lambda env: _text().classification_dataset(["a"], [0], env.tokenizer,
                                               batch_size=0))
case(DTYPE, "LabeledTexts", "float labels",
     Raises(r"integer class ids. Received: labels with dtype float64"))(
    lambda env: _data().LabeledTexts(["a"], [0.5], ["x", "y"]))
case(DTYPE, "LabeledTexts.from_csv", "path=None",
     Raises(r"`path_or_url` must be a path or a URL. Received: "
            r"path_or_url=None"))(
    lambda env: _data().LabeledTexts.from_csv(None, "text", "label"))
case(DTYPE, "LabeledTexts.from_csv", "text_column=1.5",
     Raises(r"`text_column` must be a column name or a 0-based index. "
            r"Received: text_column=1.5"))(
    lambda env: _data().LabeledTexts.from_csv(
        env.write("a.csv", "text,label\na,1\n"), 1.5, "label"))
case(DTYPE, "build_transformer_classifier", 'max_length="16"',
     Raises(r"`max_length` must be a positive integer. Received: "
            r"max_length='16'"))(
    lambda env: _models().build_transformer_classifier(100, 2, "16"))
case(DTYPE, "Translator.translate", "beam_width=100000",
     Raises(r"`beam_width` must be at most 256: .* Received: "
            r"beam_width=100000"))(
    lambda env: translator(env).translate(["the cat"], beam_width=100000))
case(DTYPE, "HashedBigramEmbedding", "num_buckets=10**12",
     Raises(r"`num_buckets` must be at most 16,777,216"))(
    lambda env: __import__("keras_attnpred.layers").layers
    .HashedBigramEmbedding(100, 10**12, 8))
case(DTYPE, "build_rnn_classifier", "units=-1",
     Raises(r"`units` must be a positive integer. Received: units=-1"))(
    lambda env: _models().build_rnn_classifier(100, 2, units=-1))
case(DTYPE, "build_transformer_translator", 'preset="huge"',
     Raises(r"`preset` must be one of .* Received: preset='huge'"))(
    lambda env: _models().build_transformer_translator(100, 100, 16,
                                                       preset="huge"))
case(DTYPE, "transformer classifier", "3-D ids",
     Raises(r"Invalid input shape .* Expected shape \(None, None\)"))(
    lambda env: _models().build_transformer_classifier(
        100, 2, 16, preset="tiny").predict(np.ones((2, 5, 3), "int32"),
                                           verbose=0))
case(DTYPE, "greedy_search", "float ids",
     Raises(r"`source_ids` must be an integer array of shape \(batch, "
            r"length\). Received: .* dtype float64"))(
    lambda env: _decoding().greedy_search(translator(env).model,
                                          np.array([[1.0, 5.0]]), max_length=8))
case(DTYPE, "greedy_search", "1-D ids",
     Raises(r"shape \(batch, length\). Received: source_ids with shape "
            r"\(2,\)"))(
    lambda env: _decoding().greedy_search(translator(env).model,
                                          np.array([1, 5]), max_length=8))
case(DTYPE, "greedy_search", "ragged rows",
     Raises(r"shape \(batch, length\). Received: .* dtype object"))(
    lambda env: _decoding().greedy_search(translator(env).model,
                                          [[4, 5], [4]], max_length=8))
case(DTYPE, "greedy_search", "negative id (JAX would clamp it)",
     Raises(r"`source_ids` must be >= 0 and below the source vocabulary "
            r"size \d+. Received: source_ids from -1 to 5"))(
    lambda env: _decoding().greedy_search(translator(env).model,
                                          np.array([[-1, 5]]), max_length=8))
case(DTYPE, "greedy_search", "id past the source vocabulary",
     Raises(r"below the source vocabulary size \d+. Received: source_ids "
            r"from 5 to 1000000"))(
    lambda env: _decoding().greedy_search(translator(env).model,
                                          np.array([[10**6, 5]]), max_length=8))
case(DTYPE, "TrainingRun.predict", "one str instead of a list",
     Raises(r"not a single string"))(
    lambda env: run(env).predict("a good film"))
case(DTYPE, "TrainingRun.predict", "an int",
     Raises(r"`texts` must be a sequence of strings. Received: texts of "
            r"type int"))(
    lambda env: run(env).predict(5))
case(DTYPE, "TrainingRun.predict", "None inside the list",
     Raises(r"an element None of type NoneType at index 1"))(
    lambda env: run(env).predict(["fine", None]))
case(DTYPE, "TrainingRun.evaluate", "a list instead of LabeledTexts",
     Raises(r"`data` must be a `LabeledTexts` or a `PreparedDataset`"))(
    lambda env: run(env).evaluate(["a"]))
case(DTYPE, "Translator.translate", "an int inside the list",
     Raises(r"an element 1 of type int at index 0"))(
    lambda env: translator(env).translate([1]))
case(DTYPE, "Translator", "model of the wrong type",
     Raises(r"`model` must be a `keras.Model`. Received: model of type str"))(
    lambda env: _inference().Translator("model", env.tokenizer, env.tokenizer))
case(DTYPE, "train", "config of the wrong type",
     Raises(r"`config` must be a `TrainingConfig` or a dict"))(
    lambda env: _training().train(5, str(env.tmp / "run")))
case(DTYPE, "train", "out_dir is an existing file",
     Raises(r"`out_dir` must be a directory .* an existing file"))(
    lambda env: _training().train(train_config(env),
                                  env.write("file.txt", "x")))

# --- labels outside the label set -------------------------------------------

case(LABELS, "LabeledTexts.from_csv", "unknown name",
     Raises(r"data.csv, line 3: unknown label 'maybe'; expected one of "
            r"\['neg', 'pos'\]"))(
    lambda env: csv(env, "text,label\nok,pos\nhm,maybe\n",
                    label_names=["neg", "pos"]))
case(LABELS, "LabeledTexts.from_csv", "class id past the names",
     Raises(r"data.csv, line 2: unknown label '7': class ids must lie in "
            r"\[0, 2\)"))(
    lambda env: csv(env, "text,label\nabc,7\n", label_names=["neg", "pos"]))
case(LABELS, "LabeledTexts.from_csv", 'unknown label, on_error="skip"',
     Gives(lambda t: (len(t), t.skipped) == (1, 1)))(
    lambda env: csv(env, "text,label\nok,pos\nhm,maybe\n",
                    label_names=["neg", "pos"], on_error="skip"))
case(LABELS, "LabeledTexts", "id 2 of 2 classes",
     Raises(r"`labels` must lie in \[0, 2\) .* Received: labels from 2 to 2"))(
    lambda env: _data().LabeledTexts(["a"], [2], ["x", "y"]))
case(LABELS, "LabeledTexts", "id -1",
     Raises(r"`labels` must lie in \[0, 2\)"))(
    lambda env: _data().LabeledTexts(["a"], [-1], ["x", "y"]))
case(LABELS, "TrainingRun.evaluate", "more classes than the model",
     Raises(r"`data` has 3 classes, the model 2"))(
    lambda env: run(env).evaluate(
        _data().LabeledTexts(["a"], [2], ["a", "b", "c"])))
case(LABELS, "train", "a label outside label_names",
     Raises(r"bad_label.csv, line 3: unknown label 'neutral'"))(
    lambda env: train(env, label_names=["negative", "positive"],
                      train_path=env.write(
                          "bad_label.csv",
                          "text,label\nfine,positive\nmeh,neutral\n")))
case(LABELS, "attnpred evaluate", "class id 2 for a 2-class run",
     Exits(r"lab.csv, line 2: unknown label '2': class ids must lie in "
           r"\[0, 2\)"))(
    lambda env: cli(env, "evaluate", env.runs["classification"], "--data",
                    env.write("lab.csv", "text,label\nhello,2\n")))
case(LABELS, "attnpred evaluate", "unknown class name",
     Exits(r"lab.csv, line 2: unknown label 'neutral'"))(
    lambda env: cli(env, "evaluate", env.runs["classification"], "--data",
                    env.write("lab.csv", "text,label\nhello,neutral\n")))

case(LABELS, "LabeledTexts.from_csv", "a typo 100000 among 0/1 labels",
     Raises(r"data.csv, line 3: label '100000' leaves a gap in the class "
            r"ids: .* no row has label 2"))(
    lambda env: csv(env, "text,label\nok,0\nhm,100000\nfine,1\n"))
case(LABELS, "LabeledTexts.from_csv", "99999999999 among 0/1 (MemoryError)",
     Raises(r"data.csv, line 4: label '99999999999' leaves a gap"))(
    lambda env: csv(env, "text,label\nok,0\nfine,1\nhm,99999999999\n"))
case(LABELS, "LabeledTexts.from_csv", "class ids from 1 (no 0)",
     Raises(r"data.csv, line 2: label '1' leaves a gap .* no row has "
            r"label 0"))(
    lambda env: csv(env, "text,label\nok,1\nfine,2\n"))
case(LABELS, "LabeledTexts.from_csv", "a gap, given label_names: allowed",
     Gives(lambda t: (t.labels.tolist(), t.label_names)
           == ([0, 2], ("a", "b", "c"))))(
    lambda env: csv(env, "text,label\nok,0\nfine,2\n",
                    label_names=["a", "b", "c"]))
case(LABELS, "LabeledTexts.from_csv", "one 'neutral' among 0/1",
     Raises(r"data.csv, line 4: label 'neutral' is not a class id, but "
            r"the other labels are"))(
    lambda env: csv(env, "text,label\nok,0\nfine,1\nhm,neutral\n"))
case(LABELS, "LabeledTexts.from_csv",
     "one 'neutral' among 0/1, given label_names",
     Raises(r"data.csv, line 4: unknown label 'neutral'; expected a class "
            r"id in \[0, 2\) or one of \['negative', 'positive'\]"))(
    lambda env: csv(env, "text,label\nok,0\nfine,1\nhm,neutral\n",
                    label_names=["negative", "positive"]))
case(LABELS, "LabeledTexts.from_csv", "one '1' among names",
     Raises(r"data.csv, line 3: unknown label '1'; expected one of "
            r"\['neg', 'pos'\] \(the other labels are names"))(
    lambda env: csv(env, "text,label\nok,pos\nhm,1\nfine,neg\n"))
case(LABELS, "attnpred train", "one 'neutral' among 0/1 labels",
     Exits(r"lab.csv, line 4: label 'neutral' is not a class id"))(
    lambda env: cli(env, "train", "--task", "sentiment", "--out",
                    env.tmp / "run", "--data", env.write(
                        "lab.csv", "text,label\nok,0\nfine,1\nhm,neutral\n")))

# --- malformed CSV/TSV ------------------------------------------------------

case(MALFORMED, "LabeledTexts.from_csv", "unclosed quote",
     Raises(r"data.csv, line 2: malformed CSV"))(
    lambda env: csv(env, 'text,label\n"abc,1\n'))
case(MALFORMED, "LabeledTexts.from_csv", "extra field",
     Raises(r"data.csv, line 3: expected 2 fields, found 3"))(
    lambda env: csv(env, "text,label\nok,1\nabc,1,2\n"))
case(MALFORMED, "LabeledTexts.from_csv", "missing field",
     Raises(r"data.csv, line 2: expected 2 fields, found 1"))(
    lambda env: csv(env, "text,label\nabc\n"))
case(MALFORMED, "LabeledTexts.from_csv", "no such column",
     Raises(r"data.csv, line 1: no column named 'text'. Available columns: "
            r"\['review', 'label'\]"))(
    lambda env: csv(env, "review,label\nabc,1\n"))
case(MALFORMED, "LabeledTexts.from_csv", "column index out of range",
     Raises(r"`label_column=5` is out of range for rows of 2 fields"))(
    lambda env: _data().LabeledTexts.from_csv(
        env.write("a.csv", "a,1\n"), 0, 5, header=False))
case(MALFORMED, "LabeledTexts.from_csv", "truncated gzip",
     Raises(r"t.csv.gz, after line \d+: unreadable or truncated gzip data"))(
    lambda env: csv(env, __import__("gzip").compress(
        b"text,label\n" + b"abc,1\n" * 1000)[:60], name="t.csv.gz"))
case(MALFORMED, "LabeledTexts.from_csv", "binary file",
     Raises(r"bin.csv, line \d+: not valid UTF-8"))(
    lambda env: csv(env, bytes(range(256)), name="bin.csv"))
case(MALFORMED, "LabeledTexts.from_csv", 'on_error="skip"',
     Gives(lambda t: (len(t), t.skipped) == (1, 2)))(
    lambda env: csv(env, "text,label\nok,0\nabc,1,2\nxyz\n",
                    on_error="skip"))
case(MALFORMED, "LabeledTexts.from_csv", 'on_error="ignore"',
     Raises(r"`on_error` must be one of \['raise', 'skip'\]. Received: "
            r"on_error='ignore'"))(
    lambda env: csv(env, "text,label\nok,1\n", on_error="ignore"))
case(MALFORMED, "LabeledTexts.from_csv", 'delimiter=";;"',
     Raises(r"`delimiter` must be a single character"))(
    lambda env: csv(env, "text,label\nok,1\n", delimiter=";;"))
case(MALFORMED, "LabeledTexts.from_csv", "a directory",
     Raises(r": a directory, not a file"))(
    lambda env: _data().LabeledTexts.from_csv(str(env.tmp), "text",
                                              "label"))
case(MALFORMED, "LabeledTexts.from_csv", "missing file",
     Raises(r"nope.csv: no such file"))(
    lambda env: _data().LabeledTexts.from_csv(str(env.tmp / "nope.csv"),
                                              "text", "label"))
case(MALFORMED, "ParallelTexts.from_tsv", "one column",
     Raises(r"pairs.tsv: `target_column=1` is out of range for rows of 1 "
            r"fields"))(
    lambda env: tsv(env, "hello\n"))
case(MALFORMED, "ParallelTexts.from_tsv", "a row of 3 fields",
     Raises(r"pairs.tsv, line 2: expected 2 fields, found 3"))(
    lambda env: tsv(env, "a\tb\nc\td\te\n"))
case(MALFORMED, "attnpred train", "unclosed quote in --data",
     Exits(r"bad.csv, line 3: malformed CSV"))(
    lambda env: cli(env, "train", "--task", "sentiment", "--out",
                    env.tmp / "run", "--data",
                    env.write("bad.csv", 'text,label\nok,1\n"abc,1\n')))

# --- mismatched parallel files ----------------------------------------------

case(PARALLEL, "ParallelTexts.from_files", "2 lines and 1 line",
     Raises(r"same number of lines. Received: 2 lines in .*source.txt and "
            r"1 lines in .*target.txt"))(
    lambda env: files(env, "a\nb\n", "x\n"))
case(PARALLEL, "ParallelTexts.from_files", "one file empty",
     Raises(r"Received: 2 lines in .*source.txt and 0 lines"))(
    lambda env: files(env, "a\nb\n", ""))
case(PARALLEL, "ParallelTexts.from_files", "blank line on one side",
     Raises(r"source.txt, line 2: empty line \(its pair is dropped\)"))(
    lambda env: files(env, "a\n\nc\n", "x\ny\nz\n"))
case(PARALLEL, "ParallelTexts.from_files", 'blank line, on_error="skip"',
     Gives(lambda p: (p.sources, p.skipped) == (("a", "c"), 1)))(
    lambda env: files(env, "a\n\nc\n", "x\ny\nz\n", on_error="skip"))
case(PARALLEL, "ParallelTexts", "1 source, 2 targets",
     Raises(r"Got 1 sources but 2 targets"))(
    lambda env: _data().ParallelTexts(["a"], ["b", "c"]))
case(PARALLEL, "translation_dataset", "1 source, 2 targets",
     Raises(r"same length. Received: 1 sources and 2 targets"))(
    lambda env: _text().translation_dataset(["a"], ["b", "c"],
                                            env.tokenizer, env.tokenizer))
case(PARALLEL, "attnpred train", "two files of different lengths",
     Exits(r"same number of lines. Received: 2 lines .* and 1 lines"))(
    lambda env: cli(env, "train", "--task", "translation", "--out",
                    env.tmp / "run", "--data", env.write("s.txt", "a\nb\n"),
                    env.write("t.txt", "x\n")))
case(PARALLEL, "attnpred evaluate", "three files",
     Exits(r"expected one file or two aligned files, got 3"))(
    lambda env: cli(env, "evaluate", env.runs["translation"], "--data",
                    "a", "b", "c"))
case(PARALLEL, "attnpred evaluate", "two files for a classifier",
     Exits(r"a classification run is evaluated on one CSV/TSV file, got 2"))(
    lambda env: cli(env, "evaluate", env.runs["classification"], "--data",
                    env.runs["reviews"], env.runs["reviews"]))

# --- missing or corrupt vocabulary ------------------------------------------

case(VOCABULARY, "SubwordTokenizer.load", "no directory",
     Raises(r"Missing tokenizer settings file: .*nowhere/tokenizer.json"))(
    lambda env: _text().SubwordTokenizer.load(str(env.tmp / "nowhere")))
case(VOCABULARY, "SubwordTokenizer.load", "vocabulary.txt missing",
     Raises(r"Missing vocabulary file: .*vocabulary.txt"))(
    lambda env: (lambda d: (d / "tokenizer" / "vocabulary.txt").unlink()
                 or _text().SubwordTokenizer.load(str(d / "tokenizer")))(
        env.run_copy("classification")))
case(VOCABULARY, "SubwordTokenizer.load", "empty vocabulary.txt",
     Raises(r"Corrupt vocabulary file .*vocabulary.txt: it holds 0 tokens"))(
    lambda env: damaged_tokenizer(env, "vocabulary.txt", ""))
case(VOCABULARY, "SubwordTokenizer.load", "reserved tokens out of order",
     Raises(r"Corrupt vocabulary file .*: the first tokens must be"))(
    lambda env: damaged_tokenizer(
        env, "vocabulary.txt", "[UNK]\n[PAD]\n[START]\n[END]\na\n"))
case(VOCABULARY, "SubwordTokenizer.load", "a token twice",
     Raises(r"Corrupt vocabulary file .*: token 'a' occurs twice"))(
    lambda env: damaged_tokenizer(
        env, "vocabulary.txt", "[PAD]\n[UNK]\n[START]\n[END]\na\na\n"))
case(VOCABULARY, "SubwordTokenizer.load", "non-UTF-8 vocabulary.txt",
     Raises(r"Corrupt vocabulary file .*vocabulary.txt: 'utf-8' codec"))(
    lambda env: damaged_tokenizer(env, "vocabulary.txt", b"\xff\n"))
case(VOCABULARY, "SubwordTokenizer.load", "tokenizer.json not JSON",
     Raises(r"Corrupt tokenizer settings file .*tokenizer.json"))(
    lambda env: damaged_tokenizer(env, "tokenizer.json", "{bad"))
case(VOCABULARY, "SubwordTokenizer.load", "tokenizer.json of another class",
     Raises(r"expected a JSON object with class_name='SubwordTokenizer'"))(
    lambda env: damaged_tokenizer(env, "tokenizer.json",
                                  json.dumps({"class_name": "Other"})))
case(VOCABULARY, "SubwordTokenizer.load", 'lowercase="yes"',
     Raises(r"tokenizer.json: `lowercase` must be a bool. Received: "
            r"lowercase='yes'"))(
    lambda env: damaged_tokenizer(env, "tokenizer.json", json.dumps(
        {"class_name": "SubwordTokenizer", "lowercase": "yes"})))
case(VOCABULARY, "SubwordTokenizer", "vocabulary without reserved tokens",
     Raises(r"Invalid `vocabulary`: it holds 1 tokens"))(
    lambda env: _text().SubwordTokenizer(["a"]))
case(VOCABULARY, "attnpred predict", "run with an empty vocabulary",
     Exits(r"Corrupt vocabulary file .*tokenizer/vocabulary.txt"))(
    lambda env: cli(env, "predict", damaged_run(
        env, "classification", "tokenizer/vocabulary.txt", ""), "good"))

RESERVED = "[PAD]\n[UNK]\n[START]\n[END]\n"
case(VOCABULARY, "SubwordTokenizer.load", "a token with a NUL byte",
     Raises(r"Corrupt vocabulary file .*vocabulary.txt: token 5 holds a NUL "
            r"character"))(
    lambda env: damaged_tokenizer(env, "vocabulary.txt",
                                  RESERVED + "a\nx\x00y\n"))
case(VOCABULARY, "SubwordTokenizer.load", "a 300-byte token",
     Raises(r"Corrupt vocabulary file .*vocabulary.txt: token 5 is 302 bytes "
            r"long, over the 256 bytes TensorFlow Text takes"))(
    lambda env: damaged_tokenizer(env, "vocabulary.txt",
                                  RESERVED + "a\n" + "é" * 151 + "\n"))
case(VOCABULARY, "SubwordTokenizer.load", "max_bytes_per_word: 10**12",
     Raises(r"Corrupt tokenizer settings file .*tokenizer.json: "
            r"`max_bytes_per_word` must be at most 2147483647"))(
    lambda env: damaged_tokenizer(env, "tokenizer.json", json.dumps(
        {"class_name": "SubwordTokenizer", "max_bytes_per_word": 10**12})))


def grown_vocabulary(env, kind, name):
    """A run copy whose tokenizer `name` has 500 more tokens than the
    model's embedding rows."""
    directory = env.run_copy(kind)
    path = directory / name / "vocabulary.txt"
    with open(path, "a", encoding="utf-8") as f:
        f.write("".join(f"zz{i}\n" for i in range(500)))
    return directory


case(VOCABULARY, "TrainingRun.predict", "vocabulary larger than the model",
     Raises(r"The tokenizer in .*tokenizer has \d+ tokens, more than the "
            r"\d+ rows of the model's embedding"))(
    lambda env: _training().TrainingRun.load(str(grown_vocabulary(
        env, "classification", "tokenizer"))).predict(["zz7 zz499"]))
case(VOCABULARY, "Translator.load", "target vocabulary larger than the model",
     Raises(r"The target_tokenizer in .*target_tokenizer has \d+ tokens, "
            r"more than the \d+ rows"))(
    lambda env: _inference().Translator.load(str(grown_vocabulary(
        env, "translation", "target_tokenizer"))))
case(VOCABULARY, "attnpred predict", "vocabulary larger than the model",
     Exits(r"The tokenizer in .*tokenizer has \d+ tokens, more than"))(
    lambda env: cli(env, "predict", grown_vocabulary(
        env, "classification", "tokenizer"), "zz7 zz499"))
case(VOCABULARY, "attnpred predict", "a vocabulary token with a NUL byte",
     Exits(r"Corrupt vocabulary file .*vocabulary.txt: token 5 holds a NUL"))(
    lambda env: cli(env, "predict", damaged_run(
        env, "classification", "tokenizer/vocabulary.txt",
        RESERVED + "a\nx\x00y\n"), "good"))

# --- missing or corrupt model, run and backup files -------------------------

case(MODEL, "serialization.load_model", "missing file",
     Raises(r"Missing model file: .*nope.keras"))(
    lambda env: __import__("keras_attnpred.serialization").serialization
    .load_model(str(env.tmp / "nope.keras")))
case(MODEL, "serialization.load_model", "garbage bytes",
     Raises(r"Corrupt model file .*bad.keras: not a `.keras` zip archive"))(
    lambda env: __import__("keras_attnpred.serialization").serialization
    .load_model(env.write("bad.keras", b"garbage")))
case(MODEL, "TrainingRun.load", "model.keras truncated",
     Raises(r"Corrupt model file .*model.keras"))(
    lambda env: _training().TrainingRun.load(str(damaged_run(
        env, "classification", "model.keras",
        (env.runs["classification"] / "model.keras").read_bytes()[:2000]))))
case(MODEL, "TrainingRun.load", "labels.json missing",
     Raises(r"missing 'labels.json'"))(
    lambda env: (lambda d: (d / "labels.json").unlink()
                 or _training().TrainingRun.load(str(d)))(
        env.run_copy("classification")))
case(MODEL, "TrainingRun.load", "config.json not JSON",
     Raises(r"Corrupt run file .*config.json: not valid JSON"))(
    lambda env: _training().TrainingRun.load(str(damaged_run(
        env, "classification", "config.json", "{bad"))))
case(MODEL, "TrainingRun.load", "config.json a list",
     Raises(r"Corrupt run file .*config.json: A training configuration "
            r"must be a mapping"))(
    lambda env: _training().TrainingRun.load(str(damaged_run(
        env, "classification", "config.json", "[1]"))))
case(MODEL, "TrainingRun.load", "config.json with epochs=0",
     Raises(r"Corrupt run file .*config.json: `epochs` must be an integer"))(
    lambda env: _training().TrainingRun.load(str(damaged_run(
        env, "classification", "config.json", json.dumps(
            {"task": "sentiment", "train_path": "x", "epochs": 0})))))
case(MODEL, "TrainingRun.load", "metrics.json empty",
     Raises(r"Corrupt run file .*metrics.json: not valid JSON"))(
    lambda env: _training().TrainingRun.load(str(damaged_run(
        env, "classification", "metrics.json", ""))))
case(MODEL, "TrainingRun.load", "labels.json without label_names",
     Raises(r"Corrupt run file .*labels.json: expected .* Received: "
            r"label_names=None"))(
    lambda env: _training().TrainingRun.load(str(damaged_run(
        env, "classification", "labels.json", "{}"))))
case(MODEL, "TrainingRun.load", "labels.json, 1 name for 2 classes",
     Raises(r"labels.json: expected .* with 2 str, one per class"))(
    lambda env: _training().TrainingRun.load(str(damaged_run(
        env, "classification", "labels.json",
        json.dumps({"label_names": ["a"]})))))
case(MODEL, "Translator.load", "model.keras missing",
     Raises(r"Missing translator file: .*model.keras"))(
    lambda env: (lambda d: (d / "model.keras").unlink()
                 or _inference().Translator.load(str(d)))(
        env.run_copy("translation")))
case(MODEL, "Translator.load", "translator.json not JSON",
     Raises(r"Corrupt translator settings file .*translator.json"))(
    lambda env: _inference().Translator.load(str(damaged_run(
        env, "translation", "translator.json", "{"))))
case(MODEL, "Translator.load", "model.keras garbage",
     Raises(r"Corrupt model file .*model.keras"))(
    lambda env: _inference().Translator.load(str(damaged_run(
        env, "translation", "model.keras", b"garbage"))))
case(MODEL, "train (resume)", "backup metadata not JSON",
     Raises(r"Corrupt training backup .*training_metadata.json: unreadable"
            r".* Delete .*backup to train from the start"))(
    lambda env: train_on_backup(env, "{"))
case(MODEL, "train (resume)", "backup weights not HDF5",
     Raises(r"Corrupt training backup .*latest.weights.h5: missing or not "
            r"an HDF5 file"))(
    lambda env: train_on_backup(env, '{"epoch": 1, "batch": 0}', b"x"))
case(MODEL, "train (resume)", "backup made with other settings",
     Raises(r"holds an interrupted run with other settings "
            r"\(learning_rate=0.5 -> 0.001\). Run the same command to "
            r"resume it, or delete .*backup to start over"))(
    lambda env: train_on_backup(
        env, '{"epoch": 1, "batch": 0}', weights=True,
        settings=train_config(env, learning_rate=0.5, epochs=5)))
case(MODEL, "attnpred predict", "model.keras garbage",
     Exits(r"attnpred predict: error: Corrupt model file .*model.keras"))(
    lambda env: cli(env, "predict", damaged_run(
        env, "classification", "model.keras", b"garbage"), "good"))
case(MODEL, "attnpred predict", "config.json a list",
     Exits(r"Corrupt run file .*config.json"))(
    lambda env: cli(env, "predict", damaged_run(
        env, "classification", "config.json", "[1]"), "good"))
case(MODEL, "attnpred evaluate", "config.json not JSON",
     Exits(r"Corrupt run file .*config.json: not valid JSON"))(
    lambda env: cli(env, "evaluate", damaged_run(
        env, "classification", "config.json", "{bad"), "--data",
        env.runs["reviews"]))
case(MODEL, "attnpred predict", "labels.json without label_names",
     Exits(r"Corrupt run file .*labels.json"))(
    lambda env: cli(env, "predict", damaged_run(
        env, "classification", "labels.json", "{}"), "good"))
case(MODEL, "attnpred predict", "not a run directory",
     Exits(r"nowhere is not a run directory"))(
    lambda env: cli(env, "predict", env.tmp / "nowhere", "good"))

# --- corrupt config files and values ----------------------------------------

case(CONFIG, "TrainingConfig.from_file", "YAML syntax error",
     Raises(r"run.yaml: not valid YAML"))(
    lambda env: config_file(env, "run.yaml", "task: [unclosed\n"))
case(CONFIG, "TrainingConfig.from_file", "YAML with a tab indent",
     Raises(r"run.yaml: not valid YAML"))(
    lambda env: config_file(env, "run.yaml",
                            "task: sentiment\n\ttrain_path: x\n"))
case(CONFIG, "TrainingConfig.from_file", "YAML list",
     Raises(r"run.yaml: A training configuration must be a mapping. "
            r"Received: list"))(
    lambda env: config_file(env, "run.yaml", "- a\n- b\n"))
case(CONFIG, "TrainingConfig.from_file", "JSON syntax error",
     Raises(r"run.json: not valid JSON"))(
    lambda env: config_file(env, "run.json", "{task:"))
case(CONFIG, "TrainingConfig.from_file", "empty file",
     Raises(r"run.yaml: `task` is required"))(
    lambda env: config_file(env, "run.yaml", ""))
case(CONFIG, "TrainingConfig.from_file", "unknown key",
     Raises(r"run.yaml: Unknown training configuration keys: \['epoch'\]"))(
    lambda env: config_file(env, "run.yaml",
                            "task: sentiment\ntrain_path: x\nepoch: 3\n"))
case(CONFIG, "TrainingConfig.from_file", "epochs: three",
     Raises(r"run.yaml: `epochs` must be an integer >= 1. Received: "
            r"epochs='three'"))(
    lambda env: config_file(env, "run.yaml",
                            "task: sentiment\ntrain_path: x\nepochs: three\n"))
case(CONFIG, "TrainingConfig.from_file", "JSON learning_rate NaN",
     Raises(r"`learning_rate` must be a finite number .* Received: "
            r"learning_rate=nan"))(
    lambda env: config_file(env, "run.json", '{"task": "sentiment", '
                            '"train_path": "x", "learning_rate": NaN}'))
case(CONFIG, "TrainingConfig.from_file", "JSON learning_rate Infinity",
     Raises(r"`learning_rate` must be a finite number .* Received: "
            r"learning_rate=inf"))(
    lambda env: config_file(env, "run.json", '{"task": "sentiment", '
                            '"train_path": "x", "learning_rate": Infinity}'))
case(CONFIG, "TrainingConfig", "clipnorm=inf",
     Raises(r"`clipnorm` must be a finite number"))(
    lambda env: config(clipnorm=float("inf")))
case(CONFIG, "TrainingConfig", "label_names with a repeat",
     Raises(r"`label_names` must be a non-empty list of distinct str"))(
    lambda env: config(label_names=["a", "a"]))
case(CONFIG, "TrainingConfig", "bucket_boundaries=[5, 3]",
     Raises(r"`bucket_boundaries` must be .* Received: "
            r"bucket_boundaries=\[5, 3\]"))(
    lambda env: config(bucket_boundaries=[5, 3]))
case(CONFIG, "TrainingConfig", "validation_fraction=1.0",
     Raises(r"`validation_fraction` must be a finite number in \(0, 1\)"))(
    lambda env: config(validation_fraction=1.0))
case(CONFIG, "TrainingConfig", "3 training files for translation",
     Raises(r"`train_path` must be a path or a list of two aligned files"))(
    lambda env: config(task="translation", train_path=["a", "b", "c"]))
# A "billion laughs": 9 levels of 10 aliases, 10**9 strings once expanded.
ALIAS_BOMB = "".join(
    [f"a0: &a0 [{'x, ' * 9}x]\n"]
    + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 9)]
    + ["task: sentiment\ntrain_path: x.csv\nlabel_names: *a8\n"])
case(CONFIG, "TrainingConfig.from_file", "YAML alias bomb (562 bytes)",
     Raises(r"run.yaml: not valid YAML: aliases \(\*name\) are not allowed "
            r"in a configuration"))(
    lambda env: config_file(env, "run.yaml", ALIAS_BOMB))
case(CONFIG, "TrainingConfig", "10**9 shared strings: not printed",
     Raises(r"`label_names` must be a non-empty list of distinct str. "
            r"Received: label_names=\[\[\[\.\.\.\], .{0,200}$"))(
    lambda env: config(label_names=__import__("functools").reduce(
        lambda inner, _: [inner] * 10, range(9), ["x"] * 10)))
case(CONFIG, "TrainingConfig.from_file", "YAML nested 100,000 deep",
     Raises(r"run.yaml: not valid YAML: nested deeper than 16 levels"))(
    lambda env: config_file(env, "run.yaml",
                            "task: " + "[" * 100_000 + "]" * 100_000))
case(CONFIG, "TrainingConfig.from_file", "JSON nested 100,000 deep",
     Raises(r"run.json: not valid JSON: maximum recursion depth"))(
    lambda env: config_file(env, "run.json",
                            '{"task": ' + "[" * 100_000 + "]" * 100_000 + "}"))
case(CONFIG, "TrainingConfig.from_file", "JSON nested 100 deep",
     Raises(r"run.json: not a training configuration: nested deeper than 16 "
            r"levels"))(
    lambda env: config_file(env, "run.json",
                            '{"task": ' + "[" * 100 + "]" * 100 + "}"))
case(CONFIG, "TrainingConfig.from_file", "a 1 MB unknown value",
     Raises(r"Received: epoch='xxxx*'\.\.\. \(1,000,000 characters\)$"))(
    lambda env: config_file(env, "run.yaml", "task: sentiment\n"
                            "train_path: x\nepoch: " + "x" * 1_000_000))
case(CONFIG, "TrainingRun.load", "config.json nested 100,000 deep",
     Raises(r"Corrupt run file .*config.json: not valid JSON \(maximum "
            r"recursion depth"))(
    lambda env: _training().TrainingRun.load(str(damaged_run(
        env, "classification", "config.json", "[" * 100_000))))
case(CONFIG, "attnpred train", "--config: YAML alias bomb",
     Exits(r"bomb.yaml: not valid YAML: aliases \(\*name\) are not "
           r"allowed"))(
    lambda env: cli(env, "train", "--config", env.write("bomb.yaml", ALIAS_BOMB),
                    "--out", env.tmp / "run"))
case(CONFIG, "attnpred train", "--config missing",
     Exits(r"config file not found: .*none.yaml"))(
    lambda env: cli(env, "train", "--config", env.tmp / "none.yaml",
                    "--out", env.tmp / "run"))
case(CONFIG, "attnpred train", "--config with a YAML syntax error",
     Exits(r"bad.yaml: not valid YAML"))(
    lambda env: cli(env, "train", "--config",
                    env.write("bad.yaml", "task: [x\n"), "--out",
                    env.tmp / "run"))
case(CONFIG, "attnpred train", "--config with epochs: 0",
     Exits(r"bad.yaml: `epochs` must be an integer >= 1"))(
    lambda env: cli(env, "train", "--config", env.write(
        "bad.yaml", "task: classification\ntrain_path: x.csv\nepochs: 0\n"),
        "--out", env.tmp / "run"))
case(CONFIG, "attnpred train", "--learning-rate abc",
     Exits(r"--learning-rate must be a number or 'transformer'. "
           r"Received: 'abc'"))(
    lambda env: cli(env, "train", "--task", "sentiment", "--data", "x",
                    "--out", env.tmp / "run", "--learning-rate", "abc"))
case(CONFIG, "attnpred train", "--learning-rate inf",
     Exits(r"`learning_rate` must be a finite number"))(
    lambda env: cli(env, "train", "--task", "sentiment", "--data", "x",
                    "--out", env.tmp / "run", "--learning-rate", "inf"))

# --- bad CLI flags and paths ------------------------------------------------

case(FLAGS, "attnpred", "no command",
     Exits(r"the following arguments are required: command"))(
    lambda env: cli(env))
case(FLAGS, "attnpred train", "--epochs abc",
     Exits(r"argument --epochs: invalid int value: 'abc'"))(
    lambda env: cli(env, "train", "--out", "x", "--epochs", "abc"))
case(FLAGS, "attnpred train", "--task unknown",
     Exits(r"argument --task: invalid choice: 'poetry'"))(
    lambda env: cli(env, "train", "--out", "x", "--task", "poetry"))
case(FLAGS, "attnpred train", "no --task",
     Exits(r"--task is required \(or give it in --config, or train on "
           r"--prepared data\)"))(
    lambda env: cli(env, "train", "--data", "x", "--out", "x"))
case(FLAGS, "attnpred train", "--data missing",
     Exits(r"none.csv: no such file"))(
    lambda env: cli(env, "train", "--task", "sentiment", "--data",
                    env.tmp / "none.csv", "--out", env.tmp / "run"))
case(FLAGS, "attnpred train", "--data /dev/null (was 'no such file')",
     Exits(r"/dev/null: not a regular file"))(
    lambda env: cli(env, "train", "--task", "sentiment", "--data",
                    "/dev/null", "--out", env.tmp / "run"))
case(FLAGS, "attnpred train", "--data-sha256 of the wrong file",
     Exits(r"reviews.csv: the sha256 file hash does not match"))(
    lambda env: cli(env, "train", "--task", "sentiment", "--data",
                    env.runs["reviews"], "--data-sha256", "0" * 64, "--out",
                    env.tmp / "run"))
case(FLAGS, "attnpred train", "--data-sha256 for 2 files, 1 given",
     Exits(r"--data-sha256 takes one SHA-256 per --data file. Received: 1 "
           r"for 2 file\(s\)"))(
    lambda env: cli(env, "train", "--task", "translation", "--data", "a",
                    "b", "--data-sha256", "0" * 64, "--out", env.tmp / "run"))
case(FLAGS, "attnpred predict", "--beam-width 100000 (asked for 147 GiB)",
     Exits(r"`beam_width` must be at most 256"))(
    lambda env: cli(env, "predict", env.runs["translation"], "--beam-width",
                    "100000", "the cat"))
case(FLAGS, "attnpred train", "--bigram-buckets 1000000000000",
     Exits(r"`bigram_buckets` must be at most 16,777,216 \(2\*\*24 rows\). "
           r"Received: bigram_buckets=1000000000000"))(
    lambda env: cli(env, "train", "--task", "sentiment", "--data", "x",
                    "--out", "x", "--bigram-buckets", "1000000000000"))
case(FLAGS, "attnpred train", "--bigram-buckets 1e12",
     Exits(r"argument --bigram-buckets: invalid int value: '1e12'"))(
    lambda env: cli(env, "train", "--task", "sentiment", "--data", "x",
                    "--out", "x", "--bigram-buckets", "1e12"))
case(FLAGS, "attnpred train", "--data with 3 files",
     Exits(r"expected one file or two aligned files, got 3"))(
    lambda env: cli(env, "train", "--task", "translation", "--data", "a",
                    "b", "c", "--out", "x"))
case(FLAGS, "attnpred train", "--out an existing file",
     Exits(r"`out_dir` must be a directory"))(
    lambda env: cli(env, "train", "--task", "sentiment", "--data",
                    env.runs["reviews"], "--out", env.write("f.txt", "x")))
case(FLAGS, "attnpred train", "--max-length 1",
     Exits(r"`max_length` must be an integer >= 2. Received: max_length=1"))(
    lambda env: cli(env, "train", "--task", "sentiment", "--data", "x",
                    "--out", "x", "--max-length", "1"))
case(FLAGS, "attnpred train", '--label-names ","',
     Exits(r"`label_names` must be a non-empty list of distinct str"))(
    lambda env: cli(env, "train", "--task", "sentiment", "--data", "x",
                    "--out", "x", "--label-names", ","))
case(FLAGS, "attnpred evaluate", "--max-examples 0",
     Exits(r"argument --max-examples: must be a positive integer. "
           r"Received: '0'"))(
    lambda env: cli(env, "evaluate", "run", "--data", "x",
                    "--max-examples", "0"))
case(FLAGS, "attnpred evaluate", "--max-examples -1",
     Exits(r"argument --max-examples: must be a positive integer"))(
    lambda env: cli(env, "evaluate", "run", "--data", "x",
                    "--max-examples", "-1"))
case(FLAGS, "attnpred predict", "no texts",
     Exits(r"give texts, - to read them from standard input, or --input "
           r"FILE"))(
    lambda env: cli(env, "predict", env.runs["classification"]))
case(FLAGS, "attnpred demo", "--epochs 0",
     Exits(r"`epochs` must be an integer >= 1. Received: epochs=0"))(
    lambda env: cli(env, "demo", "--epochs", "0", "--out", env.tmp / "d"))

# --- serving signatures -----------------------------------------------------
# The exports of the tiny runs (SavedModels loaded with TensorFlow and
# TensorFlow Text only; TFLite files through the LiteRT interpreter). One
# bad string sits in a batch between two good texts: the good rows must get
# the answer they get without it, the bad row the answer of
# `TrainingRun.predict` / `Translator.translate` for it, invalid UTF-8
# bytes read as U+FFFD (`decode("utf-8", "replace")`: the graph cannot
# raise per row, its tokenizer makes [UNK] of them).

GOOD = (b"a good film", b"the cat eats")
BAD_STRINGS = {
    "invalid UTF-8 bytes": b"\xff\xfe good \xc3( film",
    "empty string": b"",
    "a 1 MB string": b"good film " * 100_000,
    "unknown words only": "жжж 北京 ☃".encode(),
    "punctuation and whitespace only": b" ., !? \t\n ",
}


def _decoded(text):
    return text.decode("utf-8", "replace")


def _numpy(outputs):
    return {k: v.numpy() for k, v in outputs.items()}


def serve(env, kind, signature, **inputs):
    """Calls a signature with tensors, as TF Serving does (a NumPy array
    would be checked by Python's binding first)."""
    import tensorflow as tf

    return _numpy(env.signatures(kind)[signature](
        **{k: tf.constant(v) for k, v in inputs.items()}))


def classify(env, texts, signature="serving_default"):
    return serve(env, "classifier", signature,
                 text=np.array(texts, dtype=object))


def serve_translations(env, texts):
    outputs = serve(env, "translator", "serving_default",
                    text=np.array(texts, dtype=object))
    return [t.decode("utf-8") for t in outputs["translation"]]


def translate(env, **inputs):
    """The `translate` signature on one text, `inputs` replacing the
    defaults of its search settings."""
    return serve(env, "translator", "translate", **{
        "text": np.array([b"the cat"], object), "beam_width": np.int32(2),
        "max_length": np.int32(5), "length_penalty": np.float32(0),
        **inputs})


def classifier_with(env, bad):
    """`(probabilities of [good, bad, good], of [good, good], of
    TrainingRun.predict([bad]))`."""
    return (classify(env, [GOOD[0], bad, GOOD[1]])["probabilities"],
            classify(env, list(GOOD))["probabilities"],
            probabilities(run(env).predict([_decoded(bad)])))


def same_classifier_answers(r):
    with_bad, without, alone = r
    return (with_bad.shape == (3, 2)
            and np.allclose(with_bad[[0, 2]], without, atol=1e-5)
            and np.allclose(with_bad[1], alone[0], atol=1e-5))


def translator_with(env, bad):
    """`(translations of [good, bad, good], of [good, good], and
    Translator.translate([bad]))`."""
    return (serve_translations(env, [GOOD[0], bad, GOOD[1]]),
            serve_translations(env, list(GOOD)),
            translator(env).translate([_decoded(bad)]))


def same_translations(r):
    with_bad, without, alone = r
    return with_bad[::2] == without and with_bad[1] == alone[0]


def tflite_with(env, bad):
    """The raw-text TFLite model through the interpreter (batch 4): rows
    `[good, bad, good, ""]` and `[good, "", good, ""]`, and
    `TrainingRun.predict([bad])`. The model takes normalised text; these
    are already lower case."""
    model = env.tflite_classifier

    def probabilities_of(rows):
        return model(np.array(rows, dtype=object))["probabilities"]

    return (probabilities_of([GOOD[0], bad, GOOD[1], b""])[:3],
            probabilities_of([GOOD[0], b"", GOOD[1], b""])[[0, 2]],
            probabilities(run(env).predict([_decoded(bad)])))


def tflite_translator_with(env, bad):
    model = env.tflite_translator
    return (model.translate([GOOD[0], bad, GOOD[1]]),
            model.translate(list(GOOD)),
            translator(env).translate([_decoded(bad)]))


for _name, _bad in BAD_STRINGS.items():
    case(SERVING, "classifier SavedModel serving_default", _name,
         Gives(same_classifier_answers))(
        lambda env, bad=_bad: classifier_with(env, bad))
    case(SERVING, "translator SavedModel serving_default", _name,
         Gives(same_translations))(
        lambda env, bad=_bad: translator_with(env, bad))
    case(SERVING, "TFLite text classifier (LiteRT interpreter)", _name,
         Gives(same_classifier_answers))(
        lambda env, bad=_bad: tflite_with(env, bad))
    if _name != "invalid UTF-8 bytes":  # a ValueError in Python, below
        case(SERVING, "TFLiteTranslator.translate", _name,
             Gives(same_translations))(
            lambda env, bad=_bad: tflite_translator_with(env, bad))

case(SERVING, "TFLiteTranslator.translate", "invalid UTF-8 bytes",
     Raises(r"`texts\[1\]` is not valid UTF-8"))(
    lambda env: env.tflite_translator.translate(
        [GOOD[0], BAD_STRINGS["invalid UTF-8 bytes"]]))
case(SERVING, "TFLiteClassifier.predict", "invalid UTF-8 bytes",
     Raises(r"`inputs\[1\]` is not valid UTF-8"))(
    lambda env: env.tflite_classifier.predict(
        ["fine", BAD_STRINGS["invalid UTF-8 bytes"]]))
case(SERVING, "TFLiteClassifier.predict", "lone surrogate",
     Raises(r"`inputs\[0\]` is not valid Unicode"))(
    lambda env: env.tflite_classifier.predict(["a\udcffb"]))
case(SERVING, "TFLiteClassifier.predict", "[]",
     Gives(lambda p: p.shape == (0, 2)))(
    lambda env: env.tflite_classifier.predict([]))
case(SERVING, "TFLiteClassifier.predict", "texts without tokens",
     Gives(lambda r: np.allclose(r[0], r[1], atol=1e-5)))(
    lambda env: (env.tflite_classifier.predict(["", "  "]),
                 probabilities(run(env).predict(["", "  "]))))
case(SERVING, "TFLiteTranslator.translate", "[] and texts without tokens",
     Gives(lambda r: r == ([], ["", ""])))(
    lambda env: (env.tflite_translator.translate([]),
                 env.tflite_translator.translate(["", " "])))

# Default-ignorable characters: ICU's case folding (the SavedModel, Keras)
# drops them, Python's did not (the TFLite text model's input).
INVISIBLE = {
    "U+00AD soft hyphen": "a good\u00adfilm",
    "U+200B zero-width space": "good\u200b film\u200b",
    "U+2060 word joiner": "a\u2060good film",
    "U+FEFF byte-order mark": "\ufeffgood film",
}
for _name, _invisible in INVISIBLE.items():
    case(SERVING, "TFLiteClassifier.predict", _name,
         Gives(lambda r: np.allclose(r[0], r[1], atol=1e-5)
               and np.allclose(r[0], r[2], atol=1e-5)))(
        lambda env, text=_invisible: (
            env.tflite_classifier.predict([text]),
            classify(env, [text.encode()])["probabilities"],
            probabilities(run(env).predict([text]))))
case(SERVING, "TFLiteClassifier.predict", "id -1 (was wrapped to another row)",
     Raises(r"`inputs` must hold token ids in \[0, \d+\) \(the vocabulary "
            r"size\). Received: ids from -1 to 4"))(
    lambda env: _export().TFLiteClassifier(
        env.export("classifier_tflite_ids")).predict([[4, -1]]))
case(SERVING, "TFLiteClassifier.predict", "id past the vocabulary",
     Raises(r"`inputs` must hold token ids in \[0, \d+\) \(the vocabulary "
            r"size\). Received: ids from 4 to 1000000"))(
    lambda env: _export().TFLiteClassifier(
        env.export("classifier_tflite_ids")).predict([[4, 10**6]]))

# Empty and all-empty batches, over-long texts.
case(SERVING, "classifier SavedModel serving_default", "batch of 0 texts",
     Gives(lambda o: o["probabilities"].shape == (0, 2)
           and o["label"].shape == o["label_name"].shape == (0,)))(
    lambda env: classify(env, []))
case(SERVING, "classifier SavedModel serving_default",
     "a batch of empty texts only",
     Gives(lambda r: np.allclose(r[0], r[1], atol=1e-5)))(
    lambda env: (classify(env, [b"", b" "])["probabilities"],
                 probabilities(run(env).predict(["", " "]))))
case(SERVING, "classifier SavedModel serving_default",
     "20,000 words: cut to max_length",
     Gives(lambda p: np.allclose(p[0], p[1], atol=1e-5)))(
    lambda env: classify(env, [b"good film " * 10000, b"good film " * 6])[
        "probabilities"])
case(SERVING, "classifier SavedModel serving_token_ids", "(0, 0) ids",
     Gives(lambda o: o["probabilities"].shape == (0, 2)))(
    lambda env: serve(env, "classifier", "serving_token_ids",
                      token_ids=np.zeros((0, 0), "int32")))
case(SERVING, "translator SavedModel serving_default", "batch of 0 texts",
     Gives(lambda o: o["translation"].shape == (0,)
           and o["token_ids"].shape[0] == 0))(
    lambda env: serve(env, "translator", "serving_default",
                      text=np.zeros((0,), object)))
case(SERVING, "translator SavedModel serving_default",
     "a batch of empty texts only", Gives(lambda t: t == ["", ""]))(
    lambda env: serve_translations(env, [b"", b" \t"]))
case(SERVING, "translator SavedModel serving_default",
     "6,000 words: cut to max_length",
     Gives(lambda t: t[0] == t[1]))(
    lambda env: serve_translations(env, [b"the cat " * 3000,
                                         b"the cat " * 6]))
case(SERVING, "TFLite text classifier (LiteRT interpreter)",
     "5,000 words: cut to max_length",
     Gives(lambda p: np.allclose(p[0], p[1], atol=1e-5)))(
    lambda env: env.tflite_classifier(np.array(
        [b"good film " * 5000, b"good film " * 6, b"", b""], object))[
            "probabilities"])

# Wrong dtypes and shapes: the request fails, the error names the input
# (shapes, values) or its position and the dtype expected (dtypes: checked
# by TensorFlow before the graph runs).
ARGUMENT = "InvalidArgumentError"
case(SERVING, "classifier SavedModel serving_default", "int32 text",
     Raises(r"input #0\(zero-based\) was expected to be a string tensor but "
            r"is a int32 tensor", ARGUMENT))(
    lambda env: serve(env, "classifier", "serving_default",
                      text=np.array([1, 2], "int32")))
case(SERVING, "classifier SavedModel serving_default",
     "a scalar text (crashed the process)",
     Raises(r"Shape of tensor text \[\] is not compatible with expected "
            r"shape \[\?\]", ARGUMENT))(
    lambda env: classify(env, b"a good film"))
case(SERVING, "classifier SavedModel serving_default", "a (1, 2) text batch",
     Raises(r"Shape of tensor text \[1,2\] is not compatible", ARGUMENT))(
    lambda env: classify(env, [[b"a", b"b"]]))
case(SERVING, "classifier SavedModel serving_with_attention",
     "a scalar text",
     Raises(r"Shape of tensor text \[\] is not compatible", ARGUMENT))(
    lambda env: classify(env, b"film", "serving_with_attention"))
case(SERVING, "classifier SavedModel serving_token_ids", "float32 ids",
     Raises(r"expected to be a int32 tensor but is a float tensor",
            ARGUMENT))(
    lambda env: serve(env, "classifier", "serving_token_ids",
                      token_ids=np.ones((1, 3), "float32")))
case(SERVING, "classifier SavedModel serving_token_ids", "1-D ids",
     Raises(r"Shape of tensor token_ids \[3\] is not compatible", ARGUMENT))(
    lambda env: serve(env, "classifier", "serving_token_ids",
                      token_ids=np.ones((3,), "int32")))
case(SERVING, "classifier SavedModel serving_token_ids",
     "id 5000 (over the vocabulary)",
     Raises(r"`token_ids` must lie in \[0, \d+\) \(the vocabulary size\)",
            ARGUMENT))(
    lambda env: serve(env, "classifier", "serving_token_ids",
                      token_ids=np.array([[4, 5000]], "int32")))
case(SERVING, "classifier SavedModel serving_token_ids",
     "id -5 (was a silent answer)",
     Raises(r"`token_ids` must lie in \[0, \d+\)", ARGUMENT))(
    lambda env: serve(env, "classifier", "serving_token_ids",
                      token_ids=np.array([[4, -5]], "int32")))
case(SERVING, "translator SavedModel serving_default", "a scalar text",
     Raises(r"Shape of tensor text \[\] is not compatible", ARGUMENT))(
    lambda env: serve_translations(env, b"the cat"))
case(SERVING, "translator SavedModel translate", "beam_width of shape (1,)",
     Raises(r"Shape of tensor beam_width \[1\] is not compatible with "
            r"expected shape \[\]", ARGUMENT))(
    lambda env: translate(env, beam_width=np.array([2], "int32")))
case(SERVING, "translator SavedModel translate", "float32 beam_width",
     Raises(r"expected to be a int32 tensor but is a float tensor",
            ARGUMENT))(
    lambda env: translate(env, beam_width=np.float32(2)))

# Missing and corrupt files.
case(SERVING, "tf.saved_model.load", "a missing version folder",
     Raises(r"SavedModel file does not exist at: .*classifier/7", OSError))(
    lambda env: __import__("tensorflow").saved_model.load(
        env.export("classifier")[:-1] + "7"))
case(SERVING, "tf.saved_model.load", "a corrupt saved_model.pb",
     Raises(r"Cannot parse file .*saved_model.pb", OSError))(
    lambda env: __import__("tensorflow").saved_model.load(str(
        damaged_export(env, "classifier", "saved_model.pb", b"\x00junk"))))
case(SERVING, "TFLiteClassifier", "a missing file",
     Raises(r"No TFLite model file at `path`. Received: "
            r"path='.*none.tflite'"))(
    lambda env: _export().TFLiteClassifier(str(env.tmp / "none.tflite")))
case(SERVING, "TFLiteClassifier", "a text file",
     Raises(r"`path` is not a valid TFLite model \(.*\). Received: "
            r"path='.*model.tflite'"))(
    lambda env: _export().TFLiteClassifier(env.write("model.tflite",
                                                     "not a model")))
case(SERVING, "TFLiteClassifier", "an empty file",
     Raises(r"not a valid TFLite model \(the file is empty\)"))(
    lambda env: _export().TFLiteClassifier(env.write("model.tflite", b"")))
case(SERVING, "TFLiteClassifier", "a truncated file",
     Raises(r"not a valid TFLite model .*model.tflite"))(
    lambda env: _export().TFLiteClassifier(env.write("model.tflite", open(
        env.export("classifier_tflite"), "rb").read()[:5000])))
case(SERVING, "TFLiteTranslator", "a corrupt decoder_step_float32.tflite",
     Raises(r"not a valid TFLite model .*decoder_step_float32.tflite"))(
    lambda env: _export().TFLiteTranslator(str(damaged_export(
        env, "translator_tflite", "decoder_step_float32.tflite",
        b"TFL3" * 8))))
case(SERVING, "TFLiteTranslator", "a missing encoder_float32.tflite",
     Raises(r"No TFLite model file at `path`. .*encoder_float32.tflite"))(
    lambda env: _export().TFLiteTranslator(str(damaged_export(
        env, "translator_tflite", "encoder_float32.tflite", None))))
