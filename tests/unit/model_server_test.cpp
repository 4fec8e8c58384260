// Tests of the local OpenAI-compatible model server, through a real HTTP client on loopback.

#include <copilot/testing/model_server.hpp>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace asio = copilot::asio;
namespace json = copilot::json;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using copilot::testing::model_server;
using copilot::testing::model_server_options;
using copilot::testing::recorded_request;
using copilot::testing::scripted_reply;
using response = http::response<http::string_body>;

// A blocking HTTP/1.1 client with its own io_context; one connection, reused across calls.
class http_client {
public:
    explicit http_client(unsigned short port) {
        stream_.connect(tcp::endpoint(asio::ip::address_v4::loopback(), port));
    }

    response send(http::request<http::string_body> request) {
        request.set(http::field::host, "127.0.0.1");
        request.prepare_payload();
        http::write(stream_, request);

        response reply;
        http::read(stream_, buffer_, reply);
        return reply;
    }

    response post(std::string target, std::string body, std::string authorization = {}) {
        http::request<http::string_body> request{http::verb::post, target, 11};
        request.set(http::field::content_type, "application/json");
        if (!authorization.empty()) {
            request.set(http::field::authorization, authorization);
        }
        request.body() = std::move(body);
        return send(std::move(request));
    }

    response get(std::string target) {
        return send(http::request<http::string_body>{http::verb::get, target, 11});
    }

    beast::tcp_stream& stream() { return stream_; }
    beast::flat_buffer& buffer() { return buffer_; }

private:
    asio::io_context io_;
    beast::tcp_stream stream_{io_};
    beast::flat_buffer buffer_;
};

std::string chat_body(std::string_view user_text, bool stream = false) {
    json::object body{
        {"model", "gpt-4o"},
        {"messages", json::array{json::object{{"role", "user"}, {"content", "hi"}},
                                 json::object{{"role", "assistant"}, {"content", "?"}},
                                 json::object{{"role", "user"}, {"content", user_text}}}}};
    if (stream) {
        body["stream"] = true;
        body["stream_options"] = {{"include_usage", true}};
    }
    return json::serialize(body);
}

// The payloads of a text/event-stream body, in order, "[DONE]" included.
std::vector<std::string> sse_payloads(const std::string& body) {
    std::vector<std::string> payloads;
    std::size_t begin = 0;
    while (begin < body.size()) {
        std::size_t end = body.find("\n\n", begin);
        EXPECT_NE(end, std::string::npos) << "unterminated event";
        std::string event = body.substr(begin, end - begin);
        EXPECT_EQ(event.rfind("data: ", 0), 0u) << event;
        payloads.push_back(event.substr(6));
        begin = end + 2;
    }
    return payloads;
}

std::vector<json::object> sse_chunks(const std::string& body) {
    auto payloads = sse_payloads(body);
    EXPECT_FALSE(payloads.empty());
    EXPECT_EQ(payloads.back(), "[DONE]");

    std::vector<json::object> chunks;
    for (std::size_t i = 0; i + 1 < payloads.size(); ++i) {
        chunks.push_back(json::parse(payloads[i]).as_object());
    }
    return chunks;
}

const json::object& first_choice(const json::object& object) {
    return object.at("choices").as_array().at(0).as_object();
}

class model_server_test : public ::testing::Test {
protected:
    void start(model_server_options options = {}) {
        server_.emplace(io_.get_executor(), std::move(options));
        server_->start();
        runner_ = std::thread([this] { io_.run(); });
    }

    void stop_and_wait() {
        server_->stop();
        runner_.join();
    }

    void TearDown() override {
        if (runner_.joinable()) {
            stop_and_wait();
        }
    }

    model_server& server() { return *server_; }

    asio::io_context io_;
    std::optional<model_server> server_;
    std::thread runner_;
};

