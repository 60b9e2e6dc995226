"""A scripted labeller for `kinema label`: drives headless Chromium through chromedriver (W3C WebDriver) and labels
every frame the app shows, as a person would, with clicks, drags and keys; the answers come from a reference table.

    python3 scripted_labeller.py URL REFERENCE.csv [--min-likelihood 0.1]

URL is what `kinema label` printed (with its token). REFERENCE.csv is a prediction table (DeepLabCut/LP columns
scorer/bodyparts/coords with x, y, likelihood; one row per frame number) standing in for the person's judgement:
frame `.../img0042.png` gets row 42. A keypoint whose reference likelihood is under --min-likelihood is marked not
visible (key v).

Frames already labelled are left alone. A frame showing machine labels (after `kinema outliers`) is refined: every
machine point more than 3 px from the reference is dragged there, then Enter saves the frame; other frames are
labelled by clicking each keypoint. Prints one line per frame and a summary. Used by labelling-loop.sh; Python only
drives the browser here, Kinema's app is what is being used.
"""
import argparse
import csv
import http.client
import json
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from urllib.parse import urlparse


class WebDriver:
    """One chromedriver process with one headless Chromium session; every call answers within `timeout` s."""

    def __init__(self, chromium, driver):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.process = subprocess.Popen([driver, f"--port={self.port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 20
        while True:
            try:
                self.call("GET", "/status", timeout=2)
                break
            except OSError:
                if self.process.poll() is not None or time.time() > deadline:
                    raise SystemExit(f"scripted labeller: chromedriver did not start on port {self.port}")
                time.sleep(0.1)
        options = {"binary": chromium, "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                                "--window-size=1200,900", "--force-device-scale-factor=1"]}
        capabilities = {"browserName": "chrome", "goog:chromeOptions": options,
                        "timeouts": {"pageLoad": 20000, "script": 10000, "implicit": 0}}
        answer = self.call("POST", "/session", {"capabilities": {"alwaysMatch": capabilities}}, timeout=60)
        self.session = "/session/" + answer["sessionId"]

    def call(self, method, path, body=None, timeout=30):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(method, path, body=None if body is None else json.dumps(body),
                               headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            value = json.loads(response.read() or b"{}").get("value")
        finally:
            connection.close()
        if response.status != 200:
            raise RuntimeError(f"WebDriver {method} {path}: {value}")
        return value

    def quit(self):
        try:
            self.call("DELETE", self.session, timeout=10)
        except Exception:
            pass
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()

    def run(self, script, *args):
        return self.call("POST", self.session + "/execute/sync", {"script": script, "args": list(args)})

    def wait(self, condition, seconds=30):
        deadline = time.time() + seconds
        while not self.run(f"return !!(window.kinema && ({condition}))"):
            if time.time() > deadline:
                status = self.run("return document.getElementById('status').textContent")
                raise SystemExit(f"scripted labeller: waited {seconds} s for {condition}; the page says: {status}")
            time.sleep(0.03)

    def client(self, x, y):
        cx, cy = self.run("return kinema.imageToClient(arguments[0], arguments[1])", x, y)
        return round(cx), round(cy)

    def pointer(self, actions):
        self.call("POST", self.session + "/actions", {"actions": [
            {"type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"}, "actions": actions}]})

    def click(self, at):
        self.pointer([move(at), {"type": "pointerDown", "button": 0}, {"type": "pointerUp", "button": 0}])

    def drag(self, start, end):
        middle = ((start[0] + end[0]) // 2, (start[1] + end[1]) // 2)
        self.pointer([move(start), {"type": "pointerDown", "button": 0}, move(middle, 50), move(end, 50),
                      {"type": "pointerUp", "button": 0}])

    def wheel(self, at, delta_y):
        self.call("POST", self.session + "/actions", {"actions": [{"type": "wheel", "id": "wheel", "actions": [
            {"type": "scroll", "x": at[0], "y": at[1], "deltaX": 0, "deltaY": delta_y, "origin": "viewport"}]}]})

    def press(self, key):
        self.call("POST", self.session + "/actions", {"actions": [{"type": "key", "id": "keyboard", "actions": [
            {"type": "keyDown", "value": key}, {"type": "keyUp", "value": key}]}]})


def move(at, duration=0):
    return {"type": "pointerMove", "origin": "viewport", "x": at[0], "y": at[1], "duration": duration}


def read_reference(path):
    """Frame number -> [(x, y, likelihood)] per keypoint, and the keypoint names, from a DLC/LP prediction CSV."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    bodyparts, coords = rows[1][1:], rows[2][1:]
    names = [bodyparts[i] for i in range(0, len(coords)) if coords[i] == "x"]
    table = {}
    for row in rows[3:]:
        values = [float(v) if v else math.nan for v in row[1:]]
        table[int(float(row[0]))] = [tuple(values[i:i + 3]) for i in range(0, len(values), 3)]
    return table, names


class Labeller:
    def __init__(self, browser, reference, names, min_likelihood):
        self.browser, self.reference, self.min_likelihood = browser, reference, min_likelihood
        self.names = names
        self.clicks = self.drags = self.hidden = self.zooms = 0

    def select(self, k):
        self.browser.run("document.querySelector('#keypoints li:nth-child(' + arguments[0] + ')').click()", k + 1)

    def place(self, k, x, y):
        """Clicks keypoint k at (x, y). A click within 10 screen px of a placed point would grab that point instead,
        as for a person, so where two keypoints nearly touch the labeller zooms in around the spot first."""
        b = self.browser
        self.select(k)
        placed = lambda: b.run("return kinema.state.kinds[arguments[0]]", k) == "placed"
        for attempt in range(3):
            b.click(b.client(x, y))
            self.clicks += 1
            b.wait("kinema.idle()")
            if placed():
                break
            self.select(k)
            b.wheel(b.client(x, y), -400)  # about 1.8x around the spot
            self.zooms += 1
        else:
            # On top of another keypoint (the two coincide): place it on free ground nearby, then drag it there.
            cx, cy = b.client(x, y)
            for dx, dy in ((25, 0), (-25, 0), (0, 25), (0, -25), (25, 25), (-25, -25)):
                b.click((cx + dx, cy + dy))
                self.clicks += 1
                b.wait("kinema.idle()")
                if placed():
                    b.drag((cx + dx, cy + dy), (cx, cy))
                    self.drags += 1
                    b.wait("kinema.idle()")
                    break
                self.select(k)
            else:
                raise SystemExit(f"scripted labeller: could not place keypoint {self.names[k]} at ({x:.1f}, {y:.1f})")
        if self.zooms and b.run("return kinema.state.view.scale") > self.fitted_scale * 1.01:
            b.press("0")

    def frame(self):
        b = self.browser
        name = b.run("const s = kinema.state; return s.project.videos[s.video].frames[s.frame]")
        kinds = b.run("return kinema.state.kinds")
        if all(kind in ("placed", "hidden") for kind in kinds):
            return name, "already labelled"
        match = re.search(r"img0*(\d+)\.png$", name)
        if not match or int(match.group(1)) not in self.reference:
            raise SystemExit(f"scripted labeller: no reference row for {name}")
        answers = self.reference[int(match.group(1))]
        self.fitted_scale = b.run("return kinema.state.view.scale")
        if "machine" in kinds:
            moved = hidden = 0
            points = b.run("return kinema.state.points")
            for k, (x, y, likelihood) in enumerate(answers):
                if likelihood < self.min_likelihood or math.isnan(x):
                    if points[k] is not None:
                        self.select(k)
                        b.press("v")
                        b.wait("kinema.idle()")
                        hidden += 1
                elif points[k] is None:
                    self.place(k, x, y)
                    moved += 1
                elif math.hypot(points[k][0] - x, points[k][1] - y) > 3:
                    b.drag(b.client(*points[k]), b.client(x, y))
                    self.drags += 1
                    b.wait("kinema.idle()")
                    moved += 1
            b.press("\ue007")  # Enter: the frame as shown becomes a human-labelled frame
            b.wait("kinema.idle()")
            self.hidden += hidden
            return name, f"refined: {moved} moved, {hidden} marked not visible"
        hidden = 0
        for k, (x, y, likelihood) in enumerate(answers):
            if likelihood < self.min_likelihood or math.isnan(x):
                self.select(k)
                b.press("v")
                b.wait("kinema.idle()")
                hidden += 1
            else:
                self.place(k, x, y)
        self.hidden += hidden
        return name, f"labelled: {len(answers) - hidden} placed, {hidden} not visible"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("reference")
    parser.add_argument("--min-likelihood", type=float, default=0.1)
    args = parser.parse_args()
    chromium = next((p for p in map(shutil.which, ["chromium", "chromium-browser", "google-chrome"]) if p), None)
    driver = shutil.which("chromedriver")
    if not chromium or not driver:
        raise SystemExit("scripted labeller: needs chromium and chromedriver (Debian: apt-get install chromium chromium-driver)")
    reference, names = read_reference(args.reference)
    browser = WebDriver(chromium, driver)
    try:
        browser.call("POST", browser.session + "/url", {"url": args.url})
        browser.wait("kinema.idle()")
        total = browser.run("return kinema.state.project.videos.reduce((n, v) => n + v.frames.length, 0)")
        keypoints = browser.run("return kinema.state.project.keypoints")
        if keypoints != names:
            raise SystemExit(f"scripted labeller: the reference's keypoints {names} are not the project's {keypoints}")
        labeller = Labeller(browser, reference, names, args.min_likelihood)
        # Start at the very first frame, then → through all of them, as a person would.
        browser.run("document.querySelector('#videos li').click()")
        browser.wait("kinema.idle() && kinema.state.video === 0 && kinema.state.frame === 0")
        started = time.time()
        for i in range(total):
            name, what = labeller.frame()
            print(f"{name}: {what}", flush=True)
            if i + 1 < total:
                before = browser.run("const s = kinema.state; return [s.video, s.frame]")
                browser.press("\ue014")  # →
                browser.wait(f"kinema.idle() && [kinema.state.video, kinema.state.frame].join() !== '{before[0]},{before[1]}'")
        print(f"scripted labeller: {total} frames in {time.time() - started:.1f} s: {labeller.clicks} clicks, "
              f"{labeller.drags} drags, {labeller.hidden} keypoints marked not visible, {labeller.zooms} zooms", flush=True)
    finally:
        browser.quit()


if __name__ == "__main__":
    main()
