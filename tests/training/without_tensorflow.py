"""Runs `attnpred` in a process where TensorFlow cannot be imported.

    python tests/training/without_tensorflow.py train --prepared DIR ...

The GPU machines have JAX but no TensorFlow: this is how the tests show that
training from a prepared folder needs none.
"""

import importlib.abc
import sys

BLOCKED = ("tensorflow", "tensorflow_text", "tf_keras", "tensorboard")


class _NoTensorFlow(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(
                f"No module named {name!r} (blocked by {__file__})",
                name=name,
            )
        return None


if __name__ == "__main__":
    sys.meta_path.insert(0, _NoTensorFlow())
    from keras_attnpred import cli

    code = cli.main(sys.argv[1:])
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
    if loaded:
        print(f"imported despite the block: {loaded}", file=sys.stderr)
        code = code or 3
    sys.exit(code)
