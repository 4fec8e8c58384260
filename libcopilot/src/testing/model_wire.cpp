#include "model_wire.hpp"

#include <chrono>

namespace copilot::testing::detail {

namespace {

std::size_t completion_tokens(const scripted_reply& reply) {
    std::size_t tokens = estimate_tokens(reply.content);
    for (const auto& call : reply.tool_calls) {
        tokens += estimate_tokens(call.name) + estimate_tokens(json::serialize(call.arguments));
    }
    return tokens;
}

json::object make_usage(const scripted_reply& reply, const reply_context& context) {
    std::size_t completion = completion_tokens(reply);
    return {{"prompt_tokens", context.prompt_tokens},
            {"completion_tokens", completion},
            {"total_tokens", context.prompt_tokens + completion}};
}

const char* finish_reason(const scripted_reply& reply) {
    return reply.tool_calls.empty() ? "stop" : "tool_calls";
}

json::array make_tool_calls(const scripted_reply& reply) {
    json::array calls;
    for (const auto& call : reply.tool_calls) {
        calls.push_back(json::object{
            {"id", call.id},
            {"type", "function"},
            {"function", {{"name", call.name}, {"arguments", json::serialize(call.arguments)}}},
        });
    }
    return calls;
}

// One chunk with a single choice carrying `delta`.
json::object make_chunk(const reply_context& context, json::object delta, json::value finish) {
    json::object choice{{"index", 0}, {"delta", std::move(delta)}, {"finish_reason", finish}};
    return {{"id", context.completion_id},
            {"object", "chat.completion.chunk"},
            {"created", context.created},
            {"model", context.model},
            {"choices", json::array{std::move(choice)}}};
}

std::string as_event(const json::object& chunk) {
    return "data: " + json::serialize(chunk) + "\n\n";
}

void append_text_chunks(std::vector<std::string>& events,
                        const scripted_reply& reply,
                        const reply_context& context) {
    for (auto word : split_words(reply.content)) {
        json::object delta{{"content", word}};
        events.push_back(as_event(make_chunk(context, std::move(delta), nullptr)));
    }
}

// The first chunk of a call names it; the arguments follow in two pieces, as OpenAI's own
// stream splits them, so clients must concatenate.
void append_tool_call_chunks(std::vector<std::string>& events,
                             const scripted_reply& reply,
                             const reply_context& context) {
    for (std::size_t index = 0; index < reply.tool_calls.size(); ++index) {
        const auto& call = reply.tool_calls[index];
        json::object head{{"index", index},
                          {"id", call.id},
                          {"type", "function"},
                          {"function", {{"name", call.name}, {"arguments", ""}}}};
        json::object delta{{"tool_calls", json::array{std::move(head)}}};
        events.push_back(as_event(make_chunk(context, std::move(delta), nullptr)));

        std::string arguments = json::serialize(call.arguments);
        std::size_t half = arguments.size() / 2;
        for (std::string_view piece : {std::string_view(arguments).substr(0, half),
                                       std::string_view(arguments).substr(half)}) {
            json::object part{{"index", index}, {"function", {{"arguments", piece}}}};
            json::object args_delta{{"tool_calls", json::array{std::move(part)}}};
            events.push_back(as_event(make_chunk(context, std::move(args_delta), nullptr)));
        }
    }
}

} // namespace

reply_context make_context(const json::value& body, std::string completion_id) {
    reply_context context;
    context.completion_id = std::move(completion_id);
    context.created = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
    context.prompt_tokens = estimate_tokens(json::serialize(body));

    if (const auto* object = body.if_object()) {
        if (const auto* model = object->if_contains("model"); model && model->is_string()) {
            context.model = model->get_string();
        }
        if (const auto* options = object->if_contains("stream_options")) {
            const auto* usage =
                options->is_object() ? options->get_object().if_contains("include_usage") : nullptr;
            context.include_usage = usage && usage->is_bool() && usage->get_bool();
        }
    }
    return context;
}

json::object make_completion(const scripted_reply& reply, const reply_context& context) {
    json::object message{{"role", "assistant"}};
    if (reply.tool_calls.empty()) {
        message["content"] = reply.content;
    } else {
        message["content"] = nullptr;
        message["tool_calls"] = make_tool_calls(reply);
    }

    json::object choice{{"index", 0},
                        {"message", std::move(message)},
                        {"logprobs", nullptr},
                        {"finish_reason", finish_reason(reply)}};
    return {{"id", context.completion_id},
            {"object", "chat.completion"},
            {"created", context.created},
            {"model", context.model},
            {"choices", json::array{std::move(choice)}},
            {"usage", make_usage(reply, context)}};
}

std::vector<std::string> make_stream_events(const scripted_reply& reply,
                                            const reply_context& context) {
    std::vector<std::string> events;

    // The role comes alone first, as OpenAI sends it.
    json::object role{{"role", "assistant"}, {"content", ""}};
    events.push_back(as_event(make_chunk(context, std::move(role), nullptr)));

    if (reply.tool_calls.empty()) {
        append_text_chunks(events, reply, context);
    } else {
        append_tool_call_chunks(events, reply, context);
    }
    events.push_back(as_event(make_chunk(context, {}, finish_reason(reply))));

    // With include_usage, OpenAI adds a chunk with empty choices that carries the counts.
    if (context.include_usage) {
        json::object usage = make_chunk(context, {}, nullptr);
        usage["choices"] = json::array{};
        usage["usage"] = make_usage(reply, context);
        events.push_back(as_event(usage));
    }
    events.push_back("data: [DONE]\n\n");
    return events;
}

json::object make_error(unsigned status, std::string_view message) {
    const char* type = status == 401   ? "authentication_error"
                       : status == 404 ? "not_found_error"
                       : status == 429 ? "rate_limit_error"
                       : status < 500  ? "invalid_request_error"
                                       : "server_error";
    return {{"error", {{"message", message}, {"type", type}, {"code", status}}}};
}

json::object make_model_list(const std::vector<std::string>& model_ids) {
    json::array data;
    for (const auto& id : model_ids) {
        data.push_back(
            json::object{{"id", id}, {"object", "model"}, {"created", 0}, {"owned_by", "local"}});
    }
    return {{"object", "list"}, {"data", std::move(data)}};
}

std::vector<std::string_view> split_words(std::string_view text) {
    std::vector<std::string_view> words;
    while (!text.empty()) {
        std::size_t end = text.find(' ');
        end = end == std::string_view::npos ? text.size() : end + 1;
        words.push_back(text.substr(0, end));
        text.remove_prefix(end);
    }
    return words;
}

// TODO: a real tokenizer would make `usage` exact; tests only need consistent counts.
std::size_t estimate_tokens(std::string_view text) {
    return text.empty() ? 0 : (text.size() + 3) / 4;
}

std::string content_text(const json::value& content) {
    if (content.is_string()) {
        return std::string(content.get_string());
    }

    // An array of parts: keep the text ones, one per line.
    std::string text;
    if (const auto* parts = content.if_array()) {
        for (const auto& part : *parts) {
            const auto* object = part.if_object();
            const auto* piece = object ? object->if_contains("text") : nullptr;
            if (piece && piece->is_string()) {
                text += text.empty() ? "" : "\n";
                text += piece->get_string();
            }
        }
    }
    return text;
}

} // namespace copilot::testing::detail
