"""What the example scripts share: arguments, data paths and the training call.

Each example describes its dataset as `TrainingConfig` values with paths
relative to the data folder; this module resolves them and trains.
"""

import argparse
import json
import os


def default_data_dir():
    here = os.path.dirname(os.path.abspath(__file__))
    return os.environ.get(
        "ATTNPRED_DATA", os.path.join(here, "..", "..", "shared", "data")
    )


def run_example(name, description, config_values, path_fields):
    """Parses the common flags, resolves data paths and trains one run.

    Args:
        name: short name, the default run directory is `runs/<name>`.
        description: what the example does, for `--help`.
        config_values: `TrainingConfig` values; the fields in `path_fields`
            hold paths (or pairs of paths) relative to the data folder.
        path_fields: names of the fields that are data paths.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--data-dir",
        default=default_data_dir(),
        help="the datasets folder (default: $ATTNPRED_DATA or ../shared/data)",
    )
    parser.add_argument("--out", default=os.path.join("runs", name))
    parser.add_argument("--model", choices=["transformer", "rnn"])
    parser.add_argument("--preset", choices=["tiny", "small", "base"])
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument(
        "--max-examples", type=int, help="train on at most this many examples"
    )
    parser.add_argument(
        "--overwrite", action="store_true",
        help="replace a finished run in --out",
    )
    args = parser.parse_args()

    from keras_attnpred.training import TrainingConfig
    from keras_attnpred.training import train

    def resolve(value):
        if isinstance(value, (list, tuple)):
            return [os.path.join(args.data_dir, part) for part in value]
        return os.path.join(args.data_dir, value)

    values = dict(config_values)
    for field in path_fields:
        if values.get(field) is not None:
            values[field] = resolve(values[field])
    for field in ("model", "preset", "epochs", "batch_size", "max_examples"):
        if getattr(args, field) is not None:
            values[field] = getattr(args, field)
    run = train(TrainingConfig.from_dict(values), args.out,
                overwrite=args.overwrite)
    print(json.dumps(run.metrics, indent=2))
    return run
