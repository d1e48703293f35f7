"""The README's Python snippets run as written, so they cannot rot."""

import os
import re

import pytest

README = os.path.join(os.path.dirname(__file__), "..", "README.md")


def python_snippets():
    with open(README, encoding="utf-8") as f:
        return re.findall(r"```python\n(.*?)```", f.read(), flags=re.DOTALL)


def test_readme_has_snippets():
    assert len(python_snippets()) >= 2


@pytest.mark.parametrize("index", range(len(python_snippets())))
def test_readme_snippet_runs(index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exec(compile(python_snippets()[index], f"README.md snippet {index}", "exec"), {})
