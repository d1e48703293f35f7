import functools
import http.server
import threading

import pytest


class _CountingHandler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        self.server.requests.append(self.path)
        super().do_GET()

    def log_message(self, *args):
        pass  # Keep the test output clean.


@pytest.fixture
def http_server(tmp_path):
    """Serves `tmp_path / "served"` on 127.0.0.1 and counts the requests.

    Yields an object with `root` (the served folder), `url(name)` and
    `requests` (the list of request paths so far).
    """
    root = tmp_path / "served"
    root.mkdir()
    handler = functools.partial(_CountingHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.requests = []
    thread = threading.Thread(
        target=server.serve_forever, args=(0.05,), daemon=True
    )
    thread.start()

    class Served:
        pass

    served = Served()
    served.root = root
    served.requests = server.requests
    served.url = lambda name: (
        f"http://127.0.0.1:{server.server_address[1]}/{name}"
    )
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
