#!/usr/bin/env python3
"""A slow or lossy link for scripts/testbed: copies Ethernet frames between two TAP devices,
delaying and dropping those that go toward the node, as `tc qdisc add ... netem delay D loss P`
does on one interface's egress.

Why not netem itself: the kernel the tests run on here has no sch_netem (its
/proc/config.gz says "# CONFIG_NET_SCH_NETEM is not set"; `tc qdisc add ... netem` answers
"Specified qdisc kind is unknown"). TAP devices (CONFIG_TUN) are in every kernel the bed
runs on. Like netem, each frame is held for the delay on its own (no reordering, the delay
is added to the frame's arrival), and each frame is dropped on its own with the given
probability (a Bernoulli draw, netem's `loss random`).

Run it inside the switch namespace: it makes the TAPs there (`--switch-side` and
`--node-side`), prints "ready", and runs until SIGTERM; the TAPs vanish with it.
"""
import argparse
import fcntl
import heapq
import math
import os
import random
import select
import signal
import struct
import sys
import time

TUNSETIFF = 0x400454CA      # linux/if_tun.h: _IOW('T', 202, int)
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
MAX_QUEUED = 20000          # frames held at once; more are dropped (netem's default limit is 1000)


def open_tap(name):
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI))
    return fd


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--switch-side", required=True, help="TAP on the switch's bridge")
    parser.add_argument("--node-side", required=True, help="TAP on the node's own bridge")
    parser.add_argument("--delay-ms", type=float, default=0.0, help="added to every frame toward the node")
    parser.add_argument("--loss", type=float, default=0.0, help="percent of frames toward the node dropped")
    parser.add_argument("--pid-file", help="where to write this process's id (removed at exit)")
    args = parser.parse_args()
    # `not (a <= x)` rather than `x < a`: a NaN fails every comparison, so it is refused too.
    if not (0 <= args.loss <= 100) or not (0 <= args.delay_ms) or not math.isfinite(args.delay_ms):
        sys.exit("testbed-impair: --loss must be 0..100 and --delay-ms a finite number >= 0")
    switch_side, node_side = open_tap(args.switch_side), open_tap(args.node_side)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if args.pid_file:
        with open(args.pid_file, "w") as out:
            out.write(f"{os.getpid()}\n")
    print("ready", flush=True)
    delay = args.delay_ms / 1000.0
    queue = []   # (due, order, frame): frames toward the node, oldest first
    order = 0
    while True:
        timeout = max(0.0, queue[0][0] - time.monotonic()) if queue else None
        readable, _, _ = select.select([switch_side, node_side], [], [], timeout)
        now = time.monotonic()
        for fd in readable:
            try:
                frame = os.read(fd, 65536)
            except BlockingIOError:
                continue
            if fd == node_side:
                try:
                    os.write(switch_side, frame)      # the way back is clean
                except OSError:
                    pass
            elif random.random() * 100 >= args.loss and len(queue) < MAX_QUEUED:
                order += 1
                heapq.heappush(queue, (now + delay, order, frame))
        while queue and queue[0][0] <= time.monotonic():
            _, _, frame = heapq.heappop(queue)
            try:
                os.write(node_side, frame)
            except OSError:
                pass                                  # the node's side is down: the frame is lost


if __name__ == "__main__":
    main()
