#pragma once

// OpenAI chat-completions wire objects built by the model server. Kept apart from the HTTP
// code so the reply shapes can be read (and changed) in one place.

#include <copilot/testing/model_server.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace copilot::testing::detail {

/// Facts about the request a reply answers.
struct reply_context {
    std::string completion_id;
    std::string model;
    std::int64_t created = 0;
    std::size_t prompt_tokens = 0;
    bool include_usage = false;
};

/// Reads the facts a reply needs from a chat-completions request body.
reply_context make_context(const json::value& body, std::string completion_id);

/// The non-streaming `chat.completion` object.
json::object make_completion(const scripted_reply& reply, const reply_context& context);

/// The server-sent events of a streamed reply, each a whole "data: ...\n\n" line pair,
/// ending with "data: [DONE]".
std::vector<std::string> make_stream_events(const scripted_reply& reply,
                                            const reply_context& context);

/// An OpenAI-style error object: `{"error": {"message", "type", "code"}}`.
json::object make_error(unsigned status, std::string_view message);

/// The `GET /models` list.
json::object make_model_list(const std::vector<std::string>& model_ids);

/// Splits text into deltas that end after a space, so no UTF-8 sequence is cut.
std::vector<std::string_view> split_words(std::string_view text);

/// A rough token count (4 bytes a token, at least 1 for non-empty text).
std::size_t estimate_tokens(std::string_view text);

/// The text of a message's `content`: a string, or the `text` parts of an array.
std::string content_text(const json::value& content);

} // namespace copilot::testing::detail
