#pragma once

/// @file
/// Client-side tools: what the model may call, and what the application answers.

#include <copilot/detail/config.hpp>

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace copilot {

/// One call of a client-side tool, from an `external_tool.requested` event.
struct tool_invocation {
    std::string session_id;
    std::string tool_call_id;
    std::string tool_name;
    /// The model's arguments (an object for tools with object parameters).
    json::value arguments;
    std::optional<std::string> working_directory;

    /// The arguments converted with `boost::json::value_to<T>`; throws on a mismatch, which
    /// the session turns into a failure result the model can read.
    template <class T>
    T arguments_as() const {
        return json::value_to<T>(arguments);
    }
};

/// Outcome categories the model sees.
enum class tool_result_type { success, failure, rejected, denied };

/// Binary output for the model, such as an image.
struct tool_binary_result {
    /// Base64-encoded bytes.
    std::string data;
    /// MIME type, for example "image/png".
    std::string mime_type;
    /// "image" or "resource".
    std::string type = "image";
    std::optional<std::string> description;
};

/// What a tool handler returns.
struct tool_result {
    /// Text the model reads.
    std::string text;
    tool_result_type type = tool_result_type::success;
    /// Error detail for failures.
    std::optional<std::string> error;
    /// Text for the session log instead of `text`.
    std::optional<std::string> session_log;
    std::vector<tool_binary_result> binary;

    /// A successful text result.
    static tool_result success(std::string text);
    /// A failure the model reads as such.
    static tool_result failure(std::string error);
    /// A result carrying one image.
    static tool_result image(std::string base64_data, std::string mime_type, std::string text = {});

    /// The wire form (`textResultForLlm`, `resultType`, ...).
    json::value to_json() const;
};

/// A tool handler: runs in its own coroutine, may `co_await` anything.
using tool_handler = std::function<asio::awaitable<tool_result>(tool_invocation)>;

/// A tool the session offers the model.
struct tool {
    /// Unique within the session; required.
    std::string name;
    std::string description;
    /// JSON Schema of the arguments.
    json::object parameters = {{"type", "object"}, {"properties", json::object{}}};
    /// Replace a built-in tool of the same name.
    bool overrides_built_in_tool = false;
    /// Run without asking for permission.
    bool skip_permission = false;
    tool_handler handler;
};

namespace detail {

// A coroutine taking the callable by value, so the call never depends on the lifetime of the
// std::function that started it.
template <class F>
asio::awaitable<tool_result> call_plain_tool(F f, tool_invocation call) {
    if constexpr (std::is_convertible_v<std::invoke_result_t<F&, tool_invocation>, std::string>)
        co_return tool_result::success(f(std::move(call)));
    else
        co_return f(std::move(call));
}

} // namespace detail

/// Builds a tool from a coroutine `asio::awaitable<tool_result>(tool_invocation)` or a plain
/// callable returning `tool_result` or `std::string`.
template <class F>
tool make_tool(std::string name, std::string description, json::object parameters, F f) {
    // Members set one by one: a partial braced init warns (-Wmissing-field-initializers).
    tool t;
    t.name = std::move(name);
    t.description = std::move(description);
    t.parameters = std::move(parameters);
    using result = std::invoke_result_t<F&, tool_invocation>;
    if constexpr (std::is_same_v<result, asio::awaitable<tool_result>>) {
        t.handler = std::move(f);
    } else {
        t.handler = [f = std::move(f)](tool_invocation call) {
            return detail::call_plain_tool(f, std::move(call));
        };
    }
    return t;
}

} // namespace copilot
