#include <copilot/error.hpp>
#include <copilot/testing/fake_runtime.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <deque>
#include <mutex>
#include <random>
#include <set>
#include <stdexcept>
#include <unordered_map>

namespace copilot::testing {

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr int protocol_version = 3;

// Nesting of the `too_deep_reply` fault: far beyond any client's depth limit.
constexpr int too_deep_levels = 1000;

[[noreturn]] void fail_rpc(int code, const std::string& message) {
    throw error(make_rpc_error_code(code), message);
}

// "2026-12-03T12:37:34.025Z", as the runtime writes event timestamps.
std::string iso_timestamp() {
    using namespace std::chrono;
    auto now = system_clock::now();
    auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
    auto seconds = system_clock::to_time_t(now);
    std::tm utc{};
    gmtime_r(&seconds, &utc);

    char text[64];
    std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                  utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                  static_cast<int>(ms));
    return text;
}

// Random version-4 UUIDs; uniqueness within a test run is all that matters here.
class uuid_source {
public:
    uuid_source()
        : engine_(std::random_device{}()) {}

    std::string next() {
        std::uint64_t high = engine_();
        std::uint64_t low = engine_();
        high = (high & ~std::uint64_t{0xF000}) | 0x4000;
        low = (low & ~(std::uint64_t{0x3} << 62)) | (std::uint64_t{0x2} << 62);

        char text[40];
        std::snprintf(text, sizeof text, "%08x-%04x-%04x-%04x-%012llx",
                      static_cast<unsigned>(high >> 32),
                      static_cast<unsigned>((high >> 16) & 0xFFFF),
                      static_cast<unsigned>(high & 0xFFFF), static_cast<unsigned>(low >> 48),
                      static_cast<unsigned long long>(low & 0xFFFFFFFFFFFFull));
        return text;
    }

private:
    std::mt19937_64 engine_;
};

// The prompt read as a decimal count of deltas; 0 when it is not one.
std::size_t delta_count(std::string_view prompt) {
    std::size_t n = 0;
    auto [end, err] = std::from_chars(prompt.data(), prompt.data() + prompt.size(), n);
    if (err != std::errc{} || end != prompt.data() + prompt.size())
        return 0;
    return n;
}

std::string string_param(const json::value& params, std::string_view key) {
    const auto* object = params.if_object();
    const auto* item = object ? object->if_contains(key) : nullptr;
    return item && item->is_string() ? std::string(item->get_string()) : std::string();
}

json::value nested_arrays(int depth) {
    json::value value = json::array();
    for (int i = 1; i < depth; ++i) {
        json::array outer;
        outer.push_back(std::move(value));
        value = std::move(outer);
    }
    return value;
}

// Sits between the connection and the real stream. It lets `write_raw` put bytes between two
// whole frames, and counts the connection's writes so the event pump can wait for the writer
// instead of queueing a hundred thousand frames in memory.
class write_gate : public std::enable_shared_from_this<write_gate> {
public:
    write_gate(jsonrpc::strand_type strand, std::unique_ptr<jsonrpc::byte_stream> inner)
        : strand_(std::move(strand))
        , inner_(std::move(inner))
        , progress_(strand_, asio::steady_timer::time_point::max()) {}

    jsonrpc::byte_stream& inner() { return *inner_; }

    void write(std::vector<asio::const_buffer> buffers,
               asio::any_completion_handler<jsonrpc::io_signature> handler) {
        ++submitted_;
        queue_.push_back(std::make_shared<op>(op{std::move(buffers), {}, std::move(handler)}));
        pump();
    }

    void write_raw(std::string bytes) {
        auto raw = std::make_shared<op>();
        raw->raw = std::move(bytes);
        raw->buffers.push_back(asio::buffer(raw->raw));
        queue_.push_back(std::move(raw));
        pump();
    }

    void close() {
        closed_ = true;
        inner_->close();
        progress_.cancel();
    }

    // Waits until the connection's next write, which holds every frame queued before this
    // call, has completed, or the stream closed.
    asio::awaitable<void> flushed() {
        auto target = submitted_ + 1;
        while (completed_ < target && !closed_)
            co_await progress_.async_wait(use_tuple);
    }

private:
    struct op {
        std::vector<asio::const_buffer> buffers;
        std::string raw;
        asio::any_completion_handler<jsonrpc::io_signature> handler;
    };

