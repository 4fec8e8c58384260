#include <copilot/testing/model_server.hpp>

#include "model_wire.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <cctype>
#include <deque>
#include <exception>
#include <mutex>
#include <set>
#include <tuple>
#include <utility>

namespace copilot::testing {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

using request_type = http::request<http::string_body>;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// The runtime's request headers are small; the default 8 KiB would still do, with little room.
constexpr std::uint32_t max_header_bytes = 64 * 1024;

// Tool schemas nest a few levels; Boost.JSON's default of 32 is close enough to matter.
constexpr std::size_t max_json_depth = 64;

enum class route { chat_completions, models, wrong_method, unknown };

std::string lower(std::string_view text) {
    std::string out(text);
    for (auto& c : out) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

std::string_view path_of(std::string_view target) {
    return target.substr(0, target.find('?'));
}

route route_of(const recorded_request& record) {
    bool chat = record.path == "/v1/chat/completions" || record.path == "/chat/completions";
    bool models = record.path == "/v1/models" || record.path == "/models";
    if (!chat && !models) {
        return route::unknown;
    }
    if (chat) {
        return record.method == "POST" ? route::chat_completions : route::wrong_method;
    }
    return record.method == "GET" ? route::models : route::wrong_method;
}

// An empty or malformed body is recorded as null; the route decides whether that is an error.
json::value parse_body(std::string_view body) {
    if (body.empty()) {
        return nullptr;
    }
    json::parse_options options;
    options.max_depth = max_json_depth;
    error_code ec;
    json::value value = json::parse(body, ec, {}, options);
    return ec ? json::value(nullptr) : value;
}

recorded_request make_record(const request_type& request) {
    recorded_request record;
    record.method = std::string(request.method_string());
    record.target = std::string(request.target());
    record.path = std::string(path_of(request.target()));

    for (const auto& field : request) {
        std::string name = lower(field.name_string());
        if (name == "authorization" && record.authorization.empty()) {
            record.authorization = std::string(field.value());
            continue;
        }
        auto [it, inserted] = record.headers.try_emplace(name, field.value());
        if (!inserted) {
            it->second.append(", ").append(field.value());
        }
    }

    record.body = parse_body(request.body());
    return record;
}

const json::array* messages_of(const json::value& body) {
    const auto* object = body.if_object();
    const auto* messages = object ? object->if_contains("messages") : nullptr;
    return messages ? messages->if_array() : nullptr;
}

std::string_view role_of(const json::value& message) {
    const auto* object = message.if_object();
    const auto* role = object ? object->if_contains("role") : nullptr;
    return role && role->is_string() ? std::string_view(role->get_string()) : std::string_view();
}

std::string message_text(const json::value& message) {
    const auto* content = message.as_object().if_contains("content");
    return content ? detail::content_text(*content) : std::string();
}

struct connection {
    explicit connection(tcp::socket s)
        : socket(std::move(s))
        , timer(socket.get_executor()) {}

    tcp::socket socket;

    // Waits out a scripted delay; cancelled by stop.
    asio::steady_timer timer;
};

} // namespace

bool recorded_request::streaming() const {
    const auto* object = body.if_object();
    const auto* stream = object ? object->if_contains("stream") : nullptr;
    return stream && stream->is_bool() && stream->get_bool();
}

void tag_invoke(json::value_from_tag, json::value& out, const recorded_request& record) {
    json::object headers;
    for (const auto& [name, value] : record.headers) {
        headers[name] = value;
    }
    out = json::object{{"method", record.method},       {"target", record.target},
                       {"path", record.path},           {"authorization", record.authorization},
                       {"headers", std::move(headers)}, {"body", record.body}};
}

scripted_reply scripted_reply::text(std::string content) {
    scripted_reply reply;
    reply.content = std::move(content);
    return reply;
}

scripted_reply scripted_reply::tool_call(std::string name, json::value arguments) {
    return tool_calls_of({scripted_tool_call{std::move(name), std::move(arguments), {}}});
}

scripted_reply scripted_reply::tool_calls_of(std::vector<scripted_tool_call> calls) {
    scripted_reply reply;
    reply.tool_calls = std::move(calls);
    return reply;
}

scripted_reply scripted_reply::error(unsigned status, std::string message) {
    scripted_reply reply;
    reply.status = status;
    reply.error_message = std::move(message);
    return reply;
}

scripted_reply scripted_reply::after(std::chrono::milliseconds wait) const {
    scripted_reply reply = *this;
    reply.delay = wait;
    return reply;
}

struct model_server::state : std::enable_shared_from_this<state> {
    state(asio::any_io_executor executor, model_server_options opts)
        : strand(asio::make_strand(std::move(executor)))
        , options(std::move(opts))
        , acceptor(strand) {}

