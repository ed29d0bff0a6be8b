"""Driving Debian's wrk for ``paperfeed bench load``: the request mix (a Lua script),
reading wrk's ``--latency`` output, and pacing a run to a fixed request rate.

A saturating run (no pacing) measures throughput: every connection sends its next
request as soon as the last one is answered, so at 200 clients on the server's own cores
the latency wrk reports is mostly queueing at 100 % CPU, even for a static file. A paced
run holds the rate to a target instead, so its p50/p99 are the page's latency at that
rate. No open-loop tool that reports percentiles installs from Debian or PyPI (wrk2 and
vegeta are not packaged; Debian's httperf paces new connections but gives no p99; hey's
``-q`` and locust wait for answers too), so pacing is wrk's own ``delay()`` hook. wrk stays closed-loop: a connection waits for its
answer before its next request, and wrk times a request from when it is sent, not from
when the schedule wanted it sent. A slow answer therefore hides the requests that should
have gone out meanwhile (coordinated omission), and a p99 is optimistic whenever the
rate was not held: hence the achieved rate is reported beside the asked one, and
:func:`held` is part of the verdict.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

# A paced run whose achieved rate falls below this share of the asked one did not hold
# its rate: its latency is not the latency at that rate.
HELD_SHARE = 0.95


def threads_for(clients: int) -> int:
    """wrk's threads: one per core of the 2-core machines, never more than connections."""
    return min(2, clients)


def thread_period_ms(rate: float, threads: int) -> float:
    """Milliseconds between two request slots of one wrk thread, so that ``threads``
    threads together send ``rate`` requests a second."""
    if not rate > 0 or threads < 1:
        raise ValueError(f"pacing needs a rate above 0 and 1 thread or more, not "
                         f"rate={rate!r}, threads={threads!r}")
    return 1000.0 * threads / rate


def connection_delay_ms(rate: float, clients: int) -> float:
    """The mean pause each connection makes before a request at ``rate`` requests a second
    over ``clients`` connections, if answers took no time: each connection then sends
    ``rate / clients`` a second. The schedule in :func:`pacing_lua` spends what answers
    take out of that pause instead of adding it."""
    if not rate > 0 or clients < 1:
        raise ValueError(f"pacing needs a rate above 0 and 1 client or more, not "
                         f"rate={rate!r}, clients={clients!r}")
    return 1000.0 * clients / rate


def pacing_lua(rate: float, threads: int) -> str:
    """wrk's ``delay()`` for ``rate`` requests a second over ``threads`` threads.

    Each thread keeps a schedule of slots ``thread_period_ms`` apart (the threads offset
    by a fraction of it) and every request, on whichever of the thread's connections,
    takes the next slot and waits for it: the rate holds whatever the answers take, as
    long as a connection is free when its slot comes. Slots that pass while every
    connection waits for an answer are sent as soon as one is free (as wrk2 does), so a
    stall is caught up instead of lowering the rate. ``delay()`` has no clock of its own:
    LuaJIT's ffi reads CLOCK_MONOTONIC. Expects the global ``seed`` (1, 2, ... per
    thread) that :func:`lua_script`'s ``setup`` sets."""
    period = thread_period_ms(rate, threads)
    return f"""
local ffi = require("ffi")
ffi.cdef[[
typedef struct {{ long tv_sec; long tv_nsec; }} pf_timespec;
int clock_gettime(int clock, pf_timespec *now);
]]
local clock = ffi.new("pf_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, clock)  -- CLOCK_MONOTONIC
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end
local period = {period!r}
local next_slot = nil
delay = function()
  local now = now_ms()
  if next_slot == nil then
    next_slot = now + ((seed or 1) - 1) * period / {threads}
  end
  local wait = next_slot - now
  next_slot = next_slot + period
  if wait < 0 then return 0 end
  return wait
end
"""


def lua_script(paths: list[str], share: float, cookies: list[str],
               rate: float | None = None, threads: int = 1) -> str:
    """wrk's request mix: a random path each request, with a random member's session for
    ``share`` of them; every request asks for gzip as browsers do. With ``rate``, paced
    to that many requests a second over ``threads`` threads (:func:`pacing_lua`)."""
    quoted = ", ".join(json.dumps(p) for p in paths)
    jar = ", ".join(json.dumps(c) for c in cookies)
    script = f"""
local paths = {{{quoted}}}
local cookies = {{{jar}}}
local share = {share:f}
local counter = 0
setup = function(thread)
  counter = counter + 1
  thread:set("seed", counter)
end
init = function(args)
  math.randomseed(os.time() + (seed or 0) * 7919)
end
request = function()
  local path = paths[math.random(#paths)]
  local headers = {{["Accept-Encoding"] = "gzip, deflate, br"}}
  if share > 0 and #cookies > 0 and math.random() < share then
    headers["Cookie"] = cookies[math.random(#cookies)]
  end
  return wrk.format("GET", path, headers)
end
"""
    return script + (pacing_lua(rate, threads) if rate is not None else "")


def run(base: str, paths: list[str], clients: int, duration: int, share: float,
        cookies: list[str], folder: Path, rate: float | None = None) -> dict:
    """One wrk run (paced to ``rate`` requests a second if given): :func:`parse_wrk`'s
    figures, plus the asked rate of a paced run."""
    threads = threads_for(clients)
    script = folder / f"mix-{len(paths)}-{share}-{time.monotonic_ns()}.lua"
    script.write_text(lua_script(paths, share, cookies, rate, threads))
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{clients}", f"-d{duration}s", "--latency",
                          "--timeout", "5s", "-s", str(script), base],
                         capture_output=True, text=True, check=True).stdout
    figures = parse_wrk(out)
    if rate is not None:
        figures["asked_rps"] = rate
    return figures


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def parse_wrk(out: str) -> dict:
    """Figures from wrk's ``--latency`` output: requests/s, p50/p99 (ms), errors."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if rps is None:
        raise ValueError(f"not wrk output: {out[:300]!r}")
    result = {"rps": float(rps.group(1))}
    total = re.search(r"(\d+) requests in", out)
    result["requests"] = int(total.group(1)) if total else 0
    for pct in ("50", "99"):
        found = re.search(rf"^\s+{pct}(?:\.0+)?%\s+(\S+)", out, re.M)
        result[f"p{pct}_ms"] = _ms(found.group(1)) if found else None
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    result["socket_errors"] = sum(map(int, errors.groups())) if errors else 0
    result["timeouts"] = int(errors.group(4)) if errors else 0
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["non_2xx"] = int(non2xx.group(1)) if non2xx else 0
    return result


def held(asked: float, achieved: float) -> bool:
    """Did a paced run send (and have answered) at least :data:`HELD_SHARE` of the rate
    it asked for?"""
    return achieved >= HELD_SHARE * asked


def paced_plan(pages: list[str], ratios: dict[str, float], static_rps: float
               ) -> list[tuple[str, float, float]]:
    """The paced runs for ``pages``: (page, ratio, requests/s) for each page with a
    latency target (``ratios``: its throughput target, a share of the static file's
    rate), each preceded by the static file at the same rate (once per rate) as its
    baseline."""
    plan: list[tuple[str, float, float]] = []
    for page in pages:
        if page not in ratios:
            continue
        ratio = ratios[page]
        rate = round(ratio * static_rps, 1)
        if ("static", ratio, rate) not in plan:
            plan.append(("static", ratio, rate))
        plan.append((page, ratio, rate))
    return plan