    void pump() {
        if (busy_ || queue_.empty())
            return;
        busy_ = true;
        auto current = std::move(queue_.front());
        queue_.pop_front();

        auto done = [self = shared_from_this(), current](boost::system::error_code ec,
                                                         std::size_t n) {
            self->finish(*current, ec, n);
        };
        inner_->async_write(current->buffers, asio::bind_executor(strand_, std::move(done)));
    }

    void finish(op& current, boost::system::error_code ec, std::size_t n) {
        busy_ = false;
        if (current.handler) {
            ++completed_;
            progress_.cancel();
            std::move(current.handler)(ec, n);
        }
        pump();
    }

    jsonrpc::strand_type strand_;
    std::unique_ptr<jsonrpc::byte_stream> inner_;
    std::deque<std::shared_ptr<op>> queue_;
    asio::steady_timer progress_;
    std::uint64_t submitted_ = 0;
    std::uint64_t completed_ = 0;
    bool busy_ = false;
    bool closed_ = false;
};

// The byte stream the connection owns; the gate it forwards to is shared with the fake.
class gated_stream final : public jsonrpc::byte_stream {
public:
    explicit gated_stream(std::shared_ptr<write_gate> gate)
        : gate_(std::move(gate)) {}

    void async_read_some(asio::mutable_buffer buffer,
                         asio::any_completion_handler<jsonrpc::io_signature> handler) override {
        gate_->inner().async_read_some(buffer, std::move(handler));
    }

    void async_write(std::vector<asio::const_buffer> buffers,
                     asio::any_completion_handler<jsonrpc::io_signature> handler) override {
        gate_->write(std::move(buffers), std::move(handler));
    }

    void close() override { gate_->close(); }

    std::string failure_context() override { return gate_->inner().failure_context(); }

private:
    std::shared_ptr<write_gate> gate_;
};

} // namespace

struct fake_runtime::state : std::enable_shared_from_this<state> {
    state(jsonrpc::strand_type s, fake_runtime_options o)
        : options(std::move(o))
        , strand(std::move(s)) {}

    fake_runtime_options options;
    jsonrpc::strand_type strand;
    std::shared_ptr<write_gate> gate;
    std::shared_ptr<jsonrpc::connection> conn;
    std::optional<socket_type> client_end;

    // Strand only.
    std::unordered_map<std::string, jsonrpc::request_handler> handlers;
    std::unordered_map<std::string, std::deque<fault>> faults;
    std::unordered_map<std::string, std::string> last_persisted;
    std::unordered_map<std::string, std::uint64_t> turns;
    std::set<std::string> registered;
    uuid_source uuids;
    bool authenticated = false;

    // The log and the session set are read by test code on other threads, hence the mutex.
    mutable std::mutex mutex;
    std::vector<received_request> log;
    std::set<std::string> sessions;

    void serve_on_connection(const std::string& method);
    void add_handler(std::string method, jsonrpc::request_handler handler);
    void install_defaults();
    std::optional<fault> take_fault(const std::string& method);
    void check_access(const std::string& method) const;

    json::object
    envelope(const std::string& session_id, std::string type, json::value data, bool ephemeral);
    void emit(const std::string& session_id, std::string type, json::value data, bool ephemeral);

    bool knows_session(const std::string& id) const;
    void remember_session(const std::string& id);
    void forget_session(const std::string& id);
};

