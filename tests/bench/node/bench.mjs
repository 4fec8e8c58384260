// The benchmark program of the scenario contract, against the Node SDK (@github/copilot-sdk).
//
//   COPILOT_CLI_PATH=RUNTIME [FAKE_OPENAI_URL=URL] [BENCH_*=...] node bench.mjs SCENARIO
//
// SCENARIO is start, turn, fanout, rpc or events. The same workload as tests/bench/bench.cpp,
// driven through the SDK's public API (only the measurements reach past it); one JSON object
// on the last line of stdout, exit 0; failures go to stderr with exit 1. Run `npm ci` in this
// directory first.

import { CopilotClient, RuntimeConnection, defineTool } from "@github/copilot-sdk";
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

// ---------------------------------------------------------------------------------------------
// Measurements

// Linux reports /proc times in USER_HZ ticks, which is 100 on every mainstream architecture.
const TICK_MS = 10;

/** The fields of `/proc/<pid>/stat` after the command name, from field 3 (state) on. */
function statFields(pid) {
    const line = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name may hold spaces and parentheses; it ends at the last ')'.
    return line.slice(line.lastIndexOf(")") + 1).trim().split(/\s+/);
}

/** utime + stime of a process (10 ms resolution), from `/proc/<pid>/stat` fields 14 and 15. */
function processCpuMs(pid) {
    const fields = statFields(pid);
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

/** Time from this process's start (field 22 of its stat) to now; 10 ms resolution. */
function msSinceProcessStart() {
    // /proc/uptime counts from boot on the same clock as the stat start time.
    const uptimeMs = Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]) * 1e3;
    return Math.max(0, uptimeMs - Number(statFields("self")[19]) * TICK_MS);
}

// Taken as soon as the SDK module is loaded: the client can be built from here on.
const BOOT_MS = msSinceProcessStart();

/** This process's user + system CPU since it started. */
function selfCpuMs() {
    const usage = process.cpuUsage();
    return (usage.user + usage.system) / 1e3;
}

/** `VmHWM` (peak resident set) of a process in MB, from `/proc/<pid>/status`. */
function peakRssMb(pid) {
    const match = readFileSync(`/proc/${pid}/status`, "utf8").match(/^VmHWM:\s+(\d+)/m);
    if (!match) throw new Error(`no VmHWM in /proc/${pid}/status`);
    return Number(match[1]) / 1024;
}

/** Nearest-rank percentile: the smallest sample with at least p % of the samples at or below. */
function percentile(samples, p) {
    if (samples.length === 0) return 0;
    const sorted = [...samples].sort((a, b) => a - b);
    const rank = Math.ceil((p / 100) * sorted.length);
    return sorted[Math.min(Math.max(rank, 1), sorted.length) - 1];
}

const now = () => performance.now();

// ---------------------------------------------------------------------------------------------
// Settings, the client and the session configuration

function readSettings() {
    const env = (name, fallback) => process.env[name] || fallback;
    const cliPath = env("COPILOT_CLI_PATH", "");
    if (!cliPath) throw new Error("COPILOT_CLI_PATH is not set");
    return {
        cliPath,
        // The events scenario needs no model; any syntactically valid endpoint does for it.
        openaiUrl: env("FAKE_OPENAI_URL", "http://127.0.0.1:9/v1"),
        tokenDelayMs: Number(env("BENCH_TOKEN_DELAY_MS", "0")),
        tool: env("BENCH_TOOL", ""),
        sessions: Number(env("BENCH_N", "20")),
        seconds: Number(env("BENCH_SECONDS", "3")),
        depth: Number(env("BENCH_DEPTH", "64")),
        events: Number(env("BENCH_EVENTS", "100000")),
    };
}

/** The SDK's stdio transport with the contract's runtime: inherited environment and cwd. */
function makeClient(s) {
    // useLoggedInUser false adds --no-auto-login to --headless --no-auto-update --stdio.
    return new CopilotClient({
        connection: RuntimeConnection.forStdio({ path: s.cliPath }),
        useLoggedInUser: false,
    });
}

/**
 * The runtime child the client spawned, with a byte counter on its stdout.
 *
 * The SDK exposes neither the child nor its byte count, so this reads the client's `cliProcess`
 * field (private in the typings, a plain property at run time) and adds a second 'data'
 * listener beside the SDK's own reader; the stream is already flowing, so nothing changes.
 */
