"""Counts the bad-input cases of `cases.py` by kind, as a Markdown table.

    python -m tests.reliability.report

`pytest tests/reliability -q` checks that each case gets what it expects.
"""

import collections

from tests.reliability.cases import CASES
from tests.reliability.cases import KINDS
from tests.reliability.cases import Exits
from tests.reliability.cases import Gives
from tests.reliability.cases import Raises


def table():
    counts = collections.OrderedDict((kind, collections.Counter())
                                     for kind in KINDS)
    entries = collections.defaultdict(set)
    for case in CASES:
        outcome = {Raises: "ValueError", Exits: "CLI exit 2",
                   Gives: "documented result"}[type(case.expect)]
        if outcome == "ValueError" and case.expect.error is not ValueError:
            outcome = "TensorFlow error"
        counts[case.kind][outcome] += 1
        entries[case.kind].add(case.entry)
    columns = ("ValueError", "TensorFlow error", "CLI exit 2",
               "documented result")
    lines = ["| kind of bad input | cases | clear `ValueError` | "
             "TensorFlow's error naming the input or file | CLI: one line, "
             "exit 2 | documented result | entry points |",
             "|---|---|---|---|---|---|---|"]
    for kind, count in counts.items():
        lines.append(
            f"| {kind} | {sum(count.values())} | "
            + "".join(f"{count[c]} | " for c in columns)
            + f"{len(entries[kind])} |")
    total = collections.Counter()
    for count in counts.values():
        total.update(count)
    lines.append(
        f"| **all** | {sum(total.values())} | "
        + "".join(f"{total[c]} | " for c in columns)
        + f"{len({c.entry for c in CASES})} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table())
