// copilot-bench: the benchmark program of the scenario contract (docs/performance.md).
//
//   COPILOT_CLI_PATH=RUNTIME [FAKE_OPENAI_URL=URL] [BENCH_*=...] copilot-bench SCENARIO
//
// SCENARIO is start, turn, fanout, rpc or events. The program drives the runtime through the
// SDK's public API only, as an application would, prints one JSON object with the scenario's
// figures as the last line of stdout and exits 0; failures go to stderr with exit 1.
// Everything runs on one io_context on the main thread.

#include <copilot/client.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using steady = std::chrono::steady_clock;

// ---------------------------------------------------------------------------------------------
// Settings and counters

/// The contract's environment variables, read once.
struct settings {
    std::string cli_path;
    std::string openai_url;
    std::chrono::milliseconds token_delay{0};
    std::string tool;
    int sessions = 20;
    double seconds = 3;
    int depth = 64;
    long events = 100000;
};

/// Callback counters shared by every session of the process.
struct counters {
    std::uint64_t token_calls = 0;
    std::uint64_t tool_calls = 0;
};

std::string env_or(const char* name, const std::string& fallback) {
    const char* value = std::getenv(name);
    return value && *value ? std::string(value) : fallback;
}

settings read_settings() {
    settings s;
    s.cli_path = env_or("COPILOT_CLI_PATH", "");
    if (s.cli_path.empty())
        throw std::runtime_error("COPILOT_CLI_PATH is not set");

    // The events scenario needs no model; any syntactically valid endpoint does for it.
    s.openai_url = env_or("FAKE_OPENAI_URL", "http://127.0.0.1:9/v1");
    s.token_delay = std::chrono::milliseconds(std::stol(env_or("BENCH_TOKEN_DELAY_MS", "0")));
    s.tool = env_or("BENCH_TOOL", "");
    s.sessions = std::stoi(env_or("BENCH_N", "20"));
    s.seconds = std::stod(env_or("BENCH_SECONDS", "3"));
    s.depth = std::stoi(env_or("BENCH_DEPTH", "64"));
    s.events = std::stol(env_or("BENCH_EVENTS", "100000"));
    return s;
}

// ---------------------------------------------------------------------------------------------
// Measurements

double ms_between(steady::time_point from, steady::time_point to) {
    return std::chrono::duration<double, std::milli>(to - from).count();
}

double ms_since(steady::time_point from) {
    return ms_between(from, steady::now());
}

/// This process's user + system CPU since it started.
double self_cpu_ms() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    auto ms = [](const timeval& t) {
        return t.tv_sec * 1e3 + t.tv_usec / 1e3;
    };
    return ms(usage.ru_utime) + ms(usage.ru_stime);
}

/// The fields of `/proc/<pid>/stat` after the command name, from field 3 (state) on.
std::vector<std::string> stat_fields(const std::string& pid) {
    std::ifstream in("/proc/" + pid + "/stat");
    std::string line;
    std::getline(in, line);

    // The command name may hold spaces and parentheses; it ends at the last ')'.
    std::istringstream rest(line.substr(line.rfind(')') + 1));
    std::vector<std::string> fields;
    for (std::string field; rest >> field;)
        fields.push_back(field);
    if (fields.size() < 20)
        throw std::runtime_error("cannot read /proc/" + pid + "/stat");
    return fields;
}

double ticks_to_ms(double ticks) {
    return ticks * 1e3 / static_cast<double>(sysconf(_SC_CLK_TCK));
}

/// utime + stime of a process (10 ms resolution), from `/proc/<pid>/stat` fields 14 and 15.
double process_cpu_ms(int pid) {
    auto fields = stat_fields(std::to_string(pid));
    return ticks_to_ms(std::stod(fields[11]) + std::stod(fields[12]));
}