TEST_F(model_server_test, non_streaming_reply_quotes_the_last_user_message) {
    start();
    http_client client{server().port()};

    auto reply = client.post("/v1/chat/completions", chat_body("what time is it?"));

    ASSERT_EQ(reply.result(), http::status::ok);
    EXPECT_EQ(reply[http::field::content_type], "application/json");
    auto completion = json::parse(reply.body()).as_object();
    EXPECT_EQ(completion.at("object"), "chat.completion");
    EXPECT_EQ(completion.at("model"), "gpt-4o");
    const auto& choice = first_choice(completion);
    EXPECT_EQ(choice.at("finish_reason"), "stop");
    EXPECT_EQ(choice.at("message").at("role"), "assistant");
    EXPECT_EQ(choice.at("message").at("content"), "You said: what time is it?");

    const auto& usage = completion.at("usage").as_object();
    EXPECT_GT(usage.at("prompt_tokens").as_int64(), 0);
    EXPECT_GT(usage.at("completion_tokens").as_int64(), 0);
    EXPECT_EQ(usage.at("total_tokens").as_int64(),
              usage.at("prompt_tokens").as_int64() + usage.at("completion_tokens").as_int64());
}

TEST_F(model_server_test, streaming_reply_reassembles_to_the_text) {
    start();
    http_client client{server().port()};

    auto reply = client.post("/v1/chat/completions", chat_body("stream this please", true));

    ASSERT_EQ(reply.result(), http::status::ok);
    EXPECT_EQ(reply[http::field::content_type], "text/event-stream");
    EXPECT_TRUE(reply.chunked());
    auto chunks = sse_chunks(reply.body());
    ASSERT_GE(chunks.size(), 4u);
    EXPECT_EQ(first_choice(chunks.front()).at("delta").at("role"), "assistant");

    std::string text;
    int content_chunks = 0;
    std::string finish;
    for (const auto& chunk : chunks) {
        EXPECT_EQ(chunk.at("object"), "chat.completion.chunk");
        if (chunk.at("choices").as_array().empty()) {
            continue; // the usage chunk
        }
        const auto& choice = first_choice(chunk);
        if (const auto* content = choice.at("delta").as_object().if_contains("content")) {
            text += content->as_string();
            content_chunks += content->as_string().empty() ? 0 : 1;
        }
        if (choice.at("finish_reason").is_string()) {
            finish = choice.at("finish_reason").as_string();
        }
    }
    EXPECT_EQ(text, "You said: stream this please");
    EXPECT_GT(content_chunks, 1);
    EXPECT_EQ(finish, "stop");

    // include_usage asks for a last chunk with empty choices and the counts.
    EXPECT_TRUE(chunks.back().at("choices").as_array().empty());
    EXPECT_GT(chunks.back().at("usage").at("total_tokens").as_int64(), 0);
}

TEST_F(model_server_test, scripted_tool_call_streams_openai_tool_call_chunks) {
    start();
    server().push_reply(scripted_reply::tool_call("get_weather", {{"city", "Paris"}}));
    http_client client{server().port()};

    auto reply = client.post("/v1/chat/completions", chat_body("weather?", true));

    ASSERT_EQ(reply.result(), http::status::ok);
    std::string id, name, arguments, finish;
    int argument_chunks = 0;
    for (const auto& chunk : sse_chunks(reply.body())) {
        if (chunk.at("choices").as_array().empty()) {
            continue;
        }
        const auto& choice = first_choice(chunk);
        if (choice.at("finish_reason").is_string()) {
            finish = choice.at("finish_reason").as_string();
        }
        const auto* calls = choice.at("delta").as_object().if_contains("tool_calls");
        if (!calls) {
            continue;
        }
        const auto& call = calls->as_array().at(0).as_object();
        EXPECT_EQ(call.at("index"), 0);
        if (const auto* call_id = call.if_contains("id")) {
            id = call_id->as_string();
            EXPECT_EQ(call.at("type"), "function");
            name = call.at("function").at("name").as_string();
        }
        const auto& piece = call.at("function").at("arguments").as_string();
        arguments += piece;
        argument_chunks += piece.empty() ? 0 : 1;
    }
    EXPECT_EQ(id, "call_1");
    EXPECT_EQ(name, "get_weather");
    EXPECT_EQ(json::parse(arguments), (json::object{{"city", "Paris"}}));
    EXPECT_GE(argument_chunks, 2);
    EXPECT_EQ(finish, "tool_calls");
}

