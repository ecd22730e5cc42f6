#!/usr/bin/env python3
"""Loads the dashboard in Debian's headless chromium over the DevTools protocol.

    check_dashboard.py SPEC.json

SPEC: {"base": "http://127.0.0.1:PORT", "token": "...", "pages": [{"path": "/", "shot": "name", "full": true}],
       "screenshots": "DIR or null"}

First opens "/" without logging in (it must end on the login form), then logs in through the
form (the browser keeps only the HttpOnly cookie), then loads every page. For each page it
prints what a person would see and what went wrong: the final URL, the page's text, its
script elements, every console message of level error, every uncaught exception, every
JavaScript dialog (an injected alert() would open one), and what document.cookie shows.
Screenshots (PNG, the whole page unless "full" is false) go to the screenshots directory when one is given.
Prints one JSON document on stdout.
"""
import base64, json, os, shutil, subprocess, sys, tempfile, time, urllib.request

import websocket  # websocket-client

spec = json.load(open(sys.argv[1]))
profile = tempfile.mkdtemp(prefix="driftless-chromium.")
browser = subprocess.Popen([
    shutil.which("chromium") or "/usr/bin/chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
    "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--hide-scrollbars",
    "--disable-dev-shm-usage",
    "--remote-debugging-port=0", "--remote-allow-origins=*", f"--user-data-dir={profile}",
    "--window-size=1280,900", "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def fail(message):
    print(json.dumps({"error": message}))
    sys.exit(2)


try:
    port_file = os.path.join(profile, "DevToolsActivePort")
    for _ in range(300):
        if os.path.exists(port_file) and open(port_file).read().strip():
            break
        time.sleep(0.1)
    else:
        fail("chromium did not open its DevTools port")
    port = open(port_file).read().split()[0]
    targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10))
    page = next(t for t in targets if t.get("type") == "page")
    ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60, suppress_origin=True)

    counter = [0]
    events = []

    def call(method, **params):
        counter[0] += 1
        ident = counter[0]
        ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(ws.recv())
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            events.append(message)
            if message.get("method") == "Page.javascriptDialogOpening":
                # Dismiss it so the page goes on; it is reported.
                counter[0] += 1
                ws.send(json.dumps({"id": counter[0], "method": "Page.handleJavaScriptDialog", "params": {"accept": True}}))

    def wait_for(method, seconds=60):
        deadline = time.time() + seconds
        while time.time() < deadline:
            for index, event in enumerate(events):
                if event.get("method") == method:
                    del events[index]
                    return event
            ws.settimeout(max(0.1, deadline - time.time()))
            try:
                message = json.loads(ws.recv())
            except websocket.WebSocketTimeoutException:
                break
            events.append(message)
            if message.get("method") == "Page.javascriptDialogOpening":
                counter[0] += 1
                ws.send(json.dumps({"id": counter[0], "method": "Page.handleJavaScriptDialog", "params": {"accept": True}}))
        ws.settimeout(60)
        return None

    def evaluate(expression):
        return call("Runtime.evaluate", expression=expression, returnByValue=True).get("result", {}).get("value")

    def settle():
        """Waits for the load event and a moment for late console messages."""
        wait_for("Page.loadEventFired")
        time.sleep(0.3)
        call("Runtime.evaluate", expression="1")

    def drain():
        """The problems reported since the last drain."""
        problems = {"console_errors": [], "exceptions": [], "dialogs": []}
        for event in events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                problems["console_errors"].append(" ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", [])))
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                problems["console_errors"].append(params["entry"].get("text", ""))
            elif method == "Runtime.exceptionThrown":
                problems["exceptions"].append(params.get("exceptionDetails", {}).get("text", ""))
            elif method == "Page.javascriptDialogOpening":
                problems["dialogs"].append(params.get("message", ""))
        events[:] = []
        return problems

    def look(path, shot=None, full=True):
        events.clear()
        call("Page.navigate", url=spec["base"] + path)
        settle()
        seen = {"path": path, "url": evaluate("location.href"), "title": evaluate("document.title"),
                "text": evaluate("document.body ? document.body.innerText : ''"),
                "scripts": evaluate("Array.from(document.scripts).map(s => s.getAttribute('src') || 'inline:' + s.textContent.slice(0, 80))"),
                "cookie": evaluate("document.cookie")}
        seen.update(drain())
        if shot and spec.get("screenshots"):
            os.makedirs(spec["screenshots"], exist_ok=True)
            image = call("Page.captureScreenshot", format="png", captureBeyondViewport=full)["data"]
            with open(os.path.join(spec["screenshots"], shot + ".png"), "wb") as handle:
                handle.write(base64.b64decode(image))
            seen["screenshot"] = os.path.join(spec["screenshots"], shot + ".png")
        return seen

    for domain in ("Page", "Runtime", "Log"):
        call(domain + ".enable")
    call("Emulation.setDeviceMetricsOverride", width=1280, height=900, deviceScaleFactor=1, mobile=False)

    answer = {"anonymous": look("/"), "pages": []}
    # The login form, filled and sent as a person would.
    login = look("/login", spec.get("login_shot"))
    evaluate("document.getElementById('token').value = %s; document.querySelector('form.login').submit(); 1" % json.dumps(spec["token"]))
    settle()
    login["after"] = {"url": evaluate("location.href"), "cookie": evaluate("document.cookie")}
    login.update({k: v for k, v in drain().items() if v})
    answer["login"] = login
    for entry in spec["pages"]:
        answer["pages"].append(look(entry["path"], entry.get("shot"), entry.get("full", True)))
    ws.close()
    print(json.dumps(answer))
finally:
    browser.terminate()
    try:
        browser.wait(timeout=10)
    except subprocess.TimeoutExpired:
        browser.kill()
    shutil.rmtree(profile, ignore_errors=True)
