"""E-mail channel throughput: messages/s through the aiosmtplib pool against aiosmtpd.

    .venv/bin/python bench/smtp.py --messages 20000 --pool 16 --batch 1000

The SMTP server (aiosmtpd, counting and discarding messages) runs in its own process on
127.0.0.1, so the client and the server do not share one interpreter's GIL. The client is
the real EmailChannel (multipart text + HTML, List-Unsubscribe with a signed token per
message). Prints JSON: messages, seconds, messages/s, connections opened, and the CPU seconds of
the client and of the server process (on a shared machine the CPU per message says more
than the wall clock).
Target (issue 6): >= 1,000 e-mails/s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import socket
import tempfile
import time
from typing import Any


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server(port: int, ready: Any, stop: Any, count: Any, cpu: Any) -> None:
    from aiosmtpd.controller import Controller

    class Sink:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            with count.get_lock():
                count.value += 1
            return "250 queued"

    ctl = Controller(Sink(), hostname="127.0.0.1", port=port)
    ctl.start()
    ready.set()
    stop.wait()
    cpu.value = time.process_time()
    ctl.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=20_000, help="e-mails to send")
    ap.add_argument("--pool", type=int, default=16, help="SMTP connections in the pool")
    ap.add_argument("--batch", type=int, default=1000, help="messages per send_batch call")
    args = ap.parse_args()
    os.environ.setdefault("TELCAMP_VAR_DIR", tempfile.mkdtemp(prefix="telcamp-bench-smtp-"))

    from telcamp.channels.base import DeliveryUpdate, OutboundMessage
    from telcamp.channels.email import EmailChannel
    from telcamp.channels.settings import SmtpConfig

    port = _free_port()
    ready, stop, count, server_cpu = mp.Event(), mp.Event(), mp.Value("q", 0), mp.Value("d", 0)
    proc = mp.Process(target=_server, args=(port, ready, stop, count, server_cpu), daemon=True)
    proc.start()
    ready.wait(10)
    channel = EmailChannel(SmtpConfig(host="127.0.0.1", port=port, pool_size=args.pool,
                                      sender="offers@bench.test"))
    messages = [OutboundMessage(
        contact_id=i, msisdn=str(79000000000 + i), channel="email",
        body=f"Subject: Offer {i}\nHello {i},\n\nyour 5 GB bonus is waiting.\n\nTelcamp",
        address=f"user{i}@bench.test") for i in range(args.messages)]

    async def sink(_u: DeliveryUpdate) -> None:
        return None

    async def run() -> tuple[float, dict[str, int]]:
        await channel.start(sink)
        await channel.send_batch(messages[:args.pool])  # open the pool before timing
        outcomes: dict[str, int] = {}
        t0 = time.perf_counter()
        for i in range(args.pool, len(messages), args.batch):
            for r in await channel.send_batch(messages[i:i + args.batch]):
                outcomes[r.outcome] = outcomes.get(r.outcome, 0) + 1
        elapsed = time.perf_counter() - t0
        await channel.close()
        return elapsed, outcomes

    cpu0 = time.process_time()
    elapsed, outcomes = asyncio.run(run())
    cpu = time.process_time() - cpu0
    stop.set()
    proc.join(10)
    timed = len(messages) - args.pool
    print(json.dumps({
        "messages": timed, "seconds": round(elapsed, 3),
        "messages_per_s": round(timed / elapsed, 1), "pool": args.pool,
        "batch": args.batch, "connections_opened": channel.connections_opened,
        "outcomes": outcomes, "server_received": count.value,
        "client_cpu_s": round(cpu, 2), "server_cpu_s": round(server_cpu.value, 2),
        "client_cpu_ms_per_message": round(1000 * cpu / len(messages), 3),
        "load_avg": os.getloadavg()[0]}))


if __name__ == "__main__":
    main()
