"""report.html with PNG plots beside it (matplotlib, Agg: no display needed)."""

from __future__ import annotations

import csv
import html
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure

from loadtest.results import Second
from loadtest.sampler import Observation
from loadtest.summary import Summary, rows

THROUGHPUT_PNG = "throughput.png"
LATENCY_PNG = "latency.png"
PIPELINE_PNG = "pipeline.png"
PIPELINE_CSV = "pipeline.csv"
TIMELINE_CSV = "timeline.csv"


def _figure() -> Figure:
    return Figure(figsize=(10, 4), dpi=100, layout="constrained")


def _mark_end(figure: Figure, load_end_s: float | None) -> None:
    if load_end_s is None:
        return
    for axes in figure.axes:
        axes.axvline(load_end_s, color="grey", linestyle=":", linewidth=1)


def _finish_per_second(figure: Figure, title: str, ylabel: str, path: Path, load_end_s: float | None) -> None:
    """Label, scale and save a one-axes plot of per-second figures."""
    (axes,) = figure.axes
    axes.set_xlabel("seconds since the first request")
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    axes.set_ylim(bottom=0)
    axes.grid(alpha=0.3)
    axes.legend(loc="upper right")
    _mark_end(figure, load_end_s)
    figure.savefig(path)


def plot_throughput(seconds: Sequence[Second], path: Path, load_end_s: float | None = None) -> None:
    figure = _figure()
    axes = figure.subplots()
    t = [second.t_s for second in seconds]
    axes.step(t, [second.requests for second in seconds], where="post", label="requests/s")
    if any(second.errors for second in seconds):
        axes.step(t, [second.errors for second in seconds], where="post", color="red", label="errors/s")
    _finish_per_second(figure, "Throughput", "completed requests per second", path, load_end_s)


def plot_latency(seconds: Sequence[Second], path: Path, load_end_s: float | None = None) -> None:
    figure = _figure()
    axes = figure.subplots()
    t = [second.t_s + 0.5 for second in seconds]  # the middle of each second
    for name, color in (("p50_ms", "tab:green"), ("p95_ms", "tab:orange"), ("p99_ms", "tab:red")):
        values = [getattr(second, name) for second in seconds]
        axes.plot(t, [float("nan") if v is None else v for v in values], marker=".", color=color, label=name[:3])
    _finish_per_second(figure, "Latency percentiles per second", "response time (ms)", path, load_end_s)


def plot_pipeline(
    observations: Sequence[Observation],
    path: Path,
    origin_s: float,
    accepted: int | None = None,
    load_end_s: float | None = None,
) -> None:
    figure = _figure()
    depth = figure.subplots()

    def series(name: str, stamp: str) -> tuple[list[float], list[float]]:
        """One point per probe answer, at the time it was asked for (observations repeat answers)."""
        xs: list[float] = []
        ys: list[float] = []
        seen: set[float] = set()
        for o in observations:
            value, asked = getattr(o, name), getattr(o, stamp)
            if value is None or asked is None or asked in seen:
                continue
            seen.add(asked)
            xs.append(asked - origin_s)
            ys.append(float(value))
        return xs, ys

    depth.plot(*series("queue", "status_t"), color="tab:blue", marker=".", label="queue depth")
    depth.plot(*series("in_flight", "status_t"), color="tab:purple", marker=".", label="in flight")
    depth.plot(*series("dlq", "status_t"), color="red", marker=".", label="DLQ")
    if all(o.queue is None and o.in_flight is None and o.dlq is None for o in observations):
        depth.text(0.5, 0.5, "queues not sampled", transform=depth.transAxes, ha="center", color="grey")
    depth.set_xlabel("seconds since the first request")
    depth.set_ylabel("messages")
    depth.set_ylim(bottom=0)
    depth.grid(alpha=0.3)
    rows_axes = depth.twinx()
    rows_axes.plot(*series("run_rows", "rows_t"), color="tab:green", linewidth=2, label="recorded rows (this run)")
    if accepted:
        rows_axes.axhline(accepted, color="tab:green", linestyle="--", linewidth=1, label="202 responses")
    rows_axes.set_ylabel("rows")
    rows_axes.set_ylim(bottom=0)
    handles, labels = depth.get_legend_handles_labels()
    more_handles, more_labels = rows_axes.get_legend_handles_labels()
    depth.legend(handles + more_handles, labels + more_labels, loc="upper left", fontsize="small")
    depth.set_title("Pipeline: queue and recorded rows")
    _mark_end(figure, load_end_s)
    figure.savefig(path)


