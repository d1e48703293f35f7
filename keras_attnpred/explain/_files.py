"""Writing the pictures (private)."""

import os


def write_output(path, data):
    """Writes str (UTF-8) or bytes to `path`, making its folder."""
    directory = os.path.dirname(os.fspath(path))
    if directory:
        os.makedirs(directory, exist_ok=True)
    if isinstance(data, str):
        with open(path, "w", encoding="utf-8") as f:
            f.write(data)
    else:
        with open(path, "wb") as f:
            f.write(data)
