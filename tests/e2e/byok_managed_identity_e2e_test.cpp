// The managed_identity sample's IMDS fetch against a local fake IMDS, with the real runtime
// and the local model endpoint: the IMDS token must reach the model as a bearer token.

#include "support/e2e_env.hpp"
#include "support/fake_imds.hpp"

#include "imds_token.hpp"

#include <copilot/caching_token_provider.hpp>
#include <copilot/client.hpp>
#include <copilot/testing/model_server.hpp>

namespace copilot::test {
namespace {

using boost::asio::use_future;
using namespace std::chrono_literals;

class byok_managed_identity_e2e : public e2e_test {
protected:
    byok_managed_identity_e2e() {
        imds_server.start();
        model.start();
    }

    ~byok_managed_identity_e2e() override {
        imds_server.stop();
        model.stop();
    }

    imds::options settings() const {
        imds::options opts;
        opts.endpoint = imds_server.endpoint();
        return opts;
    }

    fake_imds imds_server{io.get_executor()};
    copilot::testing::model_server model{io.get_executor()};
};

TEST_F(byok_managed_identity_e2e, the_imds_token_reaches_the_model_and_is_fetched_once) {
    const std::string access_token = "imds-access-token-5d21";
    auto expires_on = std::chrono::system_clock::now() + 1h;
    imds_server.set_token(access_token, expires_on);

    session_config config;
    config.model = "gpt-4o";
    config.provider = provider_config{};
    config.provider->type = "openai";
    config.provider->base_url = model.base_url();
    config.provider->token_provider =
        caching_token_provider(imds::token_provider(settings()), caching_token_options{});
    config.on_permission = approve_all();

    copilot::client client(io.get_executor(), options());
    wait(client.async_start(use_future));
    auto s = wait(client.async_create_session(config, use_future));
    wait(s.async_send_and_wait(prompt("first"), {}, use_future));
    wait(s.async_send_and_wait(prompt("second"), {}, use_future));
    wait(client.async_stop(use_future));

    auto seen = model.requests();
    ASSERT_GE(seen.size(), 2u);
    for (const auto& request : seen)
        EXPECT_EQ(request.authorization, "Bearer " + access_token);

    // One IMDS round trip served both turns, and it was a proper IMDS request.
    auto asked = imds_server.requests();
    ASSERT_EQ(asked.size(), 1u);
    EXPECT_EQ(asked[0].path, "/metadata/identity/oauth2/token");
    EXPECT_EQ(asked[0].metadata, "true");
    EXPECT_EQ(asked[0].query["resource"], "https://cognitiveservices.azure.com");
    EXPECT_EQ(asked[0].query["api-version"], "2018-02-01");
    EXPECT_EQ(asked[0].query.count("client_id"), 0u);
}

TEST_F(byok_managed_identity_e2e, the_fetch_reads_expiry_and_passes_a_client_id) {
    auto expires_on = std::chrono::system_clock::time_point{} + std::chrono::seconds(1'900'000'000);
    imds_server.set_token("imds-token-with-expiry", expires_on);
    auto opts = settings();
    opts.resource = "https://example.invalid/audience?x=1&y=2";
    opts.client_id = "11111111-2222-3333-4444-555555555555";

    auto token = wait(asio::co_spawn(io, imds::fetch_token(opts), use_future));
    EXPECT_EQ(token.token, "imds-token-with-expiry");
    ASSERT_TRUE(token.expires_at);
    EXPECT_EQ(*token.expires_at, expires_on);

    auto asked = imds_server.requests();
    ASSERT_EQ(asked.size(), 1u);
    EXPECT_EQ(asked[0].query["resource"], opts.resource) << "the resource was not encoded";
    EXPECT_EQ(asked[0].query["client_id"], *opts.client_id);
}

TEST_F(byok_managed_identity_e2e, an_imds_refusal_fails_the_turn_with_its_reason) {
    auto opts = settings();
    opts.resource = "";

    session_config config;
    config.model = "gpt-4o";
    config.provider = provider_config{};
    config.provider->type = "openai";
    config.provider->base_url = model.base_url();
    config.provider->token_provider =
        caching_token_provider(imds::token_provider(opts), caching_token_options{});
    config.on_permission = approve_all();

    copilot::client client(io.get_executor(), options());
    wait(client.async_start(use_future));
    auto s = wait(client.async_create_session(config, use_future));
    try {
        wait(s.async_send_and_wait(prompt("hi"), {}, use_future));
        ADD_FAILURE() << "the turn succeeded without a token";
    } catch (const error& e) {
        EXPECT_EQ(e.code(), make_error_code(errc::session_error));
        EXPECT_NE(std::string(e.what()).find("IMDS answered HTTP 400"), std::string::npos)
            << e.what();
    }
    wait(client.async_stop(use_future));

    EXPECT_TRUE(model.requests().empty());
    // A failed fetch is not cached: every retry of the runtime asked IMDS again.
    EXPECT_GT(imds_server.requests().size(), 1u);
}

} // namespace
} // namespace copilot::test
