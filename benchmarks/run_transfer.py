"""Brings a run directory back from the GPU machine in pieces.

The device tool returns at most 8 files of 16 MiB each. `pack` writes a
run's small files as one tar and its model, saved again without the
optimizer's state (which only resuming needs), in pieces of 15 MiB;
`unpack` puts them together into a run directory that `attnpred
evaluate` reads like any other:

    python benchmarks/run_transfer.py pack runs/quality/NAME $OUT       # there
    python benchmarks/run_transfer.py unpack FOLDER NAME runs/quality/NAME  # here
"""

import argparse
import glob
import io
import json
import os
import shutil
import tarfile

PIECE = 15 * 2**20
COMPILE_CONFIG = "compile_config.json"
# Only resuming and TensorBoard need these.
LEFT_BEHIND = ("model.keras", "backup", "checkpoints", "logs")


def pack(args):
    import keras

    import keras_attnpred  # noqa: F401  (registers the model classes)

    name = os.path.basename(os.path.normpath(args.run))
    os.makedirs(args.out, exist_ok=True)
    with tarfile.open(os.path.join(args.out, f"{name}.tar"), "w") as tar:
        for entry in sorted(os.listdir(args.run)):
            if entry not in LEFT_BEHIND:
                tar.add(os.path.join(args.run, entry), arcname=entry)
    path = os.path.join(args.run, "model.keras")
    # Without the optimizer (two more copies of the weights): its settings
    # travel as JSON, and `unpack` compiles with them.
    compile_config = keras.saving.load_model(path).get_compile_config()
    model = keras.saving.load_model(path, compile=False)
    with tarfile.open(os.path.join(args.out, f"{name}.tar"), "a") as tar:
        info = tarfile.TarInfo(COMPILE_CONFIG)
        data = json.dumps(compile_config).encode()
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    whole = os.path.join(args.out, f"{name}.model.keras")
    model.save(whole)
    with open(whole, "rb") as f:
        index = 0
        while chunk := f.read(PIECE):
            with open(f"{whole}.part{index}", "wb") as piece:
                piece.write(chunk)
            index += 1
    os.remove(whole)
    print(f"packed {args.run} into {args.out}: {name}.tar and {index} pieces")


def unpack(args):
    os.makedirs(args.run, exist_ok=True)
    with tarfile.open(os.path.join(args.folder, f"{args.name}.tar")) as tar:
        tar.extractall(args.run, filter="data")
    pieces = sorted(
        glob.glob(os.path.join(args.folder, f"{args.name}.model.keras.part*")),
        key=lambda path: int(path.rsplit("part", 1)[1]),
    )
    if not pieces:
        raise SystemExit(f"no model pieces of {args.name} in {args.folder}")
    path = os.path.join(args.run, "model.keras")
    with open(path, "wb") as whole:
        for piece_path in pieces:
            with open(piece_path, "rb") as piece:
                shutil.copyfileobj(piece, whole)
    import keras

    import keras_attnpred  # noqa: F401  (registers the model classes)

    config_path = os.path.join(args.run, COMPILE_CONFIG)
    with open(config_path, encoding="utf-8") as f:
        compile_config = json.load(f)
    os.remove(config_path)
    model = keras.saving.load_model(path, compile=False)
    model.compile_from_config(compile_config)
    model.save(path)
    print(f"unpacked {args.name} into {args.run} ({len(pieces)} pieces)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    steps = parser.add_subparsers(dest="step", required=True)
    step = steps.add_parser("pack")
    step.add_argument("run")
    step.add_argument("out")
    step.set_defaults(func=pack)
    step = steps.add_parser("unpack")
    step.add_argument("folder")
    step.add_argument("name")
    step.add_argument("run")
    step.set_defaults(func=unpack)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
