// copilot_micro_bench: the SDK's hot paths without any I/O. Framing, JSON-RPC decode and
// encode, and session-event decode + typed access, on messages shaped like the runtime's.

#include <copilot/detail/json_input.hpp>
#include <copilot/generated/events.hpp>
#include <copilot/jsonrpc/framer.hpp>
#include <copilot/session_event.hpp>

#include <benchmark/benchmark.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

namespace {

namespace json = boost::json;

/// One `assistant.message_delta` notification as the runtime sends it (about 400 bytes).
const std::string delta_notification =
    R"({"jsonrpc":"2.0","method":"session.event","params":{)"
    R"("sessionId":"6f1c2a9e-4b7d-4e21-9a3f-0c8d5e7b1a24","event":{)"
    R"("id":"b3e4f5a6-7c8d-4e9f-8a0b-1c2d3e4f5a6b","timestamp":"2025-01-15T10:21:33.512Z",)"
    R"("parentId":"a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d","type":"assistant.message_delta",)"
    R"("data":{"messageId":"9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a",)"
    R"("deltaContent":"The quick brown fox jumps over "},"ephemeral":true}}})";

/// A `ping` reply.
const std::string ping_reply = R"({"jsonrpc":"2.0","id":42,"result":{"message":"pong: bench",)"
                               R"("timestamp":"2025-01-15T10:21:33.512Z","protocolVersion":3}})";

/// A body of `size` bytes: the delta notification padded inside its delta text.
std::string body_of_size(std::size_t size) {
    std::string body = delta_notification;
    auto at = body.find("over ") + 5;
    if (size > body.size())
        body.insert(at, std::string(size - body.size(), 'x'));
    return body;
}

/// Feeds 16 framed bodies of `range(0)` bytes in chunks of `range(1)` bytes and takes every
/// frame out, as the reader does after each read.
void bm_framer(benchmark::State& state) {
    auto frame = copilot::jsonrpc::framer::encode(body_of_size(state.range(0)));
    std::string stream;
    for (int i = 0; i < 16; ++i)
        stream += frame;
    auto chunk = static_cast<std::size_t>(state.range(1));

    for (auto _ : state) {
        copilot::jsonrpc::framer framer;
        boost::system::error_code ec;
        for (std::size_t at = 0; at < stream.size(); at += chunk) {
            framer.feed(std::string_view(stream).substr(at, chunk));
            while (auto body = framer.next(ec))
                benchmark::DoNotOptimize(body->data());
        }
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * stream.size()));
}
BENCHMARK(bm_framer)
    ->Args({400, 65536})
    ->Args({400, 512})
    ->Args({4096, 65536})
    ->Args({65536, 4096});

void decode(benchmark::State& state, const std::string& body) {
    for (auto _ : state) {
        boost::system::error_code ec;
        auto value = copilot::detail::parse_untrusted(body, 64, ec);
        benchmark::DoNotOptimize(value);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
}

void encode(benchmark::State& state, const std::string& body) {
    auto value = json::parse(body);
    for (auto _ : state) {
        auto text = json::serialize(value);
        benchmark::DoNotOptimize(text.data());
    }
}

void bm_decode_event(benchmark::State& state) {
    decode(state, delta_notification);
}
BENCHMARK(bm_decode_event);

void bm_decode_ping_reply(benchmark::State& state) {
    decode(state, ping_reply);
}
BENCHMARK(bm_decode_ping_reply);

void bm_encode_event(benchmark::State& state) {
    encode(state, delta_notification);
}
BENCHMARK(bm_encode_event);

void bm_encode_ping_reply(benchmark::State& state) {
    encode(state, ping_reply);
}
BENCHMARK(bm_encode_ping_reply);

/// The notification's `event` member parsed into a `session_event` and decoded as a delta,
/// what a typed `session::on<events::assistant_message_delta>` handler costs past the parse.
void bm_event_dispatch(benchmark::State& state) {
    auto notification = json::parse(delta_notification);
    const auto& event = notification.at("params").at("event");

    for (auto _ : state) {
        auto parsed = copilot::parse_session_event(event);
        auto delta = parsed.as<copilot::events::assistant_message_delta>();
        benchmark::DoNotOptimize(delta->delta_content.data());
    }
}
BENCHMARK(bm_event_dispatch);

/// The whole inbound path of one delta event: frame, parse, envelope, typed payload.
void bm_event_end_to_end(benchmark::State& state) {
    auto frame = copilot::jsonrpc::framer::encode(delta_notification);
    copilot::jsonrpc::framer framer;

    for (auto _ : state) {
        boost::system::error_code ec;
        framer.feed(frame);
        auto body = framer.next(ec);
        auto message = copilot::detail::parse_untrusted(*body, 64, ec);
        auto& event = message.as_object()["params"].as_object()["event"];
        auto parsed = copilot::parse_session_event(std::move(event));
        auto delta = parsed.as<copilot::events::assistant_message_delta>();
        benchmark::DoNotOptimize(delta->delta_content.data());
    }
}
BENCHMARK(bm_event_end_to_end);

} // namespace

BENCHMARK_MAIN();
