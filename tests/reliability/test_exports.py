"""Exports a server can read, versions TF Serving can parse, and `--format
both` published whole or not at all."""

import os
import stat
import sys

import pytest

from keras_attnpred.export import _export_utils as utils

MAX_VERSION = 2**63 - 1


def modes(folder):
    """`{relative path: permission bits}` of a folder and all it holds."""
    found = {".": stat.S_IMODE(os.stat(folder).st_mode)}
    for root, directories, names in os.walk(folder):
        for name in directories + names:
            path = os.path.join(root, name)
            found[os.path.relpath(path, folder)] = stat.S_IMODE(
                os.stat(path).st_mode)
    return found


def current_umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_a_published_version_honours_the_umask_not_mkdtemp(env):
    # mkdtemp gave 0700: TF Serving running as another user could not read.
    mask = current_umask()
    found = modes(env.export("classifier"))
    folders = {p for p in found if os.path.isdir(
        os.path.join(env.export("classifier"), p))}
    assert {found[p] for p in folders} == {0o777 & ~mask}, found
    assert {found[p] for p in set(found) - folders} == {0o666 & ~mask}, found


def test_versioned_directory_under_umask_027(tmp_path):
    previous = os.umask(0o027)
    try:
        with utils.versioned_directory(tmp_path / "base", 3) as folder:
            with open(os.path.join(folder, "model.bin"), "wb") as f:
                f.write(b"x")
    finally:
        os.umask(previous)
    assert modes(tmp_path / "base" / "3") == {".": 0o750, "model.bin": 0o640}


@pytest.mark.parametrize("version", [0, -1, MAX_VERSION + 1,
                                     1180591620717411303424])
def test_versions_outside_int64_are_refused(tmp_path, version):
    with pytest.raises(ValueError, match=r"`version` must be"):
        with utils.versioned_directory(tmp_path, version):
            pass
    assert os.listdir(tmp_path) == []


def test_the_largest_version_is_usable_and_has_no_successor(tmp_path):
    with utils.versioned_directory(tmp_path, MAX_VERSION):
        pass
    assert utils.existing_versions(tmp_path) == [MAX_VERSION]
    with pytest.raises(ValueError, match=(
            r"No version is left after 9223372036854775807 in .*: TF Serving "
            r"reads versions as int64")):
        utils.next_version(tmp_path)
    # Names that are digits to str.isdigit but not to int(): not versions.
    os.mkdir(tmp_path / "\u00b2")
    assert utils.existing_versions(tmp_path) == [MAX_VERSION]


def test_cli_export_version_past_int64_is_one_line(env):
    code, err, _ = env.cli("export", env.runs["classification"], "--out",
                           env.tmp / "base", "--version",
                           "1180591620717411303424")
    assert code == 2
    assert err.strip().splitlines() == [
        "attnpred export: error: `version` must be at most "
        "9223372036854775807 (2**63 - 1): TF Serving reads versions as "
        "int64. Received: version=1180591620717411303424"]
    assert not (env.tmp / "base").exists()


def test_publish_together_publishes_all_or_none(tmp_path):
    with pytest.raises(RuntimeError):
        with utils.publish_together():
            with utils.versioned_directory(tmp_path / "a", 1):
                pass
            assert not (tmp_path / "a" / "1").exists()  # not yet
            with utils.versioned_directory(tmp_path / "b", 1):
                raise RuntimeError
    assert os.listdir(tmp_path / "a") == [] and os.listdir(tmp_path / "b") == []
    with utils.publish_together():
        with utils.versioned_directory(tmp_path / "a", 1):
            pass
        with utils.versioned_directory(tmp_path / "b", 1):
            pass
    assert os.listdir(tmp_path / "a") == ["1"]
    # The second rename fails (the version appeared meanwhile): the first
    # is taken back.
    with pytest.raises(ValueError, match="Version 2 exists already"):
        with utils.publish_together():
            with utils.versioned_directory(tmp_path / "a", 2):
                pass
            with utils.versioned_directory(tmp_path / "b", 2):
                pass
            os.mkdir(tmp_path / "b" / "2")
    assert sorted(os.listdir(tmp_path / "a")) == ["1"]


def test_format_both_publishes_neither_when_the_disk_fills(env, monkeypatch):
    import tensorflow as tf

    import keras_attnpred.export  # noqa: F401 (loads the module below)

    # The module: the package's attribute of that name is the function.
    module = sys.modules["keras_attnpred.export.export_classifier_tflite"]

    def disk_full(classifier, directory, **kwargs):
        with open(os.path.join(directory, "classifier_float32.tflite"),
                  "wb") as f:
            f.write(b"TFL3")
        # What TensorFlow raised when the disk filled during the export.
        raise tf.errors.ResourceExhaustedError(
            None, None, f"{directory}/x; No space left on device")

    monkeypatch.setattr(module, "export_classifier_tflite", disk_full)
    base = env.tmp / "base"
    code, err, _ = env.cli("export", env.runs["classification"], "--out",
                           base, "--format", "both")
    assert code == 2
    [line] = err.strip().splitlines()
    assert line.startswith(
        "attnpred export: error: [Errno 28] No space left on device while "
        f"writing {base}/tflite/1 (nothing of this version was published)"
    ), line
    # SavedModel version 1 stayed published before: neither is now.
    assert os.listdir(base) == ["tflite"]
    assert os.listdir(base / "tflite") == []
