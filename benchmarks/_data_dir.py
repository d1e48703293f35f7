"""Where the benchmarks find the shared datasets."""

import os


def default_data_dir():
    """`$ATTNPRED_DATA`, else `../shared/data` beside the repository."""
    here = os.path.dirname(os.path.abspath(__file__))
    return os.environ.get(
        "ATTNPRED_DATA", os.path.join(here, "..", "..", "shared", "data")
    )
