"""Runs the benchmarks one after another and writes bench/RESULTS.md; started by `bench/run`.

    bench/run [discovery rvtools pages plan launch readiness dependencies] [--launch-vms 1000]

Without names it runs the five of issue 7 (discovery, rvtools, pages, plan, launch). Each bench runs
in its own process with its own scratch database: var/bench/<name>.sqlite3, or, when DATABASE_URL
names a PostgreSQL database, a database of that name plus "_<bench>" on the same server (created if
missing). Benches hand their figures over through bench/common.report(); those that do not (launch,
readiness, dependencies) have their printed summary copied into RESULTS.md. Every bench's whole
output is kept in var/bench/<name>.log.
"""

import argparse
import datetime as dt
import json
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
SCRATCH = ROOT / "var" / "bench"
DEFAULT = ["discovery", "rvtools", "pages", "plan", "launch"]
SCRIPTS = {
    "discovery": ("discovery.py", "Discovery of a 10,000-VM vCenter simulator", 1200),
    "rvtools": ("rvtools_import.py", "RVTools import of a generated 10,000-VM export", 600),
    "pages": ("pages.py", "Pages at 50,000 VMs", 900),
    "plan": ("plan_10k.py", "Auto-planning 10,000 VMs with 50,000 dependency edges", 600),
    "launch": ("launch.py", "1,000 concurrent migrations on the HCX simulator", 900),
    "readiness": ("readiness.py", "Readiness of a 1,000-VM wave", 300),
    "dependencies": ("dependencies.py", "Dependency import, suggestions and graph at scale", 900),
    "streams": (
        "streams.py",
        "200 open live pages: connections held, other pages, a change reaching all",
        300,
    ),
}
# What bench/launch.py prints as its summary (it does not report through bench/common).
LAUNCH_SUMMARY_FROM = "migrations in flight"


def database_for(bench: str) -> str | None:
    """DATABASE_URL with "_<bench>" added to the database name, created if missing; None for SQLite."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return None
    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/') or 'bench'}_{bench}"
    import psycopg

    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}"))


def database_label() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        import psycopg

        parts = urlsplit(url)
        with psycopg.connect(urlunsplit(parts._replace(path="/postgres"))) as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]
        return f"PostgreSQL {version} ({parts.hostname}), a database per bench named {parts.path.lstrip('/')}_<bench>"
    if url:
        return f"DATABASE_URL {url.split(':', 1)[0]}"
    return f"SQLite {sqlite3.sqlite_version}, var/bench/<bench>.sqlite3"


def machine() -> dict:
    memory = "?"
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 2**20:.1f} GiB"
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cores": os.cpu_count(), "memory": memory, "cpu": cpu, "python": platform.python_version()}


def load() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "?"


def run(bench: str, args, report_path: Path) -> dict:
    script, title, timeout = SCRIPTS[bench]
    command = [sys.executable, str(BENCH / script)]
    if bench == "launch":
        command += ["--vms", str(args.launch_vms)]
    env = dict(os.environ, BENCH_REPORT=str(report_path), PYTHONUNBUFFERED="1")
    if url := database_for(bench):
        env["DATABASE_URL"] = url
    log_path = SCRATCH / f"{bench}.log"
    print(f"\n==> {bench}: {title}  ({' '.join(command[1:])})", flush=True)
    start, output, status = time.monotonic(), [], None
    with open(log_path, "w", encoding="utf-8") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
        )
        try:
            for line in process.stdout:
                sys.stdout.write(line)
                log.write(line)
                output.append(line.rstrip("\n"))
                if time.monotonic() - start > timeout:
                    raise subprocess.TimeoutExpired(command, timeout)
            status = process.wait()
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            status = f"stopped after {timeout} s"
    return {
        "bench": bench,
        "title": title,
        "command": " ".join(["python", f"bench/{script}", *command[2:]]),
        "seconds": time.monotonic() - start,
        "status": status,
        "output": output,
        "log": str(log_path),
    }


def summary_lines(result: dict) -> list[str]:
    """The printed summary of a bench that reports nothing: launch's from its summary line on; others whole."""
    lines = result["output"]
    if result["bench"] == "launch":
        for i, line in enumerate(lines):
            if LAUNCH_SUMMARY_FROM in line:
                return lines[i:]
    return lines[-40:]


def cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def write_results(results: list, rows: list, started: dt.datetime, info: dict, load_before: str, path: Path):
    met = {True: "**met**", False: "**missed**", None: "—"}
    out = [
        "# Benchmark results",
        "",
        "Written by `bench/run` (see bench/README.md); every figure sits beside a baseline measured in the same run.",
        "",
        f"- Date: {started:%Y-%m-%d %H:%M} UTC; the run took {sum(r['seconds'] for r in results) / 60:.1f} min",
        f"- Machine: {info['cores']} cores ({info['cpu']}), {info['memory']} memory; Python {info['python']}",
        f"- Load average (1, 5, 15 min) before the run: {load_before}; after: {load()}. The machine is shared:",
        "  other work running at the same time slows every figure, the baselines as much as the measures.",
        f"- Database: {database_label()}",
        "- Redis: "
        + (
            "REDIS_URL set: the live stream is woken by Redis pub/sub"
            if os.environ.get("REDIS_URL")
            else "none (REDIS_URL unset): the live stream polls the database"
        ),
        f"- Benches: {', '.join(r['bench'] for r in results)}",
        "",
    ]
    for result in results:
        out += [
            f"## {result['title']}",
            "",
            f"`{result['command']}`: {result['seconds']:.0f} s"
            + ("" if result["status"] == 0 else f", **failed** ({result['status']}; see {result['log']})"),
            "",
        ]
        mine = [r for r in rows if r["bench"] == result["bench"]]
        if mine:
            out += ["| measure | figure | baseline (same run) | target | |", "|---|---|---|---|---|"]
            out += [
                f"| {cell(r['measure'])} | {cell(r['figure'])} | {cell(r['baseline'])} | {cell(r['target'])} | "
                f"{met[r['met']]} |"
                for r in mine
            ]
            notes = sorted({r["note"] for r in mine if r["note"]})
            out += [""] + [f"- {n}" for n in notes] + ([""] if notes else [])
        if not mine or result["status"] != 0:
            out += ["```", *summary_lines(result), "```", ""]
    findings = BENCH / "findings.md"
    if findings.exists():
        out += [findings.read_text().rstrip(), ""]
    path.write_text("\n".join(out))


def main(argv=None):
    parser = argparse.ArgumentParser(description="Run the benchmarks and write bench/RESULTS.md")
    parser.add_argument(
        "benches",
        nargs="*",
        metavar="bench",
        help=f"any of {', '.join(SCRIPTS)} (default: {' '.join(DEFAULT)})",
    )
    parser.add_argument(
        "--launch-vms", type=int, default=1000, help="migrations in flight for bench/launch.py"
    )
    parser.add_argument("--results", default=str(BENCH / "RESULTS.md"), help="where to write the results")
    args = parser.parse_args(argv)
    benches = args.benches or DEFAULT
    if unknown := [b for b in benches if b not in SCRIPTS]:
        parser.error(f"unknown bench {', '.join(unknown)}: choose from {', '.join(SCRIPTS)}")
    SCRATCH.mkdir(parents=True, exist_ok=True)
    started, info, load_before = dt.datetime.now(dt.UTC), machine(), load()
    results, rows = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for bench in benches:
            if not (BENCH / SCRIPTS[bench][0]).exists():
                print(f"\n==> {bench}: bench/{SCRIPTS[bench][0]} is not there; skipped")
                continue
            report_path = Path(tmp) / f"{bench}.jsonl"
            results.append(run(bench, args, report_path))
            if report_path.exists():
                rows += [json.loads(line) for line in report_path.read_text().splitlines() if line.strip()]
    write_results(results, rows, started, info, load_before, Path(args.results))
    print(f"\nWrote {args.results}")
    failed = [r["bench"] for r in results if r["status"] != 0]
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