TEST_F(model_server_test, non_streaming_tool_call_then_text_from_the_queue) {
    start();
    server().push_reply(scripted_reply::tool_call("lookup", {{"q", "x"}}));
    server().push_reply(scripted_reply::text("all done"));
    http_client client{server().port()};

    auto first = json::parse(client.post("/v1/chat/completions", chat_body("a")).body());
    auto second = json::parse(client.post("/v1/chat/completions", chat_body("b")).body());

    const auto& call_choice = first_choice(first.as_object());
    EXPECT_EQ(call_choice.at("finish_reason"), "tool_calls");
    EXPECT_TRUE(call_choice.at("message").at("content").is_null());
    const auto& call = call_choice.at("message").at("tool_calls").at(0);
    EXPECT_EQ(call.at("type"), "function");
    EXPECT_EQ(call.at("function").at("name"), "lookup");
    EXPECT_EQ(json::parse(call.at("function").at("arguments").as_string()),
              (json::object{{"q", "x"}}));
    EXPECT_EQ(first_choice(second.as_object()).at("message").at("content"), "all done");
}

TEST_F(model_server_test, default_reply_quotes_a_trailing_tool_result) {
    start();
    http_client client{server().port()};
    json::object body{
        {"model", "gpt-4o"},
        {"messages",
         json::array{json::object{{"role", "user"}, {"content", "weather?"}},
                     json::object{{"role", "assistant"}, {"content", nullptr}},
                     json::object{{"role", "tool"},
                                  {"tool_call_id", "call_1"},
                                  {"content", json::array{json::object{{"type", "text"},
                                                                       {"text", "sunny"}}}}}}}};

    auto reply = json::parse(client.post("/v1/chat/completions", json::serialize(body)).body());

    EXPECT_EQ(first_choice(reply.as_object()).at("message").at("content"), "Tool result: sunny");
}

TEST_F(model_server_test, queue_comes_before_handler_and_handler_before_default) {
    start();
    server().set_handler([](const recorded_request& request) {
        return scripted_reply::text("handled " + request.path);
    });
    server().push_reply(scripted_reply::text("queued"));
    http_client client{server().port()};

    auto first = json::parse(client.post("/chat/completions", chat_body("x")).body());
    auto second = json::parse(client.post("/chat/completions", chat_body("x")).body());
    server().set_handler({});
    auto third = json::parse(client.post("/chat/completions", chat_body("x")).body());

    EXPECT_EQ(first_choice(first.as_object()).at("message").at("content"), "queued");
    EXPECT_EQ(first_choice(second.as_object()).at("message").at("content"),
              "handled /chat/completions");
    EXPECT_EQ(first_choice(third.as_object()).at("message").at("content"), "You said: x");
}

TEST_F(model_server_test, records_authorization_headers_and_body) {
    start();
    http_client client{server().port()};

    client.post("/v1/chat/completions?api-version=1", chat_body("rec", true), "Bearer tok-7");

    auto records = server().requests();
    ASSERT_EQ(records.size(), 1u);
    const auto& record = records.front();
    EXPECT_EQ(record.method, "POST");
    EXPECT_EQ(record.target, "/v1/chat/completions?api-version=1");
    EXPECT_EQ(record.path, "/v1/chat/completions");
    EXPECT_EQ(record.authorization, "Bearer tok-7");
    EXPECT_EQ(record.headers.count("authorization"), 0u);
    EXPECT_EQ(record.headers.at("content-type"), "application/json");
    EXPECT_TRUE(record.streaming());
    EXPECT_EQ(record.body, json::parse(chat_body("rec", true)));

    auto as_json = json::value_from(record);
    EXPECT_EQ(as_json.at("authorization"), "Bearer tok-7");

    server().clear_requests();
    EXPECT_TRUE(server().requests().empty());
}

TEST_F(model_server_test, required_token_turns_away_missing_and_wrong_tokens) {
    model_server_options options;
    options.required_bearer_token = "tok-right";
    start(options);
    http_client client{server().port()};

    auto missing = client.post("/v1/chat/completions", chat_body("x"));
    auto wrong = client.post("/v1/chat/completions", chat_body("x"), "Bearer tok-wrong");
    auto right = client.post("/v1/chat/completions", chat_body("x"), "Bearer tok-right");

    EXPECT_EQ(missing.result(), http::status::unauthorized);
    EXPECT_EQ(json::parse(missing.body()).at("error").at("type"), "authentication_error");
    EXPECT_EQ(wrong.result(), http::status::unauthorized);
    EXPECT_EQ(right.result(), http::status::ok);
    EXPECT_EQ(server().requests().size(), 3u);
}