def write_csvs(out_dir: Path, seconds: Sequence[Second], observations: Sequence[Observation]) -> None:
    with (out_dir / TIMELINE_CSV).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["t_s", "requests", "errors", "p50_ms", "p95_ms", "p99_ms"])
        for s in seconds:
            writer.writerow([s.t_s, s.requests, s.errors, s.p50_ms, s.p95_ms, s.p99_ms])
    with (out_dir / PIPELINE_CSV).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["t", "queue", "in_flight", "dlq", "recorded_total", "run_rows", "status_t", "rows_t"])
        for o in observations:
            stamps = [None if v is None else f"{v:.3f}" for v in (o.status_t, o.rows_t)]
            writer.writerow([f"{o.t:.3f}", o.queue, o.in_flight, o.dlq, o.recorded_total, o.run_rows, *stamps])


_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1040px; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
td, th { border: 1px solid #ccc; padding: 0.3em 0.8em; text-align: left; }
th { background: #f4f4f4; }
.PASS { color: #17692c; font-weight: bold; } .FAIL { color: #b00020; font-weight: bold; }
.UNKNOWN { color: #a15c00; font-weight: bold; }
img { max-width: 100%; border: 1px solid #eee; margin: 0.5em 0; }
"""


def write_html(summary: Summary, path: Path, images: Sequence[tuple[str, str]]) -> None:
    e = html.escape
    verdict = "PASS" if summary.passed else "FAIL"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Ponto load test {e(summary.runid)}: {verdict}</title>",
        f"<style>{_CSS}</style></head><body>",
        f'<h1>Ponto load test <code>{e(summary.runid)}</code>: <span class="{verdict}">{verdict}</span></h1>',
        "<h2>Summary</h2><table>",
    ]
    parts += [f"<tr><th>{e(label)}</th><td>{e(value)}</td></tr>" for label, value in rows(summary)]
    if summary.response_codes:
        codes = ", ".join(f"{code or '(none)'}: {count:,}" for code, count in summary.response_codes.items())
        parts.append(f"<tr><th>response codes</th><td>{e(codes)}</td></tr>")
    parts.append("</table><h2>Checks</h2><table><tr><th>result</th><th>check</th><th>detail</th></tr>")
    for check in summary.checks:
        mark = {True: "PASS", False: "FAIL", None: "UNKNOWN"}[check.ok]
        parts.append(f'<tr><td class="{mark}">{mark}</td><td>{e(check.name)}</td><td>{e(check.detail)}</td></tr>')
    parts.append("</table>")
    if summary.notes:
        parts.append("<h2>Notes</h2><ul>" + "".join(f"<li>{e(n)}</li>" for n in summary.notes) + "</ul>")
    if summary.failure_messages:
        parts.append("<h2>Most frequent failures</h2><table><tr><th>count</th><th>message</th></tr>")
        parts += [
            f"<tr><td>{count:,}</td><td>{e(message)}</td></tr>" for message, count in summary.failure_messages.items()
        ]
        parts.append("</table>")
    parts.append("<h2>Over time</h2>")
    parts += [f'<p><img src="{e(name)}" alt="{e(alt)}"></p>' for name, alt in images]
    parts.append(
        "<p>Files beside this report: <code>summary.json</code>, <code>results.jtl</code> (every request), "
        f"<code>{TIMELINE_CSV}</code> (per second), <code>{PIPELINE_CSV}</code> (sampler), "
        "<code>jmeter.log</code>, <code>stack.log</code>.</p>"
    )
    parts.append("</body></html>")
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")


def write_report(
    out_dir: Path,
    summary: Summary,
    seconds: Sequence[Second],
    observations: Sequence[Observation],
    origin_s: float,
    load_end_s: float | None = None,
) -> Path:
    """Plots, CSVs and report.html in out_dir; returns the report's path.

    origin_s: epoch seconds of the first request (x = 0 on every plot); load_end_s: when the load
    ended, in seconds since origin (a dotted line).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    plot_throughput(seconds, out_dir / THROUGHPUT_PNG, load_end_s)
    plot_latency(seconds, out_dir / LATENCY_PNG, load_end_s)
    plot_pipeline(observations, out_dir / PIPELINE_PNG, origin_s, summary.accepted, load_end_s)
    write_csvs(out_dir, seconds, observations)
    path = out_dir / "report.html"
    write_html(
        summary,
        path,
        [
            (THROUGHPUT_PNG, "completed requests per second"),
            (LATENCY_PNG, "p50, p95 and p99 response time per second"),
            (PIPELINE_PNG, "queue depth, in flight, DLQ and recorded rows over time"),
        ],
    )
    return path