/// Time from this process's start (field 22 of its stat) to now; 10 ms resolution.
double ms_since_process_start() {
    auto fields = stat_fields("self");
    timespec now{};
    clock_gettime(CLOCK_BOOTTIME, &now);
    double now_ms = now.tv_sec * 1e3 + now.tv_nsec / 1e6;
    return std::max(0.0, now_ms - ticks_to_ms(std::stod(fields[19])));
}

/// `VmHWM` (peak resident set) of a process in MB, from `/proc/<pid>/status`.
double peak_rss_mb(const std::string& pid) {
    std::ifstream in("/proc/" + pid + "/status");
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("VmHWM:", 0) == 0)
            return std::stod(line.substr(6)) / 1024.0;
    }
    throw std::runtime_error("no VmHWM in /proc/" + pid + "/status");
}

int runtime_pid(const copilot::client& client) {
    auto pid = client.runtime_pid();
    if (!pid)
        throw std::runtime_error("the runtime is not running");
    return *pid;
}

/// Nearest-rank percentile: the smallest sample with at least p % of the samples at or below.
double percentile(std::vector<double> samples, double p) {
    if (samples.empty())
        return 0;
    std::sort(samples.begin(), samples.end());
    auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * samples.size()));
    return samples[std::clamp<std::size_t>(rank, 1, samples.size()) - 1];
}

/// CPU of both processes and bytes received, at one point of the run.
struct snapshot {
    double cpu_ms;
    double runtime_cpu_ms;
    std::uint64_t rx_bytes;
};

snapshot take_snapshot(const copilot::client& client) {
    return {self_cpu_ms(), process_cpu_ms(runtime_pid(client)), client.bytes_received()};
}

/// Adds `cpu_ms`, `runtime_cpu_ms` and `rx_kb` for the section between two snapshots.
void put_section(json::object& out, const snapshot& from, const snapshot& to) {
    out["cpu_ms"] = to.cpu_ms - from.cpu_ms;
    out["runtime_cpu_ms"] = to.runtime_cpu_ms - from.runtime_cpu_ms;
    out["rx_kb"] = static_cast<double>(to.rx_bytes - from.rx_bytes) / 1024.0;
}

// ---------------------------------------------------------------------------------------------
// The client and the session configuration

copilot::client_options make_options(const settings& s) {
    // Inherited environment and working directory: the runner prepares both.
    copilot::client_options options;
    options.cli_path = s.cli_path;
    options.use_logged_in_user = false;
    return options;
}

/// The bearer-token callback: waits like an identity fetch, then answers `tok-<k>`.
asio::awaitable<copilot::bearer_token> fetch_token(std::shared_ptr<counters> count,
                                                   std::chrono::milliseconds delay) {
    auto k = ++count->token_calls;
    if (delay.count() > 0) {
        asio::steady_timer timer(co_await asio::this_coro::executor, delay);
        co_await timer.async_wait(asio::use_awaitable);
    }

    copilot::bearer_token token;
    token.token = "tok-" + std::to_string(k);
    co_return token;
}

copilot::tool make_echo_tool(const std::string& name, std::shared_ptr<counters> count) {
    json::object text_property{{"type", "string"}};
    json::object parameters{{"type", "object"},
                            {"properties", json::object{{"text", text_property}}},
                            {"required", json::array{"text"}}};

    auto echo = [count](const copilot::tool_invocation& call) {
        ++count->tool_calls;
        const auto* text =
            call.arguments.is_object() ? call.arguments.get_object().if_contains("text") : nullptr;
        return "echo: " + (text && text->is_string() ? std::string(text->get_string()) : "");
    };
    return copilot::make_tool(name, "Echoes its text argument.", std::move(parameters), echo);
}