TEST_F(model_server_test, malformed_json_gets_400_and_the_server_keeps_serving) {
    start();
    http_client client{server().port()};

    auto bad = client.post("/v1/chat/completions", R"({"messages": [)");
    auto good = client.post("/v1/chat/completions", chat_body("still there?"));

    EXPECT_EQ(bad.result(), http::status::bad_request);
    EXPECT_TRUE(json::parse(bad.body()).at("error").at("message").is_string());
    EXPECT_TRUE(server().requests().front().body.is_null());
    EXPECT_EQ(good.result(), http::status::ok);
}

TEST_F(model_server_test, unknown_path_gets_404_with_a_json_error) {
    start();
    http_client client{server().port()};

    auto reply = client.get("/v1/embeddings");

    EXPECT_EQ(reply.result(), http::status::not_found);
    EXPECT_EQ(json::parse(reply.body()).at("error").at("type"), "not_found_error");
}

TEST_F(model_server_test, models_lists_the_configured_ids) {
    model_server_options options;
    options.model_ids = {"alpha", "beta"};
    start(options);
    http_client client{server().port()};

    auto reply = client.get("/v1/models");

    ASSERT_EQ(reply.result(), http::status::ok);
    auto list = json::parse(reply.body());
    EXPECT_EQ(list.at("object"), "list");
    ASSERT_EQ(list.at("data").as_array().size(), 2u);
    EXPECT_EQ(list.at("data").at(1).at("id"), "beta");
}

TEST_F(model_server_test, keep_alive_serves_two_requests_on_one_connection) {
    start();
    http_client client{server().port()};
    auto local = client.stream().socket().local_endpoint();

    auto first = client.post("/v1/chat/completions", chat_body("one", true));
    auto second = client.post("/v1/chat/completions", chat_body("two"));

    EXPECT_TRUE(first.keep_alive());
    EXPECT_EQ(first.result(), http::status::ok);
    EXPECT_EQ(second.result(), http::status::ok);
    EXPECT_EQ(client.stream().socket().local_endpoint(), local);
    EXPECT_EQ(server().requests().size(), 2u);
}

TEST_F(model_server_test, scripted_error_status_is_sent_as_an_openai_error) {
    start();
    server().push_reply(scripted_reply::error(503, "overloaded"));
    http_client client{server().port()};

    auto reply = client.post("/v1/chat/completions", chat_body("x", true));

    EXPECT_EQ(reply.result_int(), 503u);
    EXPECT_EQ(json::parse(reply.body()).at("error").at("message"), "overloaded");
}

TEST_F(model_server_test, throwing_handler_gets_500) {
    start();
    server().set_handler(
        [](const recorded_request&) -> scripted_reply { throw std::runtime_error("boom"); });
    http_client client{server().port()};

    auto reply = client.post("/v1/chat/completions", chat_body("x"));

    EXPECT_EQ(reply.result(), http::status::internal_server_error);
    EXPECT_NE(reply.body().find("boom"), std::string::npos);
}

TEST_F(model_server_test, oversized_body_gets_413) {
    model_server_options options;
    options.max_body_bytes = 64;
    start(options);
    http_client client{server().port()};

    auto reply = client.post("/v1/chat/completions", chat_body(std::string(200, 'x')));

    EXPECT_EQ(reply.result(), http::status::payload_too_large);
    EXPECT_FALSE(reply.keep_alive());
}

TEST_F(model_server_test, stop_ends_idle_and_delayed_connections_and_run_returns) {
    // The handler tells the test when the request is in, then makes the model "think" for an
    // hour; stop must cut that short.
    std::promise<void> received;
    start();
    server().set_handler([&received](const recorded_request&) {
        received.set_value();
        return scripted_reply::text("never sent").after(std::chrono::hours(1));
    });
    http_client idle{server().port()};
    idle.get("/v1/models");
    http_client waiting{server().port()};
    http::request<http::string_body> request{http::verb::post, "/v1/chat/completions", 11};
    request.body() = chat_body("slow");
    request.prepare_payload();
    http::write(waiting.stream(), request);
    received.get_future().wait();

    stop_and_wait();

    EXPECT_TRUE(io_.stopped());
    response reply;
    boost::system::error_code ec;
    http::read(waiting.stream(), waiting.buffer(), reply, ec);
    EXPECT_TRUE(ec) << "the delayed reply must not arrive";
    http::read(idle.stream(), idle.buffer(), reply, ec);
    EXPECT_TRUE(ec) << "the idle connection must be closed";
    EXPECT_THROW(http_client{server().port()}, boost::system::system_error);
}

} // namespace
