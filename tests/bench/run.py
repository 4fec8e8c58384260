#!/usr/bin/env python3
"""Runs copilot-bench the way the scenario contract's runner does, and summarises the runs.

    run.py BUILD_DIR RUNTIME [--runs N] [--cases CASE,...] [--raw FILE] [--node SCRIPT]

BUILD_DIR is a build tree holding tests/bench/copilot-bench, tests/copilot-fake-runtime and
tests/copilot-model-server; RUNTIME is the real runtime executable. Each run gets a fresh empty
working directory, a fresh COPILOT_HOME and, for turn and fanout, a fresh model server that
records every request. The runner adds `process_ms` and `model_requests` to the program's JSON
line and fails the run when a model request lacks a `Bearer tok-...` token.

With --node, the same contract program written against the Node SDK (tests/bench/node/bench.mjs,
or its directory; `npm ci` there first) runs as a second program right after each copilot-bench
run: A B A B.

Runs of different cases are interleaved (every case once, then every case again, ...), so drift
of a shared machine spreads over all of them. The summary gives, per case, program and field, the
median with the min-max range, and on the Node rows the ratio of the medians (C++ / Node).
"""

import argparse
import itertools
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

# name -> (scenario, environment, runtimes it runs against, pinned to one CPU)
CASES = {
    "start": ("start", {}, ("real", "fake"), False),
    "turn": ("turn", {}, ("real", "fake"), False),
    "turn_tool": ("turn", {"BENCH_TOOL": "echo_text"}, ("real", "fake"), False),
    "fanout20": ("fanout", {"BENCH_N": "20", "BENCH_TOKEN_DELAY_MS": "50"}, ("real", "fake"),
                 False),
    "fanout100": ("fanout", {"BENCH_N": "100", "BENCH_TOKEN_DELAY_MS": "50"}, ("real", "fake"),
                  False),
    "rpc": ("rpc", {"BENCH_SECONDS": "3", "BENCH_DEPTH": "64"}, ("real", "fake"), False),
    "rpc_one_cpu": ("rpc", {"BENCH_SECONDS": "3", "BENCH_DEPTH": "64"}, ("real", "fake"), True),
    "events": ("events", {"BENCH_EVENTS": "100000"}, ("fake",), False),
}


class RunFailed(Exception):
    pass


def start_model_server(server, record, tool):
    args = [server, "0", "--record", str(record)]
    if tool:
        args += ["--call-tool", tool]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline().strip()
    if not line.startswith("listening on "):
        proc.kill()
        raise RunFailed("model server did not start: " + line)
    return proc, line[len("listening on "):]


def check_model_requests(record):
    lines = record.read_text().splitlines() if record.exists() else []
    for line in lines:
        authorization = json.loads(line).get("authorization", "")
        if not authorization.startswith("Bearer tok-"):
            raise RunFailed("a model request carried no callback token")
    return len(lines)


def run_once(programs, command, case, runtime_kind):
    scenario, extra_env, _, pinned = CASES[case]
    with tempfile.TemporaryDirectory() as tmp:
        work = pathlib.Path(tmp)
        (work / "home").mkdir()
        (work / "cwd").mkdir()
        record = work / "requests.jsonl"

        env = dict(os.environ, COPILOT_HOME=str(work / "home"), **extra_env)
        env["COPILOT_CLI_PATH"] = programs[runtime_kind]
        server = None
        if scenario in ("turn", "fanout"):
            server, url = start_model_server(programs["model_server"], record,
                                             extra_env.get("BENCH_TOOL"))
            env["FAKE_OPENAI_URL"] = url

        command = command + [scenario]
        if pinned:
            command = ["taskset", "-c", "0"] + command
        try:
            began = time.monotonic()
            done = subprocess.run(command, cwd=work / "cwd", env=env, capture_output=True,
                                  text=True, timeout=600)
            process_ms = (time.monotonic() - began) * 1000
        finally:
            if server:
                server.terminate()
                server.wait()

        if done.returncode != 0:
            raise RunFailed(f"exit {done.returncode}: {done.stderr.strip()[-400:]}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        result["process_ms"] = process_ms
        result["model_requests"] = check_model_requests(record)
        return result


def summarise(results):
    rows = []
    medians = {}
    for (case, kind, sdk), runs in sorted(results.items()):
        fields = {}
        for run in runs:
            for key, value in run.items():
                if isinstance(value, (int, float)):
                    fields.setdefault(key, []).append(value)
        for key, values in fields.items():
            median = statistics.median(values)
            medians[case, kind, sdk, key] = median
            # Node rows sort after the C++ ones, so the C++ median is known by then.
            cpp = medians.get((case, kind, "cpp", key)) if sdk == "node" else None
            ratio = f"{cpp / median:.3g}" if cpp is not None and median else ""
            rows.append((case, kind, sdk, key, median, min(values), max(values), len(values),
                         ratio))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("build_dir")
    parser.add_argument("runtime")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--only", choices=("real", "fake"))
    parser.add_argument("--raw", help="append every run's JSON line to this file")
    parser.add_argument("--node", metavar="SCRIPT",
                        help="also run the Node SDK's program (bench.mjs or its directory)")
    args = parser.parse_args()

    build = pathlib.Path(args.build_dir).resolve()
    programs = {
        "fake": str(build / "tests/copilot-fake-runtime"),
        "model_server": str(build / "tests/copilot-model-server"),
        # Runs start in a fresh directory, so a relative path would no longer resolve.
        "real": os.path.abspath(args.runtime),
    }
    sdks = [("cpp", [str(build / "tests/bench/copilot-bench")])]
    if args.node:
        script = pathlib.Path(args.node).resolve()
        if script.is_dir():
            script = script / "bench.mjs"
        sdks.append(("node", ["node", str(script)]))
    plan = [(case, kind) for case in args.cases.split(",") for kind in CASES[case][2]
            if args.only in (None, kind)]

    results = {}
    raw = open(args.raw, "a") if args.raw else None
    for round_number in range(args.runs + 1):
        # A B, then B A: neither program always runs right after the other's runtime exited.
        order = sdks if round_number % 2 == 0 else sdks[::-1]
        for (case, kind), (sdk, command) in itertools.product(plan, order):
            try:
                result = run_once(programs, command, case, kind)
            except RunFailed as failure:
                sys.exit(f"{case} ({sdk}) against the {kind} runtime failed: {failure}")
            # The first round warms caches and the runtime's unpacked files; it is not counted.
            if round_number == 0:
                continue
            results.setdefault((case, kind, sdk), []).append(result)
            if raw:
                line = {"case": case, "runtime": kind, "sdk": sdk, **result}
                raw.write(json.dumps(line) + "\n")
                raw.flush()
        print(f"round {round_number} done", file=sys.stderr)

    print(f"{'case':<12} {'runtime':<7} {'sdk':<4} {'field':<20} {'median':>11}   "
          f"{'min-max (n)':<24} cpp/node")
    for case, kind, sdk, key, median, low, high, n, ratio in summarise(results):
        spread = f"{low:.4g}-{high:.4g} ({n})"
        print(f"{case:<12} {kind:<7} {sdk:<4} {key:<20} {median:>11.4g}   {spread:<24} {ratio}")


if __name__ == "__main__":
    main()