namespace {

using state_ptr = std::shared_ptr<fake_runtime::state>;

// Waits until the connection closes; close() cancels it, ending the handler with an error.
asio::awaitable<json::value> hang() {
    asio::steady_timer never(co_await asio::this_coro::executor,
                             asio::steady_timer::time_point::max());
    co_await never.async_wait(asio::use_awaitable);
    co_return nullptr;
}

// Lets the connection queue the reply of the handler that spawned the caller. The reply is
// queued when the handler's coroutine completes, which takes up to two turns of the strand.
// TODO: this counts on co_spawn's completion path in Boost 1.81; the connection offers no
// "reply sent" hook to wait on instead.
asio::awaitable<void> after_reply_queued() {
    co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
    co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
}

asio::awaitable<json::value> inject(state_ptr self, fault f) {
    switch (f) {
    case fault::close_stream:
        self->conn->close();
        co_return nullptr;
    case fault::bad_frame_header:
        self->gate->write_raw("Content-Length: none\r\n\r\n{}");
        break;
    case fault::oversized_frame:
        self->gate->write_raw("Content-Length: 1099511627776\r\n\r\n");
        break;
    case fault::too_deep_reply:
        co_return nested_arrays(too_deep_levels);
    case fault::garbage_frame: // served by `serve`, which answers normally after the garbage
    case fault::never_reply:
        break;
    }
    co_return co_await hang();
}

// Every request the fake serves passes here: record, fault, access check, handler.
asio::awaitable<json::value>
serve(std::weak_ptr<fake_runtime::state> weak, std::string method, json::value params) {
    auto self = weak.lock();
    if (!self)
        fail_rpc(rpc_code::internal_error, "the fake runtime is gone");
    {
        std::lock_guard lock(self->mutex);
        self->log.push_back({method, params});
    }

    if (auto f = self->take_fault(method)) {
        if (*f != fault::garbage_frame)
            co_return co_await inject(self, *f);

        // The garbage is queued first, so the normal reply follows it on the wire.
        self->gate->write_raw(jsonrpc::framer::encode("{not json"));
    }

    self->check_access(method);
    auto it = self->handlers.find(method);
    if (it == self->handlers.end())
        fail_rpc(rpc_code::method_not_found, "Unhandled method " + method);

    // A copy: the handler may be replaced while this request still runs.
    auto handler = it->second;
    co_return co_await handler(std::move(params));
}

void require_session(const fake_runtime::state& s,
                     const std::string& method,
                     const std::string& id) {
    if (s.knows_session(id))
        return;
    auto reason = "Session not found for sessionId: " + id;
    fail_rpc(rpc_code::internal_error, "Request " + method + " failed with message: " + reason);
}

asio::awaitable<json::value> on_connect(fake_runtime::state& s, json::value params) {
    const auto& required = s.options.connection_token;
    if (required && string_param(params, "token") != *required)
        fail_rpc(-32002, "AUTHENTICATION_FAILED");
    s.authenticated = true;

    // `client` is echoed only when the client offered it, as the runtime does.
    json::array kinds{"agent", "shell"};
    const auto* offered =
        params.is_object() ? params.as_object().if_contains("supportedTaskKinds") : nullptr;
    if (offered && offered->is_array()) {
        for (const auto& kind : offered->get_array()) {
            if (kind == "client")
                kinds.emplace_back("client");
        }
    }
    co_return json::object{{"ok", true},
                           {"protocolVersion", protocol_version},
                           {"version", s.options.version},
                           {"taskKinds", std::move(kinds)}};
}

asio::awaitable<json::value> on_ping(json::value params) {
    using namespace std::chrono;
    auto now = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
    co_return json::object{{"message", "pong: " + string_param(params, "message")},
                           {"timestamp", now},
                           {"protocolVersion", protocol_version}};
}

asio::awaitable<json::value> on_session_open(fake_runtime::state& s, json::value params) {
    auto id = string_param(params, "sessionId");
    if (id.empty())
        id = s.uuids.next();
    s.remember_session(id);
    co_return json::object{{"sessionId", id},
                           {"startTime", iso_timestamp()},
                           {"isRemote", false},
                           {"mode", "interactive"}};
}

// The turn of `session.send`: deltas in batches, then the message and the idle event.
asio::awaitable<void> stream_turn(state_ptr s,
                                  std::string session,
                                  std::string prompt,
                                  std::string message_id,
                                  std::uint64_t turn) {
    co_await after_reply_queued();
    auto live = [&] {
        return s->conn->is_open() && s->turns[session] == turn;
    };

    auto count = delta_count(prompt);
    auto batch = std::max<std::size_t>(1, s->options.event_batch);
    for (std::size_t i = 0; i < count && live(); ++i) {
        s->emit(session, "assistant.message_delta",
                json::object{{"messageId", message_id}, {"deltaContent", std::to_string(i) + " "}},
                true);
        if ((i + 1) % batch == 0)
            co_await s->gate->flushed();
    }
    if (!live())
        co_return;

    s->emit(session, "assistant.message",
            json::object{{"messageId", message_id}, {"content", "echo: " + prompt}}, false);
    s->emit(session, "session.idle", json::object{{"mode", "interactive"}}, true);
}

asio::awaitable<json::value> on_send(fake_runtime::state& s, json::value params) {
    auto session = string_param(params, "sessionId");
    require_session(s, "session.send", session);

    auto message_id = s.uuids.next();
    auto turn = ++s.turns[session];
    asio::co_spawn(s.strand,
                   stream_turn(s.shared_from_this(), session, string_param(params, "prompt"),
                               message_id, turn),
                   asio::detached);
    co_return json::object{{"messageId", message_id}};
}

asio::awaitable<void> announce_abort(state_ptr s, std::string session) {
    co_await after_reply_queued();
    s->emit(session, "session.idle", json::object{{"aborted", true}, {"mode", "interactive"}},
            true);
}

asio::awaitable<json::value> on_abort(fake_runtime::state& s, json::value params) {
    auto session = string_param(params, "sessionId");
    require_session(s, "session.abort", session);

    // A new turn number stops a turn still streaming.
    ++s.turns[session];
    asio::co_spawn(s.strand, announce_abort(s.shared_from_this(), session), asio::detached);
    co_return json::object{{"success", true}};
}

asio::awaitable<json::value> on_session_close(fake_runtime::state& s, json::value params) {
    s.forget_session(string_param(params, "sessionId"));
    co_return json::object{{"success", true}};
}

// The reply to `runtime.shutdown` goes out whole before the stream closes.
asio::awaitable<void> close_after_reply(state_ptr s) {
    co_await after_reply_queued();
    co_await s->gate->flushed();
    s->conn->close();
}

asio::awaitable<json::value> on_shutdown(fake_runtime::state& s, json::value) {
    asio::co_spawn(s.strand, close_after_reply(s.shared_from_this()), asio::detached);
    co_return json::object{};
}

} // namespace

