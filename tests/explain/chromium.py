"""A small DevTools protocol client for headless Chromium, standard library
only: the browser talks JSON over two pipes (`--remote-debugging-pipe`,
its fds 3 and 4), so no websocket package or chromedriver is needed.

    with Chromium.start() as browser:
        page = browser.open("file:///tmp/page.html")
        page.evaluate("document.title")
        page.hover("#tokens .token")
        png = page.screenshot()
"""

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time

EXECUTABLES = ("chromium", "chromium-browser", "google-chrome")


def find_chromium():
    """The path of a Chromium executable, or None."""
    for name in EXECUTABLES:
        path = shutil.which(name)
        if path:
            return path
    return None


class ProtocolError(RuntimeError):
    pass


class Chromium:
    def __init__(self, process, to_browser, from_browser, profile):
        self.process = process
        self._out = to_browser
        self._in = from_browser
        self._buffer = b""
        self._next_id = 0
        self._events = []
        self._profile = profile

    @classmethod
    def start(cls, executable=None, timeout=30):
        executable = executable or find_chromium()
        if executable is None:
            raise FileNotFoundError("no chromium executable on PATH")
        to_read, to_write = os.pipe()
        from_read, from_write = os.pipe()

        def pipes_to_3_and_4():
            # Out of the way first, so the two dup2 cannot clobber each other.
            a = fcntl.fcntl(to_read, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(from_write, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)

        profile = tempfile.mkdtemp(prefix="attnpred-chromium-")
        process = subprocess.Popen(
            [
                executable,
                "--headless",
                "--remote-debugging-pipe",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--hide-scrollbars",
                "--mute-audio",
                f"--user-data-dir={profile}",
                "about:blank",
            ],
            pass_fds=(3, 4),
            preexec_fn=pipes_to_3_and_4,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_read)
        os.close(from_write)
        browser = cls(process, to_write, from_read, profile)
        browser.timeout = timeout
        browser.call("Browser.getVersion")
        return browser

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        try:
            self.call("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for fd in (self._out, self._in):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self._profile, ignore_errors=True)

    # --- protocol ---
    def send(self, method, params=None, session=None):
        self._next_id += 1
        message = {"id": self._next_id, "method": method,
                   "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._out, json.dumps(message).encode() + b"\0")
        return self._next_id

    def _read_message(self, deadline):
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("chromium did not answer in time")
            ready, _, _ = select.select([self._in], [], [], left)
            if ready:
                chunk = os.read(self._in, 1 << 20)
                if not chunk:
                    raise ProtocolError("chromium closed the pipe")
                self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method, params=None, session=None, timeout=None):
        number = self.send(method, params, session)
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            message = self._read_message(deadline)
            if message.get("id") == number:
                if "error" in message:
                    raise ProtocolError(f"{method}: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self._events.append(message)

    def wait_event(self, method, session=None, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            for k, event in enumerate(self._events):
                if event["method"] == method and (
                    session is None or event.get("sessionId") == session
                ):
                    return self._events.pop(k)
            message = self._read_message(deadline)
            if "method" in message:
                self._events.append(message)

    def open(self, url, width=1280, height=900):
        target = self.call("Target.createTarget", {"url": "about:blank"})
        session = self.call(
            "Target.attachToTarget",
            {"targetId": target["targetId"], "flatten": True},
        )["sessionId"]
        page = Page(self, session)
        page.call("Page.enable")
        page.call("Runtime.enable")
        page.call("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1,
            "mobile": False,
        })
        page.navigate(url)
        return page


class Page:
    def __init__(self, browser, session):
        self.browser = browser
        self.session = session
        self.console_errors = []

    def call(self, method, params=None):
        return self.browser.call(method, params, self.session)

    def navigate(self, url):
        self.browser._events.clear()
        self.call("Page.navigate", {"url": url})
        self.browser.wait_event("Page.loadEventFired", self.session)

    def evaluate(self, expression):
        """The JSON value of a JavaScript expression (promises awaited);
        a thrown exception fails."""
        result = self.call("Runtime.evaluate", {
            "expression": expression, "returnByValue": True,
            "awaitPromise": True,
        })
        if "exceptionDetails" in result:
            raise ProtocolError(
                f"{expression!r} threw: {result['exceptionDetails']}"
            )
        return result["result"].get("value")

    def wait_for(self, expression, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.evaluate(expression):
                return
            time.sleep(0.05)
        raise TimeoutError(f"never true: {expression}")

    def center(self, selector):
        box = self.evaluate(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
            " if (!e) return null; e.scrollIntoView({block: 'center'});"
            " const r = e.getBoundingClientRect();"
            " return [r.left + r.width / 2, r.top + r.height / 2]; })()"
        )
        if box is None:
            raise ProtocolError(f"nothing matches {selector!r}")
        return box

    def hover(self, selector):
        """Moves the mouse onto the element: real `mouseenter` events."""
        x, y = self.center(selector)
        self.call("Input.dispatchMouseEvent",
                  {"type": "mouseMoved", "x": x, "y": y})

    def click(self, selector):
        x, y = self.center(selector)
        self.call("Input.dispatchMouseEvent",
                  {"type": "mouseMoved", "x": x, "y": y})
        moved = self.center(selector)
        if moved != [x, y]:
            raise ProtocolError(
                f"{selector!r} moved from {(x, y)} to {moved} when the "
                "mouse came: the layout jumps on hover"
            )
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", {
                "type": kind, "x": x, "y": y, "button": "left",
                "clickCount": 1,
            })

    def move_away(self):
        self.call("Input.dispatchMouseEvent",
                  {"type": "mouseMoved", "x": 1, "y": 1})

    def screenshot(self, path=None, full_page=True):
        params = {"format": "png"}
        if full_page:
            params["captureBeyondViewport"] = True
            size = self.call("Page.getLayoutMetrics")["cssContentSize"]
            params["clip"] = {"x": 0, "y": 0, "width": size["width"],
                              "height": size["height"], "scale": 1}
        png = base64.b64decode(self.call("Page.captureScreenshot",
                                         params)["data"])
        if path is not None:
            with open(path, "wb") as f:
                f.write(png)
        return png
