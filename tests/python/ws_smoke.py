"""An independent websocket client (the `websockets` package) drives `turnstile --listen ws://`.

Our own tests use tungstenite on both ends; this proves the handshake, framing, pings and close
interoperate with another implementation, and that clients which read Codex's
`listening on: ws://…` line find the port.
"""

import asyncio
import http.client
import json
import re
import signal
import subprocess
import sys
import time

import websockets


def start(binary: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [binary, "app-server", "--listen", "ws://127.0.0.1:0"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        match = re.search(r"listening on: (ws://\S+)", line)
        if match:
            return proc, match.group(1)
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise SystemExit("turnstile never said where it listens")


async def request(ws, id_, method, params):
    await ws.send(json.dumps({"id": id_, "method": method, "params": params}))
    while True:
        frame = json.loads(await ws.recv())
        if frame.get("id") == id_ and "method" not in frame:
            return frame


async def session(url: str) -> None:
    async with websockets.connect(url) as a, websockets.connect(url) as b:
        for ws, name in ((a, "py-a"), (b, "py-b")):
            reply = await request(ws, 1, "initialize", {"clientInfo": {"name": name, "version": "1"}})
            assert "result" in reply, reply
            await ws.send(json.dumps({"method": "initialized"}))
        thread_id = (await request(a, 2, "thread/start", {}))["result"]["thread"]["id"]
        await b.send(json.dumps({"id": 2, "method": "thread/resume", "params": {"threadId": thread_id}}))
        await a.send(json.dumps({"id": 3, "method": "turn/start", "params": {
            "threadId": thread_id, "input": [{"type": "text", "text": "hi over websockets"}]}}))
        for ws in (a, b):
            text = None
            while True:
                frame = json.loads(await ws.recv())
                item = frame.get("params", {}).get("item", {})
                if frame.get("method") == "item/completed" and item.get("type") == "agentMessage":
                    text = item["text"]
                if frame.get("method") == "turn/completed":
                    break
            assert text == "You said: hi over websockets", text
        await (await a.ping(b"still there?"))
    try:
        async with websockets.connect(url, origin="https://page.example"):
            raise AssertionError("a request with an Origin header was accepted")
    except websockets.exceptions.InvalidStatus as refused:
        assert refused.response.status_code == 403, refused


def main(binary: str) -> None:
    proc, url = start(binary)
    try:
        host, port = url.removeprefix("ws://").rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        conn.request("GET", "/readyz")
        assert conn.getresponse().status == 200
        asyncio.run(session(url))
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, proc.returncode
    finally:
        if proc.poll() is None:
            proc.kill()
    print("websockets client: 2 connections, a shared turn, ping, Origin refused, clean exit ok")


if __name__ == "__main__":
    main(sys.argv[1])