void fake_runtime::state::install_defaults() {
    // Handlers hold a plain pointer: `serve` keeps the state alive while one runs.
    auto self = this;
    auto add = [self](std::string method, jsonrpc::request_handler handler) {
        self->add_handler(std::move(method), std::move(handler));
    };
    add("connect", [self](json::value p) { return on_connect(*self, std::move(p)); });
    add("ping", [](json::value p) { return on_ping(std::move(p)); });
    add("status.get", [self](json::value) -> asio::awaitable<json::value> {
        co_return json::object{{"version", self->options.version},
                               {"protocolVersion", protocol_version}};
    });
    add("auth.getStatus", [](json::value) -> asio::awaitable<json::value> {
        co_return json::object{{"isAuthenticated", false}};
    });
    add("session.create", [self](json::value p) { return on_session_open(*self, std::move(p)); });
    add("session.resume", [self](json::value p) { return on_session_open(*self, std::move(p)); });
    add("session.send", [self](json::value p) { return on_send(*self, std::move(p)); });
    add("session.abort", [self](json::value p) { return on_abort(*self, std::move(p)); });
    add("session.detach", [self](json::value p) { return on_session_close(*self, std::move(p)); });
    add("session.destroy", [self](json::value p) { return on_session_close(*self, std::move(p)); });
    add("runtime.shutdown", [self](json::value p) { return on_shutdown(*self, std::move(p)); });
}

void fake_runtime::state::add_handler(std::string method, jsonrpc::request_handler handler) {
    serve_on_connection(method);
    handlers[std::move(method)] = std::move(handler);
}

// TODO: a method never named to `on_request` or `fail_next` is answered -32601 by the
// connection itself and is missing from the request log; the connection has no catch-all.
void fake_runtime::state::serve_on_connection(const std::string& method) {
    if (!registered.insert(method).second)
        return;

    // A weak pointer: the connection's handler table must not keep the fake alive.
    std::weak_ptr<state> weak = shared_from_this();
    conn->add_request_handler(method, [weak, method](json::value params) {
        return serve(weak, method, std::move(params));
    });
}

std::optional<fault> fake_runtime::state::take_fault(const std::string& method) {
    auto it = faults.find(method);
    if (it == faults.end() || it->second.empty())
        return std::nullopt;
    auto f = it->second.front();
    it->second.pop_front();
    return f;
}

void fake_runtime::state::check_access(const std::string& method) const {
    if (options.connection_token && !authenticated && method != "connect")
        fail_rpc(-32001, "AUTHENTICATION_REQUIRED");
}

json::object fake_runtime::state::envelope(const std::string& session_id,
                                           std::string type,
                                           json::value data,
                                           bool ephemeral) {
    // Like the runtime, an event's parent is the last persisted event of its session;
    // ephemeral events (deltas, idle) do not move the chain.
    auto& parent = last_persisted[session_id];
    json::object event;
    event["id"] = uuids.next();
    event["timestamp"] = iso_timestamp();
    event["parentId"] = parent.empty() ? json::value(nullptr) : json::value(parent);
    event["type"] = std::move(type);
    event["data"] = std::move(data);
    if (ephemeral)
        event["ephemeral"] = true;
    else
        parent = event["id"].as_string();
    return event;
}

