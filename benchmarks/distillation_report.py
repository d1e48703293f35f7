"""Files the results of `benchmarks/device/distillation.sh` under
`benchmarks/results/`, with the CPU figures of the students measured here.

    python benchmarks/distillation_report.py RESULTS_DIR \\
        [--exports NAME=EXPORT_QUALITY_JSON ...] [--out benchmarks/results]

RESULTS_DIR is the script's `results/` folder (unpacked from
`results.tar`): for each student NAME, `NAME.metrics.json` (its run's
`metrics.json`, with the teacher and the distillation settings) and
`NAME.test.json` (`attnpred evaluate` on the test part). Each becomes
`distillation_<backend>_<device>_<NAME>.json`; `--exports` adds the
report of `benchmarks/export_quality.py` on the student's run (TFLite
sizes and CPU latency at batch 1). Backend, device, commit and date are
given (the device records none of them in these files).
"""

import argparse
import glob
import json
import os

from _attnpred import ROOT
from _attnpred import write_report


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results_dir")
    parser.add_argument("--exports", nargs="*", default=[],
                        help="NAME=JSON of benchmarks/export_quality.py")
    parser.add_argument("--backend", default="jax")
    parser.add_argument("--device", required=True, help="e.g. h200")
    parser.add_argument("--commit", required=True)
    parser.add_argument("--date", required=True, help="YYYY-MM-DD")
    parser.add_argument(
        "--out", default=os.path.join(ROOT, "benchmarks", "results")
    )
    args = parser.parse_args()
    exports = dict(item.split("=", 1) for item in args.exports)
    paths = sorted(glob.glob(os.path.join(args.results_dir,
                                          "*.metrics.json")))
    if not paths:
        raise SystemExit(f"no student's metrics.json in {args.results_dir}")
    for path in paths:
        name = os.path.basename(path)[: -len(".metrics.json")]
        metrics = _read(path)
        test = os.path.join(args.results_dir, name + ".test.json")
        report = {
            "benchmark": "distillation",
            "command": "benchmarks/device/distillation.sh: attnpred distill "
            f"TEACHER --student examples/configs/{name}.yaml ...; attnpred "
            "evaluate --part test",
            "config": f"examples/configs/{name}.yaml",
            "backend": args.backend,
            "device": args.device,
            "commit": args.commit,
            "date": args.date,
            "teacher": metrics.get("distillation", {}),
            "parameters": metrics.get("parameter_count"),
            "training_seconds": metrics.get("training_seconds"),
            "validation": metrics.get("validation"),
            "test": _read(test) if os.path.exists(test) else None,
            "metrics": metrics,
        }
        if name in exports:
            report["exports_cpu"] = _read(exports[name])
        out = os.path.join(
            args.out, f"distillation_{args.backend}_{args.device}_{name}.json"
        )
        write_report(out, report)
        print(f"wrote {os.path.relpath(out, ROOT)}")


def _read(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


if __name__ == "__main__":
    main()