/// The contract's BYOK session: gpt-4o on the fake endpoint, token callback, permissions.
copilot::session_config make_config(const settings& s, const std::shared_ptr<counters>& count) {
    copilot::session_config config;
    config.model = "gpt-4o";

    copilot::provider_config provider;
    provider.type = "openai";
    provider.base_url = s.openai_url;
    provider.token_provider = [count, delay = s.token_delay](copilot::provider_token_args) {
        return fetch_token(count, delay);
    };
    config.provider = std::move(provider);

    // approve_all answers every prompt with approve-once.
    config.on_permission = copilot::approve_all();
    if (!s.tool.empty())
        config.tools.push_back(make_echo_tool(s.tool, count));

    // Events reach this program through handlers only; it never pulls with async_next_event,
    // so it does not keep the pull buffer (4,096 events per session by default).
    config.event_buffer_capacity = 0;
    return config;
}

asio::awaitable<copilot::session>
create_session(copilot::client& client, const settings& s, const std::shared_ptr<counters>& count) {
    auto config = make_config(s, count);
    co_return co_await client.async_create_session(std::move(config));
}

/// One turn (`sendAndWait` with prompt `text`); fails unless the reply has content.
asio::awaitable<void> run_turn(copilot::session session, std::string text) {
    auto message = copilot::prompt(std::move(text));
    auto reply = co_await session.async_send_and_wait(std::move(message));
    if (!reply || reply->content.empty())
        throw std::runtime_error("the turn ended without assistant content");
}

/// Counts finished tasks and wakes the waiter when the last one is done.
class task_group {
public:
    task_group(asio::any_io_executor executor, std::size_t size)
        : left_(size)
        , done_(executor, steady::time_point::max()) {}

    void finish(std::exception_ptr error) {
        if (error && !error_)
            error_ = error;
        if (--left_ == 0)
            done_.cancel();
    }

    /// Waits for every task and rethrows the first failure.
    ///
    /// TODO: a failure is reported only once every other task has ended, and a turn that never
    /// ends hangs the run; the runner's time limit ends it. Turns carry no timeout of their own.
    asio::awaitable<void> wait() {
        if (left_ > 0) {
            boost::system::error_code ignored;
            co_await done_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
        }
        if (error_)
            std::rethrow_exception(error_);
    }

private:
    std::size_t left_;
    asio::steady_timer done_;
    std::exception_ptr error_;
};

// ---------------------------------------------------------------------------------------------
// Scenarios

asio::awaitable<json::object> run_start(const settings& s) {
    auto executor = co_await asio::this_coro::executor;
    json::object out;
    out["boot_ms"] = ms_since_process_start();

    auto t0 = steady::now();
    copilot::client client(executor, make_options(s));
    co_await client.async_start();
    out["start_ms"] = ms_since(t0);

    t0 = steady::now();
    std::string message = "bench";
    co_await client.async_ping(std::move(message));
    out["ping_ms"] = ms_since(t0);

    // Totals from process start, read after the ping as the contract defines them.
    out["cpu_ms"] = self_cpu_ms();
    out["runtime_cpu_ms"] = process_cpu_ms(runtime_pid(client));

    t0 = steady::now();
    co_await client.async_stop();
    out["stop_ms"] = ms_since(t0);
    co_return out;
}

asio::awaitable<json::object> run_turns(const settings& s) {
    auto executor = co_await asio::this_coro::executor;
    auto count = std::make_shared<counters>();
    copilot::client client(executor, make_options(s));
    co_await client.async_start();
    json::object out;
    out["tool"] = s.tool.empty() ? 0 : 1;

    // Create, then six turns: the first is cold, the median of the rest is the warm figure.
    auto before = take_snapshot(client);
    auto t0 = steady::now();
    auto session = co_await create_session(client, s, count);
    out["create_ms"] = ms_since(t0);

    std::vector<double> turns;
    for (int i = 0; i < 6; ++i) {
        t0 = steady::now();
        co_await run_turn(session, "hi");
        turns.push_back(ms_since(t0));
    }
    auto after = take_snapshot(client);

    out["turn_ms"] = turns.front();
    out["warm_turn_ms"] = percentile({turns.begin() + 1, turns.end()}, 50);
    out["token_calls"] = count->token_calls;
    out["tool_calls"] = count->tool_calls;
    put_section(out, before, after);
    co_await client.async_stop();
    co_return out;
}