void fake_runtime::state::emit(const std::string& session_id,
                               std::string type,
                               json::value data,
                               bool ephemeral) {
    auto event = envelope(session_id, std::move(type), std::move(data), ephemeral);
    conn->notify("session.event",
                 json::object{{"sessionId", session_id}, {"event", std::move(event)}});
}

bool fake_runtime::state::knows_session(const std::string& id) const {
    std::lock_guard lock(mutex);
    return sessions.count(id) != 0;
}

void fake_runtime::state::remember_session(const std::string& id) {
    std::lock_guard lock(mutex);
    sessions.insert(id);
}

void fake_runtime::state::forget_session(const std::string& id) {
    std::lock_guard lock(mutex);
    sessions.erase(id);
}

fake_runtime::fake_runtime(asio::any_io_executor executor,
                           std::unique_ptr<jsonrpc::byte_stream> stream,
                           fake_runtime_options options)
    : state_(std::make_shared<state>(asio::make_strand(executor), std::move(options))) {
    open(std::move(stream));
}

fake_runtime::fake_runtime(asio::any_io_executor executor, fake_runtime_options options)
    : state_(std::make_shared<state>(asio::make_strand(executor), std::move(options))) {
    socket_type runtime_end(executor);
    socket_type client_end(executor);
    asio::local::connect_pair(runtime_end, client_end);
    state_->client_end.emplace(std::move(client_end));
    open(std::make_unique<jsonrpc::duplex_stream<socket_type>>(std::move(runtime_end)));
}

void fake_runtime::open(std::unique_ptr<jsonrpc::byte_stream> stream) {
    auto& s = *state_;
    s.gate = std::make_shared<write_gate>(s.strand, std::move(stream));
    s.conn = jsonrpc::connection::create(s.strand, std::make_unique<gated_stream>(s.gate),
                                         s.options.connection);
    s.install_defaults();
    s.conn->start();
}

fake_runtime::~fake_runtime() {
    if (state_ && state_->conn)
        state_->conn->close();
}

std::unique_ptr<jsonrpc::byte_stream> fake_runtime::take_client_stream() {
    return std::make_unique<jsonrpc::duplex_stream<socket_type>>(take_client_socket());
}

fake_runtime::socket_type fake_runtime::take_client_socket() {
    if (!state_->client_end)
        throw std::logic_error("fake_runtime: no client end to take");
    auto socket = std::move(*state_->client_end);
    state_->client_end.reset();
    return socket;
}

void fake_runtime::on_request(std::string method, jsonrpc::request_handler handler) {
    asio::dispatch(state_->strand, [s = state_, m = std::move(method), h = std::move(handler)] {
        s->add_handler(m, h);
    });
}

void fake_runtime::fail_next(std::string method, fault f) {
    asio::dispatch(state_->strand, [s = state_, m = std::move(method), f] {
        s->serve_on_connection(m);
        s->faults[m].push_back(f);
    });
}

void fake_runtime::send_event(std::string session_id,
                              std::string type,
                              json::value data,
                              bool ephemeral) {
    asio::dispatch(state_->strand, [s = state_, id = std::move(session_id), t = std::move(type),
                                    d = std::move(data), ephemeral]() mutable {
        s->emit(id, std::move(t), std::move(d), ephemeral);
    });
}

void fake_runtime::notify(std::string method, json::value params) {
    state_->conn->notify(method, std::move(params));
}

void fake_runtime::write_raw(std::string bytes) {
    asio::dispatch(state_->strand, [s = state_, b = std::move(bytes)]() mutable {
        s->gate->write_raw(std::move(b));
    });
}

void fake_runtime::close() {
    state_->conn->close();
}

std::vector<received_request> fake_runtime::requests() const {
    std::lock_guard lock(state_->mutex);
    return state_->log;
}

std::vector<received_request> fake_runtime::requests(std::string_view method) const {
    std::lock_guard lock(state_->mutex);
    std::vector<received_request> matching;
    for (const auto& request : state_->log) {
        if (request.method == method)
            matching.push_back(request);
    }
    return matching;
}

std::vector<std::string> fake_runtime::sessions() const {
    std::lock_guard lock(state_->mutex);
    return {state_->sessions.begin(), state_->sessions.end()};
}

std::shared_ptr<jsonrpc::connection> fake_runtime::connection() const {
    return state_->conn;
}

} // namespace copilot::testing
