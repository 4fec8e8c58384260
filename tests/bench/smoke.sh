#!/bin/sh
# Runs copilot-bench once the way the contract's runner does, and checks its output.
#
#   smoke.sh BENCH FAKE_RUNTIME MODEL_SERVER SCENARIO [VAR=VALUE]...
#
# Starts the model server for FAKE_OPENAI_URL, runs BENCH SCENARIO in a fresh empty directory
# with a fresh COPILOT_HOME and COPILOT_CLI_PATH set to FAKE_RUNTIME, then checks the exit
# status and that the last stdout line is a JSON object with the scenario's fields.
set -eu

bench=$1 runtime=$2 model_server=$3 scenario=$4
shift 4

work=$(mktemp -d)
server_pid=
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
mkdir "$work/home" "$work/cwd"

# The server prints "listening on URL" once it accepts connections.
mkfifo "$work/server.out"
"$model_server" 0 >"$work/server.out" &
server_pid=$!
read -r line <"$work/server.out"
url=${line#listening on }

cd "$work/cwd"
env COPILOT_HOME="$work/home" COPILOT_CLI_PATH="$runtime" FAKE_OPENAI_URL="$url" "$@" \
    "$bench" "$scenario" >"$work/stdout"

case $scenario in
start) fields="boot_ms start_ms ping_ms stop_ms cpu_ms runtime_cpu_ms" ;;
turn) fields="tool create_ms turn_ms warm_turn_ms token_calls tool_calls cpu_ms runtime_cpu_ms
              rx_kb" ;;
fanout) fields="n token_delay_ms wall_ms create_p50_ms create_p99_ms turn_p50_ms turn_p99_ms
                token_calls stop_ms cpu_ms runtime_cpu_ms rx_kb peak_rss_mb runtime_peak_rss_mb" ;;
rpc) fields="seq_rps seq_p50_us seq_p99_us seq_cpu_us seq_runtime_cpu_us depth pipe_rps
             pipe_cpu_us pipe_runtime_cpu_us" ;;
events) fields="events ms events_per_s cpu_ms runtime_cpu_ms rx_kb" ;;
*) echo "smoke.sh: unknown scenario $scenario" >&2; exit 2 ;;
esac

tail -n 1 "$work/stdout" | python3 -c '
import json, sys
out = json.loads(sys.stdin.read())
missing = [f for f in sys.argv[1:] if not isinstance(out.get(f), (int, float))]
if missing:
    sys.exit("missing or non-numeric fields: " + " ".join(missing))
print(json.dumps(out))
' $fields
