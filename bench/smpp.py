"""SMPP benchmarks (issue 6, item 11) against node-smpp on 127.0.0.1.

1. submit_sm throughput on ONE bind, window 64: our client and the smpp34 (Rust) client,
   alternating against the same node-smpp server process in the same run; the ratio.
2. TPS-limit accuracy: our client with tps=100 and tps=1000 for --duration seconds
   (60 s is the official figure); actual accepted rate and its deviation.

CPU seconds of both processes are reported for each run, to show what limits the figure
(node-smpp answers on one core).

    .venv/bin/python bench/smpp.py --help
    .venv/bin/python bench/smpp.py --messages 200000 --rounds 3 --duration 60
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from telcamp.channels.smpp import BindConfig, OutboundSms, SmppClient  # noqa: E402
from tests.channels.smpp.peers import NodeSmsc, node_available  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")

# the smpp34 (Rust) SMSC in its own process: a faster peer than node-smpp, to show how far
# each client goes when the peer is not the limit
SMPP34_SERVER = """
import asyncio, sys, smpp34
async def main(port):
    srv = smpp34.Server(host="127.0.0.1", port=port, system_id="smpp34-smsc")
    await srv.start()
    print("listening", flush=True)
    n = 0
    while True:
        ev = await srv.next()
        if isinstance(ev, smpp34.SubmitSmEvent):
            n += 1
            ev.accept(message_id=format(n, "x"))
