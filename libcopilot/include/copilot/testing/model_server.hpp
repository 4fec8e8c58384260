#pragma once

/// @file
/// A local OpenAI-compatible chat-completions endpoint for tests, samples and benchmarks.
///
/// The runtime's BYOK mode (`provider: {type: "openai", baseUrl: ...}`) talks to any server
/// that speaks OpenAI's chat-completions API. Pointing it at a `model_server` lets a real
/// runtime session run offline, with replies the test chooses and every model request
/// recorded (headers included) so the test can check what the runtime sent.
///
/// This is a test and demo component: it listens on 127.0.0.1 only, keeps every request in
/// memory, and its token counts are estimates. Do not use it as a production proxy.

#include <copilot/detail/config.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace copilot::testing {

/// One HTTP request the server received, kept whole.
struct recorded_request {
    /// The request method, e.g. "POST".
    std::string method;

    /// The request target as sent, query string included.
    std::string target;

    /// The target's path, without the query string.
    std::string path;

    /// The `Authorization` header value verbatim, or empty when absent.
    std::string authorization;

    /// Every other header, by lower-case name; repeated headers are joined with ", ".
    std::map<std::string, std::string> headers;

    /// The parsed JSON body; null when the body is empty or is not valid JSON.
    json::value body;

    /// True when the body asked for a streamed reply (`"stream": true`).
    bool streaming() const;
};

/// Converts a record to JSON (`json::value_from(record)`), as the record file stores it.
void tag_invoke(json::value_from_tag, json::value& out, const recorded_request& record);

/// One tool call the scripted model makes.
struct scripted_tool_call {
    /// The tool's name, as the request's `tools` list offers it.
    std::string name;

    /// The call's arguments; sent to the client as a JSON-encoded string.
    json::value arguments = json::object{};

    /// The call id; the server makes one up ("call_1", "call_2", ...) when empty.
    std::string id;
};

/// What the model answers to one chat-completions request.
///
/// A reply is text, or a list of tool calls, or an HTTP error. Build one with the named
/// factories and chain `after` to make the model slow:
/// `scripted_reply::text("done").after(std::chrono::seconds(2))`.
struct scripted_reply {
    /// The assistant's text; used when `tool_calls` is empty.
    std::string content;

    /// Tool calls; when not empty the reply's `finish_reason` is "tool_calls".
    std::vector<scripted_tool_call> tool_calls;

    /// How long the server waits before it answers.
    std::chrono::milliseconds delay{0};

    /// The HTTP status; anything but 200 sends an OpenAI-style error object instead.
    unsigned status = 200;

    /// The error message sent with a non-200 `status`.
    std::string error_message;

    /// A reply with assistant text.
    static scripted_reply text(std::string content);

    /// A reply with one tool call.
    static scripted_reply tool_call(std::string name, json::value arguments = json::object{});

    /// A reply with several tool calls, made in parallel by the model.
    static scripted_reply tool_calls_of(std::vector<scripted_tool_call> calls);

    /// An HTTP error reply, e.g. `error(500, "overloaded")` or `error(429, "slow down")`.
    static scripted_reply error(unsigned status, std::string message);

    /// Returns a copy of this reply that is sent after `delay`.
    scripted_reply after(std::chrono::milliseconds delay) const;
};

/// Chooses the reply to a chat-completions request; runs on the server's strand.
using reply_handler = std::function<scripted_reply(const recorded_request&)>;

/// Settings of a `model_server`.
struct model_server_options {
    /// The TCP port on 127.0.0.1; 0 lets the operating system pick a free one.
    unsigned short port = 0;

    /// When set, requests whose `Authorization` is not `Bearer <token>` get 401.
    std::optional<std::string> required_bearer_token;

    /// The model ids `GET /v1/models` lists.
    std::vector<std::string> model_ids{"gpt-4o"};

    /// Requests with a larger body are refused with 413 and their connection closed.
    std::size_t max_body_bytes = std::size_t{16} << 20;

    /// Called with each request right after it is recorded, on the server's strand.
    std::function<void(const recorded_request&)> on_request;
};

/// An OpenAI-compatible chat-completions server on 127.0.0.1 for tests and demos.
///
/// Routes: `POST /v1/chat/completions` (also `/chat/completions`), `GET /v1/models` (also
/// `/models`); anything else gets 404. Connections are kept alive. Replies come, in this
/// order of precedence, from the queue filled by `push_reply`, from the handler given to
/// `set_handler`, or from `default_reply`. Streamed replies follow OpenAI's
/// `chat.completion.chunk` server-sent events, ending with `data: [DONE]`.
///
/// @par Executor
/// The accept loop and one coroutine per connection run on a strand of the executor given
/// to the constructor; the server starts no threads. The io_context may run on any number of
/// threads.
///
/// @par Thread safety
/// Every member function may be called from any thread. `requests`, `push_reply` and
/// `set_handler` are meant for test code on a thread other than the io_context's.
///
/// @par Object lifetimes
/// The server may be destroyed while its io_context still runs: the destructor stops it,
/// and the coroutines still unwinding keep the shared state alive.
class model_server {
public:
    /// Builds a stopped server; nothing is bound until `start`.
    explicit model_server(asio::any_io_executor executor, model_server_options options = {});

    /// Stops the server.
    ~model_server();

    model_server(const model_server&) = delete;
    model_server& operator=(const model_server&) = delete;

    /// Binds 127.0.0.1:`options.port`, listens and spawns the accept loop.
    ///
    /// Throws `boost::system::system_error` when the port cannot be bound. After `start`
    /// returns, `port` and `base_url` are valid and connections are accepted as soon as the
    /// io_context runs.
    void start();

    /// Closes the listener and every connection, and cancels pending delays.
    ///
    /// The work is posted to the server's strand, so `stop` returns at once; the coroutines
    /// finish on the io_context, after which nothing of the server is left running on it.
    /// Calling `stop` twice, or before `start`, is harmless.
    void stop();

    /// The bound port; 0 before `start`.
    unsigned short port() const;

    /// The base URL for a BYOK provider, e.g. "http://127.0.0.1:41234/v1".
    std::string base_url() const;

    /// A copy of every request received so far, oldest first.
    std::vector<recorded_request> requests() const;

    /// Forgets the recorded requests.
    void clear_requests();

    /// Queues a reply for the next chat-completions request; replies are used in order.
    void push_reply(scripted_reply reply);

    /// Sets the handler asked when the queue is empty; an empty function removes it.
    void set_handler(reply_handler handler);

    /// The reply used when neither the queue nor a handler answers.
    ///
    /// When the last message is a `tool` result, the text is "Tool result: <content>";
    /// otherwise it is "You said: <text of the last user message>".
    static scripted_reply default_reply(const recorded_request& request);

private:
    struct state;
    std::shared_ptr<state> state_;
};

} // namespace copilot::testing