/// Per-task times of the fanout scenario.
struct fanout_times {
    std::vector<double> create_ms;
    std::vector<double> turn_ms;
    std::vector<copilot::session> sessions;
};

asio::awaitable<void> fanout_task(copilot::client& client,
                                  const settings& s,
                                  std::shared_ptr<counters> count,
                                  fanout_times& times) {
    auto t0 = steady::now();
    auto session = co_await create_session(client, s, count);
    times.create_ms.push_back(ms_since(t0));

    // The session stays open: the scenario stops the client with every session live.
    times.sessions.push_back(session);
    t0 = steady::now();
    co_await run_turn(session, "hi");
    times.turn_ms.push_back(ms_since(t0));
}

asio::awaitable<json::object> run_fanout(const settings& s) {
    auto executor = co_await asio::this_coro::executor;
    auto count = std::make_shared<counters>();
    copilot::client client(executor, make_options(s));
    co_await client.async_start();

    // Every task runs on the one connection; the group rethrows the first failure.
    fanout_times times;
    task_group group(executor, static_cast<std::size_t>(s.sessions));
    auto before = take_snapshot(client);
    auto t0 = steady::now();
    for (int i = 0; i < s.sessions; ++i)
        asio::co_spawn(executor, fanout_task(client, s, count, times),
                       [&group](std::exception_ptr e) { group.finish(e); });
    co_await group.wait();
    double wall = ms_since(t0);
    auto after = take_snapshot(client);
    double runtime_peak = peak_rss_mb(std::to_string(runtime_pid(client)));

    t0 = steady::now();
    co_await client.async_stop();
    double stop = ms_since(t0);

    json::object out;
    out["n"] = s.sessions;
    out["token_delay_ms"] = s.token_delay.count();
    out["wall_ms"] = wall;
    out["create_p50_ms"] = percentile(times.create_ms, 50);
    out["create_p99_ms"] = percentile(times.create_ms, 99);
    out["turn_p50_ms"] = percentile(times.turn_ms, 50);
    out["turn_p99_ms"] = percentile(times.turn_ms, 99);
    out["token_calls"] = count->token_calls;
    out["stop_ms"] = stop;
    put_section(out, before, after);
    out["peak_rss_mb"] = peak_rss_mb("self");
    out["runtime_peak_rss_mb"] = runtime_peak;
    co_return out;
}

/// Pings one after another until `until`, collecting round-trip times in microseconds.
asio::awaitable<std::vector<double>> sequential_pings(copilot::client& client,
                                                      steady::time_point until) {
    std::vector<double> samples;
    while (steady::now() < until) {
        auto t0 = steady::now();
        std::string message = "bench";
        co_await client.async_ping(std::move(message));
        samples.push_back(ms_since(t0) * 1e3);
    }
    co_return samples;
}

/// One of the pipelined slots: sends the next ping as soon as its previous one completes.
asio::awaitable<void>
ping_slot(copilot::client& client, steady::time_point until, std::uint64_t& done) {
    while (steady::now() < until) {
        std::string message = "bench";
        co_await client.async_ping(std::move(message));
        ++done;
    }
}

