"""Runs `attnpred` in a process where TensorFlow cannot be imported.

    python tests/training/without_tensorflow.py train --prepared DIR ...
    python tests/training/without_tensorflow.py train ... --then evaluate ...

The GPU machines have JAX but no TensorFlow: this is how the tests show that
training from a prepared folder needs none. Commands joined by `--then` run
one after the other in this one process (JAX starts once), each output
followed by a `SEPARATOR` line; the first that fails ends the process with
its status. The block is checked once all have run.
"""

import importlib.abc
import sys

BLOCKED = ("tensorflow", "tensorflow_text", "tf_keras", "tensorboard")
THEN = "--then"
SEPARATOR = "=== end of attnpred command ==="


class _NoTensorFlow(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(
                f"No module named {name!r} (blocked by {__file__})",
                name=name,
            )
        return None


def _commands(argv):
    commands = [[]]
    for arg in argv:
        if arg == THEN:
            commands.append([])
        else:
            commands[-1].append(arg)
    return commands


if __name__ == "__main__":
    sys.meta_path.insert(0, _NoTensorFlow())
    from keras_attnpred import cli

    code = 0
    for argv in _commands(sys.argv[1:]):
        code = cli.main(argv)
        print(SEPARATOR, flush=True)
        if code:
            break
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
    if loaded:
        print(f"imported despite the block: {loaded}", file=sys.stderr)
        code = code or 3
    sys.exit(code)
