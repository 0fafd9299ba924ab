#!/usr/bin/env python3
"""Turns tools/bench/run_all.sh's JSON lines into the results section of docs/BENCHMARKS.md
(between the `results:begin` / `results:end` markers): the machine, one table per scenario, and
the targets checked against uWebSockets measured in the same run."""
import datetime
import json
import platform
import subprocess
import sys

BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"


def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    cores = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    with open("/proc/meminfo") as handle:
        mem_kb = int(handle.readline().split()[1])
    return (f"{model}, {cores} cores, {mem_kb / 1024 / 1024:.0f} GiB, Linux {platform.release()}; "
            f"servers pinned to CPU 0, load generator to CPU 1; "
            f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC")


def fmt(value, digits=2):
    if value is None:
        return "-"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.{digits}f}"
    return f"{int(value):,}"


def rate_rows(rows):
    out = ["| peer | scenario | target/s | delivered/s | loss | p50 ms | p99 ms | max ms | server CPU µs/delivery | loadgen CPU |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        out.append("| {peer} | {label} | {target} | {rate} | {loss} | {p50} | {p99} | {mx} | {cpu} | {gen} |".format(
            peer=r["peer"], label=r["label"], target=fmt(r.get("target_deliveries_per_s")),
            rate=fmt(round(r.get("deliveries_per_s", 0))), loss=f'{r.get("loss_ratio", 0) * 100:.2f}%',
            p50=fmt(r.get("p50_ms")), p99=fmt(r.get("p99_ms")), mx=fmt(r.get("max_ms")),
            cpu=fmt(r.get("server_cpu_us_per_delivery"), 3), gen=f'{r.get("loadgen_cpu_utilization", 0) * 100:.0f}%'))
    return out


def best_sustained(rows, peer):
    """Highest target rate of a one-channel fan-out run that was sustained: delivered >= 99% of
    the target, no loss, p99 <= 50 ms."""
    best = None
    for r in rows:
        if r["peer"] != peer or r["scenario"] != "fanout" or r["channels"] != 1 or r.get("transport") != "ws":
            continue
        target = r.get("target_deliveries_per_s", 0)
        if (r.get("p99_ms", 1e9) <= 50 and r.get("loss_ratio", 1) == 0
                and r.get("deliveries_per_s", 0) >= 0.99 * target):
            best = target if best is None else max(best, target)
    return best


def targets(rows):
    def get(peer, label, key):
        for r in rows:
            if r["peer"] == peer and r["label"] == label:
                return r.get(key)
        return None

    lines = ["| target | Channelstream | uWebSockets | met |", "|---|---|---|---|"]
    for label in ("fanout-100k", "fanout-400k"):
        ours = get("channelstream", label, "server_cpu_us_per_delivery")
        theirs = get("uws", label, "server_cpu_us_per_delivery")
        ok = (ours is not None and theirs is not None and ours <= theirs
              and get("channelstream", label, "loss_ratio") == 0 and (get("channelstream", label, "p99_ms") or 1e9) <= 50)
        lines.append(f"| CPU/delivery {label}, no loss, p99 <= 50 ms | {fmt(ours, 3)} µs | {fmt(theirs, 3)} µs | "
                     f"{'yes' if ok else 'no'} |")
    ours, theirs = best_sustained(rows, "channelstream"), best_sustained(rows, "uws")
    ok = ours is not None and (theirs is None or ours >= theirs)
    lines.append(f"| highest rate at p99 <= 50 ms, no loss | {fmt(ours and round(ours))}/s | "
                 f"{fmt(theirs and round(theirs))}/s | {'yes' if ok else 'no'} |")
    ours = get("channelstream", "idle-10k", "rss_per_connection_bytes")
    theirs = get("uws", "idle-10k", "rss_per_connection_bytes")
    ok = ours is not None and theirs is not None and ours <= theirs
    lines.append(f"| idle RSS per WebSocket (10k over 100 channels) | {fmt(ours and ours / 1024)} KB | "
                 f"{fmt(theirs and theirs / 1024)} KB | {'yes' if ok else 'no'} |")
    return lines


def main():
    source, doc = sys.argv[1], sys.argv[2]
    rows = [json.loads(line) for line in open(source) if line.strip()]
    rated = [r for r in rows if r["scenario"] == "fanout"]
    idle = [r for r in rows if r["scenario"] == "idle"]
    storm = [r for r in rows if r["scenario"] == "storm"]
    section = [BEGIN, "", f"Measured {machine()}.", "", "### Targets (same run)", ""] + targets(rows)
    section += ["", "### Delivery (fan-out, many channels, long poll, split)", ""] + rate_rows(rated)
    section += ["", "### Idle connections", "", "| peer | scenario | opened | RSS before MB | RSS idle MB | RSS per connection KB |",
                "|---|---|---|---|---|---|"]
    for r in idle:
        section.append(f'| {r["peer"]} | {r["label"]} | {fmt(r.get("subscribers_opened"))} | '
                       f'{r.get("rss_before_bytes", 0) / 2**20:.1f} | {r.get("rss_idle_bytes", 0) / 2**20:.1f} | '
                       f'{r.get("rss_per_connection_bytes", 0) / 1024:.2f} |')
    section += ["", "### Connect storm", "", "| peer | opened | failed | opens/s |", "|---|---|---|---|"]
    for r in storm:
        section.append(f'| {r["peer"]} | {fmt(r.get("subscribers_opened"))} | {fmt(r.get("subscriber_open_failures"))} | '
                       f'{fmt(round(r.get("opens_per_s", 0)))} |')
    section += ["", END]
    text = open(doc).read()
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < 0:
        text = text.rstrip() + "\n\n" + "\n".join(section) + "\n"
    else:
        text = text[:start] + "\n".join(section) + text[end + len(END):]
    with open(doc, "w") as handle:
        handle.write(text)


if __name__ == "__main__":
    main()