asio::awaitable<json::object> run_rpc(const settings& s) {
    auto executor = co_await asio::this_coro::executor;
    copilot::client client(executor, make_options(s));
    co_await client.async_start();
    auto phase =
        std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(s.seconds));

    for (int i = 0; i < 200; ++i) {
        std::string message = "warm-up";
        co_await client.async_ping(std::move(message));
    }

    // Phase 1: one ping in flight.
    auto before = take_snapshot(client);
    auto t0 = steady::now();
    auto samples = co_await sequential_pings(client, t0 + phase);
    double seq_s = ms_since(t0) / 1e3;
    auto after = take_snapshot(client);
    auto seq_n = static_cast<double>(samples.size());

    json::object out;
    out["seq_rps"] = seq_n / seq_s;
    out["seq_p50_us"] = percentile(samples, 50);
    out["seq_p99_us"] = percentile(samples, 99);
    out["seq_cpu_us"] = (after.cpu_ms - before.cpu_ms) * 1e3 / seq_n;
    out["seq_runtime_cpu_us"] = (after.runtime_cpu_ms - before.runtime_cpu_ms) * 1e3 / seq_n;

    // Phase 2: `depth` slots, each refilled as its ping completes.
    std::uint64_t done = 0;
    task_group group(executor, static_cast<std::size_t>(s.depth));
    before = take_snapshot(client);
    t0 = steady::now();
    for (int i = 0; i < s.depth; ++i)
        asio::co_spawn(executor, ping_slot(client, t0 + phase, done),
                       [&group](std::exception_ptr e) { group.finish(e); });
    co_await group.wait();
    double pipe_s = ms_since(t0) / 1e3;
    after = take_snapshot(client);
    auto pipe_n = static_cast<double>(done);

    out["depth"] = s.depth;
    out["pipe_rps"] = pipe_n / pipe_s;
    out["pipe_cpu_us"] = (after.cpu_ms - before.cpu_ms) * 1e3 / pipe_n;
    out["pipe_runtime_cpu_us"] = (after.runtime_cpu_ms - before.runtime_cpu_ms) * 1e3 / pipe_n;
    co_await client.async_stop();
    co_return out;
}

asio::awaitable<json::object> run_events(const settings& s) {
    auto executor = co_await asio::this_coro::executor;
    auto count = std::make_shared<counters>();
    copilot::client client(executor, make_options(s));
    co_await client.async_start();
    auto session = co_await create_session(client, s, count);

    // A string subscription hands the handler the envelope, as the Node SDK's `on` does.
    long delivered = 0;
    auto subscription = session.on("assistant.message_delta",
                                   [&delivered](const copilot::session_event&) { ++delivered; });

    auto before = take_snapshot(client);
    auto t0 = steady::now();
    co_await run_turn(session, std::to_string(s.events));
    double ms = ms_since(t0);
    auto after = take_snapshot(client);
    subscription.unsubscribe();
    if (delivered != s.events)
        throw std::runtime_error("delivered " + std::to_string(delivered) + " delta events of " +
                                 std::to_string(s.events));

    json::object out;
    out["events"] = delivered;
    out["ms"] = ms;
    out["events_per_s"] = static_cast<double>(delivered) / (ms / 1e3);
    put_section(out, before, after);
    co_await client.async_stop();
    co_return out;
}

asio::awaitable<json::object> run_scenario(std::string name, settings s) {
    if (name == "start")
        co_return co_await run_start(s);
    if (name == "turn")
        co_return co_await run_turns(s);
    if (name == "fanout")
        co_return co_await run_fanout(s);
    if (name == "rpc")
        co_return co_await run_rpc(s);
    if (name == "events")
        co_return co_await run_events(s);
    throw std::invalid_argument("unknown scenario '" + name + "'");
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: copilot-bench start|turn|fanout|rpc|events\n";
        return 2;
    }

    try {
        auto s = read_settings();
        asio::io_context io;
        std::optional<json::object> result;
        std::exception_ptr failure;
        asio::co_spawn(io, run_scenario(argv[1], std::move(s)),
                       [&](std::exception_ptr e, json::object out) {
                           failure = e;
                           result = std::move(out);
                       });
        io.run();

        if (failure)
            std::rethrow_exception(failure);
        std::cout << json::serialize(*result) << std::endl;
    } catch (const std::exception& e) {
        std::cerr << "copilot-bench: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
