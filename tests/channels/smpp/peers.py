"""Real SMPP peers on 127.0.0.1 for the tests and the benchmark: node-smpp driven by
node_smsc.js in a child process, and the smpp34 (Rust) server in this process."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]
SCRIPT = Path(__file__).with_name("node_smsc.js")


def node_modules() -> Path:
    return Path(os.environ.get("TELCAMP_NODE_MODULES", REPO / "node_modules"))


def node_available() -> tuple[bool, str]:
    if shutil.which("node") is None:
        return False, "node is not installed"
    if not (node_modules() / "smpp" / "package.json").exists():
        return False, f"{node_modules()}/smpp missing (run `make setup`)"
    return True, ""


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(coro: Coroutine[Any, Any, Any], timeout: float = 60) -> Any:
    """Run one test's scenario in a fresh event loop, bounded in time."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


class NodeSmsc:
    """node_smsc.js as a child process; stdout events collected by a thread."""

    def __init__(self, config: dict[str, Any] | None = None, port: int = 0) -> None:
        self.config = dict(config or {})
        self.config["port"] = port
        self.events: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._stdin_lock = threading.Lock()
        self._syncs = 0
        env = dict(os.environ, NODE_PATH=str(node_modules()))
        self.proc = subprocess.Popen(
            ["node", str(SCRIPT), json.dumps(self.config)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=env, text=True, bufsize=1,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        ev = self.wait_for(lambda e: e["ev"] == "listening", timeout=15)
        self.port = int(ev["port"])

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            line = line.strip()
            if line.startswith("{"):
                with self._lock:
                    self.events.append(json.loads(line))

    def settle(self, timeout: float = 10) -> None:
        """Wait until every event node has written so far is read: a sync command comes
        back after them on the same stdout. Without it a test asserting right after the
        client's last response could read the log one event short (seen on a loaded
        machine). A dead SMSC has nothing more to say."""
        if self.proc.poll() is not None:
            return
        with self._stdin_lock:
            self._syncs += 1
            token = self._syncs
        try:
            self.command(cmd="sync", token=token)
        except (BrokenPipeError, OSError, ValueError):  # exiting, or stdin already closed
            return
        self.wait_for(lambda e: e["ev"] == "sync" and e.get("token") == token, timeout)

    def of(self, kind: str) -> list[dict[str, Any]]:
        self.settle()
        with self._lock:
            return [e for e in self.events if e["ev"] == kind]

    def wait_for(self, pred: Callable[[dict[str, Any]], bool], timeout: float = 10,
                 count: int = 1) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                hits = [e for e in self.events if pred(e)]
            if len(hits) >= count:
                return hits[count - 1]
            if self.proc.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.01)
        err = self.proc.stderr.read() if self.proc.poll() is not None and self.proc.stderr else ""
        raise AssertionError(f"node SMSC: event not seen in {timeout}s; stderr={err!r}")

    async def await_event(self, pred: Callable[[dict[str, Any]], bool], timeout: float = 10,
                          count: int = 1) -> dict[str, Any]:
        return await asyncio.to_thread(self.wait_for, pred, timeout, count)

    def command(self, **cmd: Any) -> None:
        assert self.proc.stdin is not None
        with self._stdin_lock:
            self.proc.stdin.write(json.dumps(cmd) + "\n")
            self.proc.stdin.flush()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self._reader.join(timeout=5)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.kill()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


class Smpp34Smsc:
    """The SMPP server of PyPI smpp34 (Rust/tokio) answering every submit_sm with an id and,
    when asked, a delivery receipt. Runs in the caller's event loop."""

    def __init__(self, port: int, *, receipts: bool = True) -> None:
        import smpp34

        self.port = port
        self.receipts = receipts
        self.server = smpp34.Server(host="127.0.0.1", port=port, system_id="smpp34-smsc")
        self.submits: list[Any] = []
        self.binds: list[str] = []
        self.sessions: dict[str, Any] = {}
        self._task: asyncio.Task[None] | None = None
        self._counter = 5000

    async def start(self) -> None:
        await self.server.start()
        self._task = asyncio.create_task(self._serve())

    async def _serve(self) -> None:
        import smpp34

        while True:
            ev = await self.server.next()
            if isinstance(ev, smpp34.Esme):
                self.sessions[ev.session_id] = ev
                self.binds.append(ev.system_id)
            elif isinstance(ev, smpp34.SubmitSmEvent):
                self._counter += 1
                mid = f"{self._counter:x}"
                self.submits.append((mid, ev))
                ev.accept(message_id=mid)
                esme = self.sessions.get(ev.session_id)
                if self.receipts and ev.registered_delivery & 1 and esme is not None:
                    text = f"id:{mid} sub:001 dlvrd:001 submit date:2611221200 " \
                           f"done date:2611221201 stat:DELIVRD err:000 text:x"
                    await esme.deliver_sm(ev.source_addr, text.encode(), esm_class=0x04,
                                          source_addr=ev.destination_addr)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        await self.server.stop()
