"""URL downloads: complete or not at all, pinned by hash, size-capped.

A local server on 127.0.0.1 serves good files, bodies cut short, bodies
that never end, and counts requests. Nothing here needs TensorFlow.
"""

import hashlib
import http.server
import os
import re
import signal
import subprocess
import sys
import threading
import time

import pytest

from keras_attnpred.data import LabeledTexts
from keras_attnpred.data import text_file

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
GOOD = b"text,label\nfine film,1\ndull film,0\n"


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        self.server.requests.append(self.path)
        if self.path.startswith("/good.csv"):
            body = self.server.good
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path == "/short.csv":
            # Announces 1000 bytes, sends fewer and closes.
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(GOOD)
            self.close_connection = True
        elif self.path == "/endless.csv":
            # No Content-Length, a body that never ends.
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"text,label\n")
            line = b"x" * 1023 + b"\n"
            try:
                while True:
                    self.wfile.write(line * 64)
            except OSError:
                pass
            self.close_connection = True
        elif self.path == "/huge.csv":
            self.send_response(200)
            self.send_header("Content-Length", str(50 * 2**20))
            self.end_headers()
            self.close_connection = True
        else:
            self.send_error(404)


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.requests = []
    httpd.good = GOOD
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,),
                              daemon=True)
    thread.start()
    httpd.url = lambda name: f"http://127.0.0.1:{httpd.server_address[1]}/{name}"
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()


def cached_files(cache):
    folder = cache / "datasets" / "keras_attnpred"
    return sorted(os.listdir(folder)) if folder.exists() else []


def test_a_body_cut_short_is_refused_and_not_cached(server, tmp_path):
    cache = tmp_path / "cache"
    with pytest.raises(ValueError, match=r"short.csv: download cut short: "
                       r"\d+ of the 1,000 bytes the server announced"):
        LabeledTexts.from_csv(server.url("short.csv"), "text", "label",
                              cache_dir=str(cache))
    assert cached_files(cache) == []  # nothing for a later run to reuse


def test_a_partial_file_of_a_killed_download_is_never_read(server, tmp_path):
    cache = tmp_path / "cache"
    url = server.url("good.csv")
    first = LabeledTexts.from_csv(url, "text", "label", cache_dir=str(cache))
    [name] = cached_files(cache)
    folder = cache / "datasets" / "keras_attnpred"
    # What SIGKILL mid-download leaves: a partial file under another name.
    os.remove(folder / name)
    (folder / f".{name}.abc123.part").write_bytes(GOOD[:10])
    again = LabeledTexts.from_csv(url, "text", "label", cache_dir=str(cache))
    assert again.texts == first.texts
    assert len(server.requests) == 2
    assert cached_files(cache) == [name]  # the leftover was removed


def test_an_endless_body_stops_at_the_size_cap(server, tmp_path):
    cache = tmp_path / "cache"
    with text_file.download_limit(1):  # MB
        with pytest.raises(ValueError, match=r"endless.csv: the download "
                           r"is larger than the limit of 1 MB .*"
                           r"--max-download-mb"):
            LabeledTexts.from_csv(server.url("endless.csv"), "text",
                                  "label", cache_dir=str(cache))
    assert cached_files(cache) == []


def test_an_announced_size_over_the_cap_is_refused_at_once(server, tmp_path):
    with text_file.download_limit(10):
        with pytest.raises(ValueError, match=r"huge.csv: the download is "
                           r"larger than the limit of 10 MB \(52,428,800 "
                           r"bytes announced\)"):
            text_file.resolve(server.url("huge.csv"),
                              cache_dir=str(tmp_path / "cache"))


def test_sha256_pin_in_the_path(server, tmp_path):
    cache = tmp_path / "cache"
    digest = hashlib.sha256(GOOD).hexdigest()
    url = server.url("good.csv")
    data = LabeledTexts.from_csv(f"{url}#sha256={digest}", "text", "label",
                                 cache_dir=str(cache))
    assert data.texts == ("fine film", "dull film")
    # The server now serves other bytes: the cached file still matches.
    server.good = GOOD.replace(b"dull", b"poor")
    LabeledTexts.from_csv(f"{url}#sha256={digest}", "text", "label",
                          cache_dir=str(cache))
    assert len(server.requests) == 1
    # A cache that no longer matches is downloaded again, then refused.
    [name] = cached_files(cache)
    (cache / "datasets" / "keras_attnpred" / name).write_bytes(b"planted")
    with pytest.raises(ValueError, match=r"good.csv: the sha256 file hash "
                       r"does not match"):
        LabeledTexts.from_csv(f"{url}#sha256={digest}", "text", "label",
                              cache_dir=str(cache))
    assert cached_files(cache) == []
    # A local file takes a pin too.
    local = tmp_path / "local.csv"
    local.write_bytes(GOOD)
    with pytest.raises(ValueError, match=r"local.csv: the sha256 file hash "
                       r"does not match"):
        LabeledTexts.from_csv(f"{local}#sha256={'0' * 64}", "text", "label")
    assert len(LabeledTexts.from_csv(f"{local}#sha256={digest}", "text",
                                     "label")) == 2


def test_an_unusable_keras_home_is_an_error_not_a_shared_folder(
        server, tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("KERAS_HOME", str(blocker / "keras"))
    with pytest.raises(ValueError, match=r"good.csv: cannot create the "
                       r"download cache .*file/keras/datasets/keras_attnpred"
                       r".* set KERAS_HOME"):
        text_file.resolve(server.url("good.csv"))
    assert server.requests == []


def test_dev_null_is_not_a_missing_file():
    with pytest.raises(ValueError, match=r"/dev/null: not a regular file"):
        LabeledTexts.from_csv("/dev/null", "text", "label")


def test_cli_errors_are_one_line(server, tmp_path, monkeypatch, capsys):
    from keras_attnpred import cli

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    common = ["prepare", "--task", "sentiment", "--out", str(tmp_path / "p")]
    for extra, message in (
        (["--data", server.url("good.csv"), "--data-sha256", "0" * 64],
         r"good.csv: the sha256 file hash does not match"),
        (["--data", server.url("good.csv"), "--data-sha256", "abc"],
         r"--data-sha256 must be 64 hex digits"),
        (["--data", server.url("endless.csv"), "--max-download-mb", "0.5"],
         r"endless.csv: the download is larger than the limit of 0.5 MB"),
    ):
        assert cli.main(common + extra) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1, err
        assert re.search(message, err[0]), err


def test_sigterm_mid_download_leaves_no_partial_file(server, tmp_path):
    cache = tmp_path / "cache"
    script = (
        "import sys; from keras_attnpred.data import text_file; "
        "text_file.resolve(sys.argv[1], cache_dir=sys.argv[2])"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script, server.url("endless.csv"), str(cache)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": ROOT},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    folder = cache / "datasets" / "keras_attnpred"
    deadline = time.monotonic() + 120

    def partial_size():
        return sum(p.stat().st_size for p in folder.glob(".*.part"))

    while not folder.exists() or partial_size() < 2**20:
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline, "no partial file"
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM
    assert cached_files(cache) == []