function attachRuntime(client) {
    const child = client.cliProcess;
    if (!child?.pid) throw new Error("the runtime is not running");
    const runtime = { pid: child.pid, rxBytes: 0 };
    child.stdout.on("data", (chunk) => {
        runtime.rxBytes += chunk.length;
    });
    return runtime;
}

async function startClient(s) {
    const client = makeClient(s);
    await client.start();
    return { client, runtime: attachRuntime(client) };
}

/** runtime.shutdown, pipes closed, child reaped; cleanup errors fail the run. */
async function stopClient(client) {
    const errors = await client.stop();
    if (errors.length > 0) throw new Error(`stop: ${errors.map((e) => e.message).join("; ")}`);
}

/** CPU of both processes and bytes received, at one point of the run. */
function snapshot(runtime) {
    return { cpuMs: selfCpuMs(), runtimeCpuMs: processCpuMs(runtime.pid), rx: runtime.rxBytes };
}

function putSection(out, from, to) {
    out.cpu_ms = to.cpuMs - from.cpuMs;
    out.runtime_cpu_ms = to.runtimeCpuMs - from.runtimeCpuMs;
    out.rx_kb = (to.rx - from.rx) / 1024;
}

function makeEchoTool(name, count) {
    return defineTool(name, {
        description: "Echoes its text argument.",
        parameters: {
            type: "object",
            properties: { text: { type: "string" } },
            required: ["text"],
        },
        handler: (args) => {
            count.toolCalls++;
            return `echo: ${typeof args?.text === "string" ? args.text : ""}`;
        },
    });
}

/** The contract's BYOK session: gpt-4o on the fake endpoint, token callback, permissions. */
function makeConfig(s, count) {
    const config = {
        model: "gpt-4o",
        provider: {
            type: "openai",
            baseUrl: s.openaiUrl,
            // Waits like an identity fetch, then answers tok-<k>.
            bearerTokenProvider: async () => {
                const k = ++count.tokenCalls;
                if (s.tokenDelayMs > 0) await sleep(s.tokenDelayMs);
                return `tok-${k}`;
            },
        },
        onPermissionRequest: () => ({ kind: "approve-once" }),
    };
    if (s.tool) config.tools = [makeEchoTool(s.tool, count)];
    return config;
}

// The SDK's own 60 s turn limit would cut a slow fanout short; the runner has its own limit.
const TURN_TIMEOUT_MS = 600_000;

/** One turn (`sendAndWait` with prompt `text`); fails unless the reply has content. */
async function runTurn(session, text) {
    const reply = await session.sendAndWait({ prompt: text }, TURN_TIMEOUT_MS);
    if (!reply?.data?.content) throw new Error("the turn ended without assistant content");
}

// ---------------------------------------------------------------------------------------------
// Scenarios

async function runStart(s) {
    const out = { boot_ms: BOOT_MS };

    let t0 = now();
    const client = makeClient(s);
    await client.start();
    out.start_ms = now() - t0;
    const runtime = attachRuntime(client);

    t0 = now();
    await client.ping("bench");
    out.ping_ms = now() - t0;

    // Totals from process start, read after the ping as the contract defines them.
    out.cpu_ms = selfCpuMs();
    out.runtime_cpu_ms = processCpuMs(runtime.pid);

    t0 = now();
    await stopClient(client);
    out.stop_ms = now() - t0;
    return out;
}

async function runTurns(s) {
    const count = { tokenCalls: 0, toolCalls: 0 };
    const { client, runtime } = await startClient(s);
    const out = { tool: s.tool ? 1 : 0 };

    // Create, then six turns: the first is cold, the median of the rest is the warm figure.
    const before = snapshot(runtime);
    let t0 = now();
    const session = await client.createSession(makeConfig(s, count));
    out.create_ms = now() - t0;

    const turns = [];
    for (let i = 0; i < 6; i++) {
        t0 = now();
        await runTurn(session, "hi");
        turns.push(now() - t0);
    }
    const after = snapshot(runtime);

    out.turn_ms = turns[0];
    out.warm_turn_ms = percentile(turns.slice(1), 50);
    out.token_calls = count.tokenCalls;
    out.tool_calls = count.toolCalls;
    putSection(out, before, after);
    await stopClient(client);
    return out;
}

