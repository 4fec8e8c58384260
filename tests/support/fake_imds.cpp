#include "fake_imds.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <boost/url.hpp>

#include <mutex>

namespace copilot::test {

namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::string_view token_path = "/metadata/identity/oauth2/token";

imds_request record_of(const http::request<http::empty_body>& request) {
    imds_request record;
    boost::urls::url_view target(request.target());
    record.path = std::string(target.path());
    for (auto param : target.params())
        record.query[param.key] = param.value;
    if (auto it = request.find("Metadata"); it != request.end())
        record.metadata = std::string(it->value());
    return record;
}

http::response<http::string_body> json_reply(http::status status, const json::object& body) {
    http::response<http::string_body> reply(status, 11);
    reply.set(http::field::content_type, "application/json");
    reply.body() = json::serialize(body);
    reply.keep_alive(false);
    reply.prepare_payload();
    return reply;
}

http::response<http::string_body> error_reply(http::status status, std::string description) {
    json::object body;
    body["error"] = "invalid_request";
    body["error_description"] = std::move(description);
    return json_reply(status, body);
}

} // namespace

struct fake_imds::state : std::enable_shared_from_this<state> {
    explicit state(asio::any_io_executor executor)
        : strand(asio::make_strand(std::move(executor)))
        , acceptor(strand) {}

    static asio::awaitable<void> accept_loop(std::shared_ptr<state> self);
    static asio::awaitable<void> serve(std::shared_ptr<state> self, tcp::socket socket);
    http::response<http::string_body> answer(const imds_request& record);

    asio::strand<asio::any_io_executor> strand;
    tcp::acceptor acceptor; // touched only on `strand`
    unsigned short port = 0;

    // Test code reads these from its own thread.
    mutable std::mutex mutex;
    std::vector<imds_request> requests;
    std::string access_token = "imds-token";
    std::chrono::system_clock::time_point expires_on =
        std::chrono::system_clock::now() + std::chrono::hours(1);
};

asio::awaitable<void> fake_imds::state::accept_loop(std::shared_ptr<state> self) {
    for (;;) {
        auto [ec, socket] = co_await self->acceptor.async_accept(use_tuple);
        if (ec == asio::error::connection_aborted)
            continue;
        if (ec)
            co_return; // stop closed the acceptor
        asio::co_spawn(self->strand, serve(self, std::move(socket)), asio::detached);
    }
}

asio::awaitable<void> fake_imds::state::serve(std::shared_ptr<state> self, tcp::socket socket) {
    boost::beast::flat_buffer buffer;
    http::request<http::empty_body> request;
    auto [read_ec, read_bytes] = co_await http::async_read(socket, buffer, request, use_tuple);
    if (read_ec)
        co_return; // the client went away; nothing to answer

    auto record = record_of(request);
    {
        std::lock_guard lock(self->mutex);
        self->requests.push_back(record);
    }
    auto reply = self->answer(record);
    // A failed write or shutdown only means the client closed first.
    co_await http::async_write(socket, reply, use_tuple);
    boost::system::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
}

http::response<http::string_body> fake_imds::state::answer(const imds_request& record) {
    if (record.path != token_path)
        return error_reply(http::status::not_found, "no such endpoint");
    if (record.metadata != "true")
        return error_reply(http::status::bad_request, "Required metadata header not specified");
    if (auto it = record.query.find("resource"); it == record.query.end() || it->second.empty())
        return error_reply(http::status::bad_request, "Required audience parameter not specified");

    std::lock_guard lock(mutex);
    auto seconds = std::chrono::duration_cast<std::chrono::seconds>(expires_on.time_since_epoch());
    json::object body;
    body["access_token"] = access_token;
    body["expires_on"] = std::to_string(seconds.count());
    body["resource"] = record.query.at("resource");
    body["token_type"] = "Bearer";
    return json_reply(http::status::ok, body);
}

fake_imds::fake_imds(asio::any_io_executor executor)
    : state_(std::make_shared<state>(std::move(executor))) {}

fake_imds::~fake_imds() {
    stop();
}

void fake_imds::start() {
    tcp::endpoint endpoint(asio::ip::address_v4::loopback(), 0);
    state_->acceptor.open(endpoint.protocol());
    state_->acceptor.bind(endpoint);
    state_->acceptor.listen();
    state_->port = state_->acceptor.local_endpoint().port();
    asio::co_spawn(state_->strand, state::accept_loop(state_), asio::detached);
}

void fake_imds::stop() {
    asio::dispatch(state_->strand, [self = state_] {
        boost::system::error_code ignored;
        self->acceptor.close(ignored);
    });
}

std::string fake_imds::endpoint() const {
    return "http://127.0.0.1:" + std::to_string(state_->port);
}

void fake_imds::set_token(std::string access_token,
                          std::chrono::system_clock::time_point expires_on) {
    std::lock_guard lock(state_->mutex);
    state_->access_token = std::move(access_token);
    state_->expires_on = expires_on;
}

std::vector<imds_request> fake_imds::requests() const {
    std::lock_guard lock(state_->mutex);
    return state_->requests;
}

} // namespace copilot::test
