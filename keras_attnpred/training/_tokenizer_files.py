"""Whether prepared data was tokenized by a run's tokenizers: shared by the
checks of `TrainingRun`, `init_from` and `teacher`."""

import filecmp
import os


def other_tokenizer(data_dir, run_dir, names):
    """The first of the tokenizer folders `names` whose files differ
    between `data_dir` and `run_dir` (byte for byte), or None."""
    for name in names:
        first, second = (os.path.join(d, name) for d in (data_dir, run_dir))
        if not (os.path.isdir(first) and os.path.isdir(second)):
            return name
        files = sorted(os.listdir(first))
        if files != sorted(os.listdir(second)):
            return name
        _, mismatch, errors = filecmp.cmpfiles(
            first, second, files, shallow=False
        )
        if mismatch or errors:
            return name
    return None
