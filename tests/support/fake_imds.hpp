#pragma once

// A stand-in for Azure's Instance Metadata Service: enough of its token endpoint to test a
// Managed Identity token fetch offline. Listens on 127.0.0.1 with a port the system picks.

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace copilot::test {

/// One request the fake IMDS received.
struct imds_request {
    /// The path, without the query string.
    std::string path;
    /// The decoded query parameters.
    std::map<std::string, std::string> query;
    /// The `Metadata` header, empty when absent.
    std::string metadata;
};

/// Answers `GET /metadata/identity/oauth2/token` as IMDS does: 400 without `Metadata: true`
/// or without `resource`, 404 on other paths, else a token reply with `access_token` and
/// `expires_on` (seconds since the epoch, as a string).
///
/// Runs on a strand of the given executor and starts no threads; `requests` and `set_token`
/// may be called from any thread. One request per connection is enough for the clients it
/// serves; each connection is closed after its answer.
class fake_imds {
public:
    explicit fake_imds(boost::asio::any_io_executor executor);
    ~fake_imds();
    fake_imds(const fake_imds&) = delete;
    fake_imds& operator=(const fake_imds&) = delete;

    /// Binds 127.0.0.1:0 and starts accepting.
    void start();

    /// Closes the listener; posted to the strand, so it returns at once.
    void stop();

    /// The base URL, e.g. "http://127.0.0.1:41234".
    std::string endpoint() const;

    /// The token the next replies carry.
    void set_token(std::string access_token, std::chrono::system_clock::time_point expires_on);

    /// Every request so far, oldest first.
    std::vector<imds_request> requests() const;

private:
    struct state;
    std::shared_ptr<state> state_;
};

} // namespace copilot::test
