// One BYOK chat turn through the Copilot runtime.
//
// By default the model is the project's local OpenAI-compatible endpoint, so the sample runs
// offline. Point it at a real provider with COPILOT_CHAT_BASE_URL (e.g.
// https://api.openai.com/v1), COPILOT_CHAT_MODEL and COPILOT_CHAT_API_KEY.
//
//   chat ["your prompt"]

#include <copilot/client.hpp>
#include <copilot/testing/model_server.hpp>

#include <boost/asio/io_context.hpp>

#include <cstdlib>
#include <iostream>
#include <optional>

namespace asio = boost::asio;

namespace {

std::string env_or(const char* name, std::string fallback) {
    const char* value = std::getenv(name);
    return value && *value ? value : fallback;
}

// The bearer-token callback: a coroutine, as an identity fetch would be.
asio::awaitable<copilot::bearer_token> fetch_token(copilot::provider_token_args args) {
    std::cerr << "[token requested for provider '" << args.provider_name << "']\n";
    co_return copilot::bearer_token{env_or("COPILOT_CHAT_API_KEY", "local-demo-token"), {}};
}

asio::awaitable<void> chat(std::string prompt) {
    auto executor = co_await asio::this_coro::executor;

    // Offline default: the local model endpoint stands in for the provider.
    std::optional<copilot::testing::model_server> local_model;
    std::string base_url = env_or("COPILOT_CHAT_BASE_URL", "");
    if (base_url.empty()) {
        local_model.emplace(executor);
        local_model->start();
        base_url = local_model->base_url();
    }

    copilot::client client(executor);
    co_await client.async_start();
    std::cout << "runtime " << client.info().version << ", protocol "
              << client.info().protocol_version << "\n";

    copilot::session_config config;
    config.model = env_or("COPILOT_CHAT_MODEL", "gpt-4o");
    config.streaming = true;
    config.provider = copilot::provider_config{};
    config.provider->type = "openai";
    config.provider->base_url = base_url;
    config.provider->token_provider = fetch_token;
    config.on_permission = copilot::approve_all();

    auto session = co_await client.async_create_session(std::move(config));
    session.on<copilot::events::assistant_message_delta>(
        [](const copilot::events::assistant_message_delta& delta) {
            std::cout << delta.delta_content << std::flush;
        });

    auto reply = co_await session.async_send_and_wait(copilot::prompt(prompt));
    std::cout << "\nassistant: " << (reply ? reply->content : "(no reply)") << "\n";

    co_await session.async_disconnect();
    co_await client.async_stop();
    if (local_model)
        local_model->stop();
}

} // namespace

int main(int argc, char** argv) {
    std::string prompt = argc > 1 ? argv[1] : "Say hello in five words.";

    asio::io_context io;
    int status = 0;
    asio::co_spawn(io, chat(prompt), [&](std::exception_ptr error) {
        if (!error)
            return;
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            std::cerr << "error: " << e.what() << "\n";
            status = 1;
        }
    });
    io.run();
    return status;
}
