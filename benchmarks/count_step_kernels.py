"""Kernels per decoding step, cached against uncached, from XLA's program.

On a GPU a decoding step of a small Transformer is bound by how many kernels
it launches, not by arithmetic. This compiles the cached and the uncached
greedy loops of `decoding_speed.py`'s translator (it takes that script's
`--batch-sizes`, `--length` and model size arguments), asks XLA to dump its
optimised programs, and counts the instructions that run a kernel inside
each decoding loop (its `while` body and condition): fusions, library
calls (`custom-call`: cuBLAS, cuDNN), copies and the like, but not tuples,
parameters, bitcasts or constants. The computations of calls (e.g. command
buffers, which launch their kernels as one CUDA graph), of nested loops
(one trip) and of every branch of a conditional are counted in.

    KERAS_BACKEND=jax python3 benchmarks/count_step_kernels.py --batch-sizes 1 32

Prints one line per loop and writes the counts, by opcode, to `--out`.
The count is of the program, not a profile: XLA:GPU may still run a fusion
as more than one kernel, or a library call as several.
"""

import collections
import glob
import json
import os
import re
import shutil
import sys
import tempfile

# Instructions that name or regroup buffers without running anything.
NOT_LAUNCHED = {
    "parameter",
    "get-tuple-element",
    "tuple",
    "bitcast",
    "constant",
    "after-all",
    "opt-barrier",
    "add-dependency",
}
_COMPUTATION = re.compile(r"^(?:ENTRY )?%?([\w.\-]+) .*\{\s*$")
_INSTRUCTION = re.compile(r"^\s*(?:ROOT )?%?[\w.\-]+ = (.*)$")


def _opcode(rest):
    """The opcode of an instruction's right-hand side: after the shape."""
    if rest.startswith("("):  # a tuple shape: skip its balanced parentheses
        depth = 0
        for position, char in enumerate(rest):
            depth += {"(": 1, ")": -1}.get(char, 0)
            if depth == 0:
                rest = rest[position + 1 :]
                break
    else:
        rest = rest.split(" ", 1)[1] if " " in rest else ""
    match = re.match(r"\s*([\w\-]+)\(", rest)
    return match.group(1) if match else None


def parse_computations(hlo_text):
    """{computation name: [(opcode, instruction text)]} of an HLO module."""
    computations, current = {}, None
    for line in hlo_text.splitlines():
        header = _COMPUTATION.match(line)
        if header and " = " not in line.split("{")[0]:
            current = computations.setdefault(header.group(1), [])
            continue
        instruction = _INSTRUCTION.match(line)
        if instruction and current is not None:
            opcode = _opcode(instruction.group(1))
            if opcode:
                current.append((opcode, line))
    return computations


def _called(line, attribute):
    match = re.search(attribute + r"=%?([\w.\-]+)", line)
    return match.group(1) if match else None


def _kernel_label(opcode, line):
    if opcode == "fusion":
        kind = re.search(r"kind=(\w+)", line)
        return f"fusion:{kind.group(1) if kind else '?'}"
    if opcode == "custom-call":
        target = re.search(r'custom_call_target="([^"]+)"', line)
        return f"custom-call:{target.group(1) if target else '?'}"
    return opcode


def count_launches(computations, name, counts):
    """Adds the launching instructions of computation `name` to `counts`."""
    for opcode, line in computations.get(name, []):
        if opcode in NOT_LAUNCHED:
            continue
        if opcode == "while":
            for attribute in ("condition", "body"):
                count_launches(computations, _called(line, attribute), counts)
        elif opcode == "call":
            count_launches(computations, _called(line, "to_apply"), counts)
        elif opcode == "conditional":
            branches = re.search(r"branch_computations=\{([^}]*)\}", line)
            names = (
                re.findall(r"%?([\w.\-]+)", branches.group(1))
                if branches
                else []
            )
            for attribute in ("true_computation", "false_computation"):
                if _called(line, attribute):
                    names.append(_called(line, attribute))
            for branch in names:
                count_launches(computations, branch, counts)
        else:
            counts[_kernel_label(opcode, line)] += 1
    return counts


def loop_kernels(hlo_text):
    """Launching instructions per iteration of the module's largest loop."""
    computations = parse_computations(hlo_text)
    loops = [
        line
        for instructions in computations.values()
        for opcode, line in instructions
        if opcode == "while"
    ]
    best = collections.Counter()
    for line in loops:
        counts = collections.Counter()
        for attribute in ("condition", "body"):
            count_launches(computations, _called(line, attribute), counts)
        if sum(counts.values()) > sum(best.values()):
            best = counts
    return best


def _new_optimised_modules(dump_dir, seen):
    paths = set(glob.glob(os.path.join(dump_dir, "*after_optimizations.txt")))
    new = sorted(paths - seen)
    seen.update(new)
    return new


def main():
    dump_dir = tempfile.mkdtemp(prefix="xla_dump_")
    # Read when the backend starts: set before anything imports JAX or TF.
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "")
        + f" --xla_dump_to={dump_dir} --xla_dump_hlo_as_text"
    )
    import keras
    import numpy as np

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from decoding_speed import FIRST_CONTENT_ID
    from decoding_speed import make_model
    from decoding_speed import never_end
    from decoding_speed import parse_args

    from keras_attnpred.decoding import greedy_search

    args = parse_args()
    keras.utils.set_random_seed(args.seed)
    model, settings = make_model(args)
    never_end(model)
    rng = np.random.default_rng(args.seed)
    seen = set(_new_optimised_modules(dump_dir, set()))
    results = []
    for batch in args.batch_sizes:
        source = rng.integers(
            FIRST_CONTENT_ID,
            args.vocabulary_size,
            size=(batch, args.source_length),
        )
        for use_cache in (True, False):
            greedy_search(model, source, args.length, use_cache=use_cache)
            counts = collections.Counter()
            for path in _new_optimised_modules(dump_dir, seen):
                with open(path) as f:
                    module_counts = loop_kernels(f.read())
                if sum(module_counts.values()) > sum(counts.values()):
                    counts = module_counts
            decoder = "cached" if use_cache else "uncached"
            total = sum(counts.values())
            print(f"batch {batch} {decoder}: {total} kernels per step")
            results.append(
                {
                    "batch": batch,
                    "decoder": decoder,
                    "per_step": total,
                    "by_opcode": dict(counts.most_common()),
                }
            )
    report = {
        "benchmark": "count_step_kernels",
        "backend": keras.backend.backend(),
        "settings": settings,
        "xla_flags": os.environ["XLA_FLAGS"].replace(dump_dir, "DUMP"),
        "results": results,
    }
    if args.out:
        with open(args.out, "w") as f:
            json.dump(report, f, indent=1)
        print("wrote", args.out)
    shutil.rmtree(dump_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