    static asio::awaitable<void> accept_loop(std::shared_ptr<state> self);
    static asio::awaitable<void> serve(std::shared_ptr<state> self,
                                       std::shared_ptr<connection> conn);

    asio::awaitable<bool> handle(connection& conn, request_type request);
    asio::awaitable<bool>
    answer_chat(connection& conn, const request_type& request, const recorded_request& record);
    asio::awaitable<void> reject_unreadable(connection& conn, error_code ec);
    asio::awaitable<bool> write_json(connection& conn,
                                     const request_type& request,
                                     unsigned status,
                                     const json::value& body);
    asio::awaitable<bool> write_stream(connection& conn,
                                       const request_type& request,
                                       const std::vector<std::string>& events);

    void remember(const recorded_request& record);
    bool authorized(const recorded_request& record) const;
    scripted_reply choose_reply(const recorded_request& record);
    scripted_reply next_scripted(const recorded_request& record);
    void close_all();

    // Touched only on `strand`: by the coroutines and by the closure `stop` posts.
    asio::strand<asio::any_io_executor> strand;
    const model_server_options options;
    tcp::acceptor acceptor;
    std::set<std::shared_ptr<connection>> connections;
    bool stopped = false;
    std::uint64_t completions = 0;
    std::uint64_t calls = 0;

    std::atomic<unsigned short> port{0};
    std::atomic<bool> stop_requested{false};