async function runFanout(s) {
    const count = { tokenCalls: 0, toolCalls: 0 };
    const { client, runtime } = await startClient(s);
    const createMs = [];
    const turnMs = [];

    // The sessions stay open: the scenario stops the client with every session live.
    const task = async () => {
        let t0 = now();
        const session = await client.createSession(makeConfig(s, count));
        createMs.push(now() - t0);
        t0 = now();
        await runTurn(session, "hi");
        turnMs.push(now() - t0);
    };

    const before = snapshot(runtime);
    let t0 = now();
    await Promise.all(Array.from({ length: s.sessions }, task));
    const wall = now() - t0;
    const after = snapshot(runtime);
    const runtimePeak = peakRssMb(runtime.pid);

    t0 = now();
    await stopClient(client);
    const stop = now() - t0;

    const out = {
        n: s.sessions,
        token_delay_ms: s.tokenDelayMs,
        wall_ms: wall,
        create_p50_ms: percentile(createMs, 50),
        create_p99_ms: percentile(createMs, 99),
        turn_p50_ms: percentile(turnMs, 50),
        turn_p99_ms: percentile(turnMs, 99),
        token_calls: count.tokenCalls,
        stop_ms: stop,
    };
    putSection(out, before, after);
    out.peak_rss_mb = peakRssMb("self");
    out.runtime_peak_rss_mb = runtimePeak;
    return out;
}

async function runRpc(s) {
    const { client, runtime } = await startClient(s);
    const phaseMs = s.seconds * 1e3;
    for (let i = 0; i < 200; i++) await client.ping("warm-up");

    // Phase 1: one ping in flight.
    let before = snapshot(runtime);
    let t0 = now();
    const samples = [];
    while (now() < t0 + phaseMs) {
        const start = now();
        await client.ping("bench");
        samples.push((now() - start) * 1e3);
    }
    const seqS = (now() - t0) / 1e3;
    let after = snapshot(runtime);
    const seqN = samples.length;

    const out = {
        seq_rps: seqN / seqS,
        seq_p50_us: percentile(samples, 50),
        seq_p99_us: percentile(samples, 99),
        seq_cpu_us: ((after.cpuMs - before.cpuMs) * 1e3) / seqN,
        seq_runtime_cpu_us: ((after.runtimeCpuMs - before.runtimeCpuMs) * 1e3) / seqN,
    };

    // Phase 2: `depth` slots, each refilled as its ping completes.
    let done = 0;
    before = snapshot(runtime);
    t0 = now();
    const until = t0 + phaseMs;
    const slot = async () => {
        while (now() < until) {
            await client.ping("bench");
            done++;
        }
    };
    await Promise.all(Array.from({ length: s.depth }, slot));
    const pipeS = (now() - t0) / 1e3;
    after = snapshot(runtime);

    out.depth = s.depth;
    out.pipe_rps = done / pipeS;
    out.pipe_cpu_us = ((after.cpuMs - before.cpuMs) * 1e3) / done;
    out.pipe_runtime_cpu_us = ((after.runtimeCpuMs - before.runtimeCpuMs) * 1e3) / done;
    await stopClient(client);
    return out;
}

async function runEvents(s) {
    const count = { tokenCalls: 0, toolCalls: 0 };
    const { client, runtime } = await startClient(s);
    const session = await client.createSession(makeConfig(s, count));

    let delivered = 0;
    const unsubscribe = session.on("assistant.message_delta", () => {
        delivered++;
    });

    const before = snapshot(runtime);
    const t0 = now();
    await runTurn(session, String(s.events));
    const ms = now() - t0;
    const after = snapshot(runtime);
    unsubscribe();
    if (delivered !== s.events)
        throw new Error(`delivered ${delivered} delta events of ${s.events}`);

    const out = { events: delivered, ms, events_per_s: delivered / (ms / 1e3) };
    putSection(out, before, after);
    await stopClient(client);
    return out;
}

const SCENARIOS = {
    start: runStart,
    turn: runTurns,
    fanout: runFanout,
    rpc: runRpc,
    events: runEvents,
};

async function main() {
    const name = process.argv[2];
    if (process.argv.length !== 3 || !(name in SCENARIOS)) {
        process.stderr.write("usage: node bench.mjs start|turn|fanout|rpc|events\n");
        process.exitCode = 2;
        return;
    }
    try {
        const out = await SCENARIOS[name](readSettings());
        process.stdout.write(JSON.stringify(out) + "\n");
    } catch (error) {
        process.stderr.write(`node-bench: ${error?.stack ?? error}\n`);
        // A half-stopped client may keep the event loop alive; the failure is final.
        process.exit(1);
    }
}

await main();
