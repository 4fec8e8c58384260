// BYOK with an Azure Managed Identity: the token callback fetches an access token from the
// Instance Metadata Service (IMDS) and `caching_token_provider` reuses it until shortly
// before it expires.
//
// Environment:
//   COPILOT_IMDS_ENDPOINT   IMDS base URL (default http://169.254.169.254)
//   COPILOT_IMDS_RESOURCE   token audience (default https://cognitiveservices.azure.com)
//   COPILOT_IMDS_CLIENT_ID  client id of a user-assigned identity (default: system-assigned)
//   COPILOT_MI_BASE_URL     provider endpoint, e.g. https://NAME.openai.azure.com/openai/v1
//                           (default: the project's local model endpoint, offline)
//   COPILOT_MI_MODEL        model or deployment name (default gpt-4o)
//
//   managed_identity ["your prompt"]
//
// The token is never printed; only its remaining lifetime is.

#include "imds_token.hpp"

#include <copilot/caching_token_provider.hpp>
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

imds::options imds_settings() {
    imds::options settings;
    settings.endpoint = env_or("COPILOT_IMDS_ENDPOINT", settings.endpoint);
    settings.resource = env_or("COPILOT_IMDS_RESOURCE", settings.resource);
    if (auto client_id = env_or("COPILOT_IMDS_CLIENT_ID", ""); !client_id.empty())
        settings.client_id = client_id;
    return settings;
}

// The IMDS fetch, reporting each real fetch (the cache hides the others).
copilot::bearer_token_provider reporting_fetch(imds::options settings) {
    return [settings](copilot::provider_token_args) -> asio::awaitable<copilot::bearer_token> {
        auto token = co_await imds::fetch_token(settings);
        std::cerr << "[managed identity token fetched";
        if (token.expires_at) {
            auto left = *token.expires_at - std::chrono::system_clock::now();
            std::cerr << ", valid for "
                      << std::chrono::duration_cast<std::chrono::minutes>(left).count() << " min";
        }
        std::cerr << "]\n";
        co_return token;
    };
}

asio::awaitable<void> chat(std::string prompt) {
    auto executor = co_await asio::this_coro::executor;

    // Offline default: the local model endpoint stands in for Azure OpenAI.
    std::optional<copilot::testing::model_server> local_model;
    std::string base_url = env_or("COPILOT_MI_BASE_URL", "");
    if (base_url.empty()) {
        local_model.emplace(executor);
        local_model->start();
        base_url = local_model->base_url();
    }

    copilot::client client(executor);
    co_await client.async_start();

    copilot::session_config config;
    config.model = env_or("COPILOT_MI_MODEL", "gpt-4o");
    config.provider = copilot::provider_config{};
    config.provider->type = "openai";
    config.provider->base_url = base_url;
    config.provider->token_provider = copilot::caching_token_provider(
        reporting_fetch(imds_settings()), copilot::caching_token_options{});
    config.on_permission = copilot::approve_all();

    auto session = co_await client.async_create_session(std::move(config));
    auto reply = co_await session.async_send_and_wait(copilot::prompt(prompt));
    std::cout << "assistant: " << (reply ? reply->content : "(no reply)") << "\n";

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