    // Test code reads the records and scripts replies from its own thread while the
    // coroutines run on the io_context's threads; a lock is simpler here than posting each
    // access to the strand and waiting for it.
    mutable std::mutex mutex;
    std::vector<recorded_request> records;
    std::deque<scripted_reply> queue;
    reply_handler handler;
};

asio::awaitable<void> model_server::state::accept_loop(std::shared_ptr<state> self) {
    while (!self->stopped) {
        auto [ec, socket] = co_await self->acceptor.async_accept(use_tuple);
        if (ec == asio::error::connection_aborted) {
            continue; // The peer gave up before we accepted; keep listening.
        }
        // TODO: other accept errors (such as running out of descriptors) end the loop for good;
        // a test server has no one to report them to.
        if (ec || self->stopped) {
            break;
        }

        // SSE chunks are small writes; without this, Nagle + delayed ACK add 40 ms stalls.
        socket.set_option(tcp::no_delay(true), ec);

        auto conn = std::make_shared<connection>(std::move(socket));
        self->connections.insert(conn);
        asio::co_spawn(self->strand, serve(self, conn), asio::detached);
    }

    // A close error leaves nothing to do: the acceptor is gone either way.
    error_code ignored;
    self->acceptor.close(ignored);
}

asio::awaitable<void> model_server::state::serve(std::shared_ptr<state> self,
                                                 std::shared_ptr<connection> conn) {
    beast::flat_buffer buffer;
    bool keep_alive = true;
    while (keep_alive && !self->stopped) {
        http::request_parser<http::string_body> parser;
        parser.header_limit(max_header_bytes);
        parser.body_limit(self->options.max_body_bytes);

        auto [ec, bytes] = co_await http::async_read(conn->socket, buffer, parser, use_tuple);
        if (ec) {
            co_await self->reject_unreadable(*conn, ec);
            break;
        }
        keep_alive = co_await self->handle(*conn, parser.release());
    }

    // Shutdown and close errors only mean the peer or `stop` got there first.
    error_code ignored;
    conn->socket.shutdown(tcp::socket::shutdown_both, ignored);
    conn->socket.close(ignored);
    self->connections.erase(conn);
}

asio::awaitable<bool> model_server::state::handle(connection& conn, request_type request) {
    recorded_request record = make_record(request);
    remember(record);

    if (!authorized(record)) {
        json::value body = detail::make_error(401, "missing or wrong bearer token");
        co_return co_await write_json(conn, request, 401, body);
    }

    switch (route_of(record)) {
    case route::chat_completions:
        co_return co_await answer_chat(conn, request, record);
    case route::models:
        co_return co_await write_json(conn, request, 200,
                                      detail::make_model_list(options.model_ids));
    case route::wrong_method:
        co_return co_await write_json(conn, request, 405,
                                      detail::make_error(405, "method not allowed"));
    case route::unknown:
        break;
    }
    json::value body = detail::make_error(404, "no route for " + record.path);
    co_return co_await write_json(conn, request, 404, body);
}

asio::awaitable<bool> model_server::state::answer_chat(connection& conn,
                                                       const request_type& request,
                                                       const recorded_request& record) {
    if (!record.body.is_object()) {
        json::value body = detail::make_error(400, "request body is not a JSON object");
        co_return co_await write_json(conn, request, 400, body);
    }

    scripted_reply reply = choose_reply(record);
    if (reply.delay.count() > 0) {
        conn.timer.expires_after(reply.delay);
        auto [ec] = co_await conn.timer.async_wait(use_tuple);
        if (ec || stopped) {
            co_return false; // Cancelled by stop: the connection is closing.
        }
    }

    if (reply.status != 200) {
        json::value body = detail::make_error(reply.status, reply.error_message);
        co_return co_await write_json(conn, request, reply.status, body);
    }

    auto context = detail::make_context(record.body, "chatcmpl-" + std::to_string(++completions));
    if (context.model.empty() && !options.model_ids.empty()) {
        context.model = options.model_ids.front();
    }
    if (record.streaming()) {
        co_return co_await write_stream(conn, request, detail::make_stream_events(reply, context));
    }
    co_return co_await write_json(conn, request, 200, detail::make_completion(reply, context));
}

asio::awaitable<void> model_server::state::reject_unreadable(connection& conn, error_code ec) {
    // A peer that closed, or `stop`, needs no answer.
    if (ec.category() != http::make_error_code(http::error::end_of_stream).category() ||
        ec == http::error::end_of_stream || ec == http::error::partial_message) {
        co_return;
    }

    unsigned status = ec == http::error::body_limit     ? 413
                      : ec == http::error::header_limit ? 431
                                                        : 400;
    http::response<http::string_body> response{static_cast<http::status>(status), 11};
    response.set(http::field::content_type, "application/json");
    response.keep_alive(false);
    response.body() = json::serialize(detail::make_error(status, ec.message()));
    response.prepare_payload();

    // The connection closes right after, so a failed write changes nothing.
    co_await http::async_write(conn.socket, response, use_tuple);
}

asio::awaitable<bool> model_server::state::write_json(connection& conn,
                                                      const request_type& request,
                                                      unsigned status,
                                                      const json::value& body) {
    http::response<http::string_body> response{static_cast<http::status>(status),
                                               request.version()};
    response.set(http::field::content_type, "application/json");
    response.keep_alive(request.keep_alive());
    response.body() = json::serialize(body);
    response.prepare_payload();

    auto [ec, bytes] = co_await http::async_write(conn.socket, response, use_tuple);
    co_return !ec && response.keep_alive();
}

asio::awaitable<bool> model_server::state::write_stream(connection& conn,
                                                        const request_type& request,
                                                        const std::vector<std::string>& events) {
    http::response<http::empty_body> head{http::status::ok, request.version()};
    head.set(http::field::content_type, "text/event-stream");
    head.set(http::field::cache_control, "no-cache");
    head.keep_alive(request.keep_alive());
    head.chunked(true);

    // One HTTP chunk per event, so clients see the reply arrive in pieces as from OpenAI.
    // TODO: no pause between chunks can be scripted yet; only the delay before the reply.
    http::response_serializer<http::empty_body> serializer{head};
    error_code ec;
    std::size_t bytes = 0;
    std::tie(ec, bytes) = co_await http::async_write_header(conn.socket, serializer, use_tuple);
    for (auto event = events.begin(); !ec && event != events.end(); ++event) {
        auto chunk = http::make_chunk(asio::buffer(*event));
        std::tie(ec, bytes) = co_await asio::async_write(conn.socket, chunk, use_tuple);
    }
    if (!ec) {
        std::tie(ec, bytes) =
            co_await asio::async_write(conn.socket, http::make_chunk_last(), use_tuple);
    }
    co_return !ec && head.keep_alive();
}

void model_server::state::remember(const recorded_request& record) {
    // TODO: records are kept until `clear_requests`; a long run through the library type
    // grows without bound (the executable's record file does not need them).
    {
        std::lock_guard lock(mutex);
        records.push_back(record);
    }
    if (options.on_request) {
        options.on_request(record);
    }
}

bool model_server::state::authorized(const recorded_request& record) const {
    return !options.required_bearer_token ||
           record.authorization == "Bearer " + *options.required_bearer_token;
}

scripted_reply model_server::state::choose_reply(const recorded_request& record) {
    scripted_reply reply = next_scripted(record);
    for (auto& call : reply.tool_calls) {
        if (call.id.empty()) {
            call.id = "call_" + std::to_string(++calls);
        }
    }
    return reply;
}

scripted_reply model_server::state::next_scripted(const recorded_request& record) {
    reply_handler current;
    {
        std::lock_guard lock(mutex);
        if (!queue.empty()) {
            scripted_reply reply = std::move(queue.front());
            queue.pop_front();
            return reply;
        }
        current = handler;
    }

    // The handler runs unlocked so it may call `requests`; a throw becomes a 500 reply
    // rather than an exception escaping into the connection's coroutine.
    if (!current) {
        return default_reply(record);
    }
    try {
        return current(record);
    } catch (const std::exception& e) {
        return scripted_reply::error(500, std::string("reply handler threw: ") + e.what());
    }
}

void model_server::state::close_all() {
    stopped = true;

    // Close errors are ignored: each object is unusable afterwards either way, and the
    // coroutines waiting on them wake with operation_aborted and unwind.
    error_code ignored;
    acceptor.close(ignored);
    for (const auto& conn : connections) {
        conn->socket.close(ignored);
        conn->timer.cancel();
    }
}

model_server::model_server(asio::any_io_executor executor, model_server_options options)
    : state_(std::make_shared<state>(std::move(executor), std::move(options))) {}

model_server::~model_server() {
    stop();
}

void model_server::start() {
    tcp::endpoint endpoint{asio::ip::address_v4::loopback(), state_->options.port};
    auto& acceptor = state_->acceptor;
    acceptor.open(endpoint.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen();
    state_->port = acceptor.local_endpoint().port();

    asio::co_spawn(state_->strand, state::accept_loop(state_), asio::detached);
}

void model_server::stop() {
    if (state_->stop_requested.exchange(true)) {
        return;
    }
    asio::dispatch(state_->strand, [self = state_] { self->close_all(); });
}

unsigned short model_server::port() const {
    return state_->port;
}

std::string model_server::base_url() const {
    return "http://127.0.0.1:" + std::to_string(port()) + "/v1";
}

std::vector<recorded_request> model_server::requests() const {
    std::lock_guard lock(state_->mutex);
    return state_->records;
}

void model_server::clear_requests() {
    std::lock_guard lock(state_->mutex);
    state_->records.clear();
}

void model_server::push_reply(scripted_reply reply) {
    std::lock_guard lock(state_->mutex);
    state_->queue.push_back(std::move(reply));
}

void model_server::set_handler(reply_handler handler) {
    std::lock_guard lock(state_->mutex);
    state_->handler = std::move(handler);
}

scripted_reply model_server::default_reply(const recorded_request& request) {
    const json::array* messages = messages_of(request.body);
    if (!messages || messages->empty()) {
        return scripted_reply::text("You said: ");
    }

    // A tool result last means the model is being shown what its tool call returned.
    if (role_of(messages->back()) == "tool") {
        return scripted_reply::text("Tool result: " + message_text(messages->back()));
    }
    for (auto it = messages->rbegin(); it != messages->rend(); ++it) {
        if (role_of(*it) == "user") {
            return scripted_reply::text("You said: " + message_text(*it));
        }
    }
    return scripted_reply::text("You said: ");
}

} // namespace copilot::testing