asyncio.run(main(int(sys.argv[1])))
"""


class Smpp34Peer:
    def __init__(self) -> None:
        import socket
        import subprocess

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self.proc = subprocess.Popen([sys.executable, "-c", SMPP34_SERVER, str(self.port)],
                                     stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None and "listening" in self.proc.stdout.readline()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def cpu_seconds(pid: int | str = "self") -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


async def run_ours(port: int, n: int, window: int) -> dict[str, Any]:
    client = SmppClient(BindConfig("127.0.0.1", port, "telcamp", "secret", window=window,
                                   registered_delivery=False, source_addr="Telcamp"))
    await client.start()
    await client.wait_bound(10)
    workers = window
    per = n // workers

    async def worker(w: int) -> int:
        ok = 0
        for i in range(per):
            r = await client.submit(OutboundSms(f"7900{w:03d}{i:05d}", f"Bonus {i} for you"))
            ok += r.ok
        return ok

    t0 = time.perf_counter()
    oks = await asyncio.gather(*(worker(w) for w in range(workers)))
    dt = time.perf_counter() - t0
    await client.close()
    return {"sent": sum(oks), "seconds": dt}


async def run_smpp34(port: int, n: int, window: int) -> dict[str, Any]:
    import smpp34

    client = smpp34.Client(host="127.0.0.1", port=port, system_id="telcamp", password="secret",
                           bind_type="TRX", window_size=window)
    smsc = await client.connect()
    workers = window
    per = n // workers

    async def worker(w: int) -> int:
        ok = 0
        for i in range(per):
            # the same work per message as ours minus what smpp34 does not offer: the text is
            # encoded here (smpp34 takes bytes), no splitting/coding choice, no retry policy
            body = f"Bonus {i} for you".encode("ascii")
            r = await smsc.submit_sm(f"7900{w:03d}{i:05d}", body, source_addr="Telcamp")
            ok += r.is_success
        return ok

    t0 = time.perf_counter()
    oks = await asyncio.gather(*(worker(w) for w in range(workers)))
    dt = time.perf_counter() - t0
    await smsc.unbind()
    await client.stop()
    return {"sent": sum(oks), "seconds": dt}


async def measured(fn: Any, srv: Any, *args: Any) -> dict[str, Any]:
    c_self, c_node = cpu_seconds(), cpu_seconds(srv.proc.pid)
    out = await fn(srv.port, *args)
    out["rate"] = out["sent"] / out["seconds"]
    out["cpu_client_pct"] = 100 * (cpu_seconds() - c_self) / out["seconds"]
    out["cpu_node_pct"] = 100 * (cpu_seconds(srv.proc.pid) - c_node) / out["seconds"]
    # CPU time per message: independent of how busy the shared machine is; 1e6 / it is the
    # rate one fully available core would give
    out["client_cpu_us_per_msg"] = out["cpu_client_pct"] / 100 * out["seconds"] / out["sent"] * 1e6
    out["node_cpu_us_per_msg"] = out["cpu_node_pct"] / 100 * out["seconds"] / out["sent"] * 1e6
    return out


async def throughput(args: argparse.Namespace, peer: str) -> dict[str, Any]:
    srv: Any = NodeSmsc({"quiet": True}) if peer == "node" else Smpp34Peer()
    try:
        await measured(run_ours, srv, 5000, args.window)  # warm both paths up
        await measured(run_smpp34, srv, 5000, args.window)
        ours, theirs = [], []
        for r in range(args.rounds):
            a = await measured(run_ours, srv, args.messages, args.window)
            b = await measured(run_smpp34, srv, args.messages, args.window)
            ours.append(a)
            theirs.append(b)
            print(f"[peer {peer}] round {r + 1}: telcamp {a['rate']:,.0f}/s (client cpu "
                  f"{a['client_cpu_us_per_msg']:.0f} us/msg, peer {a['node_cpu_us_per_msg']:.0f}"
                  f" us/msg)  smpp34 {b['rate']:,.0f}/s (client cpu "
                  f"{b['client_cpu_us_per_msg']:.0f} us/msg, peer "
                  f"{b['node_cpu_us_per_msg']:.0f} us/msg)", flush=True)
    finally:
        srv.stop()
    med_a = statistics.median(x["rate"] for x in ours)
    med_b = statistics.median(x["rate"] for x in theirs)
    cpu_a = statistics.median(x["client_cpu_us_per_msg"] for x in ours)
    cpu_b = statistics.median(x["client_cpu_us_per_msg"] for x in theirs)
    cpu_n = statistics.median(x["node_cpu_us_per_msg"] for x in ours + theirs)
    return {"telcamp_rate": med_a, "smpp34_rate": med_b, "ratio": med_a / med_b,
            "telcamp_cpu_us": cpu_a, "smpp34_cpu_us": cpu_b, "node_cpu_us": cpu_n,
            "rounds": {"telcamp": ours, "smpp34": theirs}}


async def tps_accuracy(rate: float, duration: float, workers: int) -> dict[str, Any]:
    srv = NodeSmsc({"quiet": True})
    try:
        client = SmppClient(BindConfig("127.0.0.1", srv.port, "telcamp", "secret", tps=rate,
                                       registered_delivery=False))
        await client.start()
        await client.wait_bound(10)
        done: list[float] = []
        stop = False

        async def worker() -> None:
            while not stop:
                r = await client.submit(OutboundSms("79000000000", "tps"))
                if r.ok:
                    done.append(time.monotonic())

        # warm-up second, then count accepted submit_sm in a window of `duration` seconds
        tasks = [asyncio.create_task(worker()) for _ in range(workers)]
        await asyncio.sleep(1.0)
        t0 = time.monotonic()
        await asyncio.sleep(duration)
        t1 = time.monotonic()
        stop = True
        await asyncio.gather(*tasks)
        await client.close()
    finally:
        srv.stop()
    n = sum(1 for t in done if t0 <= t < t1)
    actual = n / (t1 - t0)
    return {"limit": rate, "seconds": t1 - t0, "accepted": n, "actual": actual,
            "deviation_pct": 100 * (actual - rate) / rate}


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=100_000, help="submit_sm per client per round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--window", type=int, default=64)
    ap.add_argument("--duration", type=float, default=60.0, help="seconds per TPS-limit run")
    ap.add_argument("--rates", default="100,1000", help="TPS limits to check")
    ap.add_argument("--tps-workers", type=int, default=256,
                    help="concurrent submitters in the TPS runs (a dispatcher keeps a batch "
                    "of contacts in flight, more than the window)")
    ap.add_argument("--peer", choices=["node", "smpp34", "both"], default="node",
                    help="SMSC for the throughput runs: node-smpp (the official figure), the "
                    "smpp34 Rust server in its own process, or both")
    ap.add_argument("--skip-throughput", action="store_true")
    ap.add_argument("--skip-tps", action="store_true")
    ap.add_argument("--json", type=Path, help="write the figures here too")
    args = ap.parse_args()
    ok, reason = node_available()
    if not ok:
        sys.exit(f"cannot run: {reason}")
    out: dict[str, Any] = {"machine": f"{platform.node()} {os.cpu_count()} cpu, "
                                      f"{platform.python_version()}",
                           "load_before": os.getloadavg()}
    peers = ["node", "smpp34"] if args.peer == "both" else [args.peer]
    for peer in [] if args.skip_throughput else peers:
        key = "throughput" if peer == "node" else f"throughput_{peer}"
        out[key] = t = await throughput(args, peer)
        print(f"[peer {peer}] submit_sm/s on one bind, window {args.window}: telcamp "
              f"{t['telcamp_rate']:,.0f}, smpp34 {t['smpp34_rate']:,.0f}, "
              f"ratio {t['ratio']:.2f}; CPU per message: telcamp {t['telcamp_cpu_us']:.0f} us, "
              f"smpp34 client {t['smpp34_cpu_us']:.0f} us, peer {t['node_cpu_us']:.0f} us "
              f"(one free core each: telcamp {1e6 / t['telcamp_cpu_us']:,.0f}/s, "
              f"peer {1e6 / t['node_cpu_us']:,.0f}/s)")
    if not args.skip_tps:
        out["tps"] = []
        for rate in (float(x) for x in args.rates.split(",")):
            r = await tps_accuracy(rate, args.duration, args.tps_workers)
            out["tps"].append(r)
            print(f"TPS limit {rate:g}/s over {r['seconds']:.1f} s: {r['actual']:.2f}/s "
                  f"({r['deviation_pct']:+.2f}%)", flush=True)
    out["load_after"] = os.getloadavg()
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
