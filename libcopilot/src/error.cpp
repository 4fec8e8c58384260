#include <copilot/error.hpp>

namespace copilot {

namespace {

class copilot_category_impl final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "copilot"; }

    std::string message(int value) const override {
        switch (static_cast<errc>(value)) {
        case errc::not_started:
            return "client not started";
        case errc::already_started:
            return "client already started";
        case errc::transport_closed:
            return "connection to the runtime closed";
        case errc::protocol_error:
            return "protocol error";
        case errc::frame_too_large:
            return "frame larger than the configured maximum";
        case errc::bad_frame_header:
            return "missing or malformed Content-Length header";
        case errc::invalid_json:
            return "frame body is not valid JSON";
        case errc::json_too_deep:
            return "frame body nests deeper than the configured maximum";
        case errc::timeout:
            return "operation timed out";
        case errc::cancelled:
            return "operation cancelled";
        case errc::session_not_found:
            return "session not found";
        case errc::handler_failed:
            return "handler failed";
        case errc::version_mismatch:
            return "unsupported protocol version";
        case errc::runtime_not_found:
            return "Copilot runtime executable not found";
        case errc::spawn_failed:
            return "could not start or reach the runtime";
        case errc::invalid_config:
            return "invalid configuration";
        case errc::decode_error:
            return "message does not match the expected shape";
        case errc::empty_token:
            return "bearer-token callback returned an empty token";
        case errc::authentication_failed:
            return "connection token rejected";
        case errc::session_error:
            return "session reported an error";
        }
        return "unknown copilot error";
    }
};

class rpc_category_impl final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "copilot.rpc"; }

    std::string message(int value) const override {
        switch (value) {
        case rpc_code::parse_error:
            return "JSON-RPC parse error";
        case rpc_code::invalid_request:
            return "JSON-RPC invalid request";
        case rpc_code::method_not_found:
            return "JSON-RPC method not found";
        case rpc_code::invalid_params:
            return "JSON-RPC invalid params";
        case rpc_code::internal_error:
            return "JSON-RPC internal error";
        default:
            return "JSON-RPC error " + std::to_string(value);
        }
    }
};

} // namespace

const boost::system::error_category& copilot_category() noexcept {
    static const copilot_category_impl instance;
    return instance;
}

const boost::system::error_category& rpc_category() noexcept {
    static const rpc_category_impl instance;
    return instance;
}

boost::system::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), copilot_category()};
}

boost::system::error_code make_rpc_error_code(int code) noexcept {
    return {code, rpc_category()};
}

bool is_fatal(const boost::system::error_code& ec) noexcept {
    if (ec.category() != copilot_category())
        return false;
    switch (static_cast<errc>(ec.value())) {
    case errc::transport_closed:
    case errc::protocol_error:
    case errc::frame_too_large:
    case errc::bad_frame_header:
    case errc::version_mismatch:
    case errc::authentication_failed:
        return true;
    default:
        return false;
    }
}

} // namespace copilot
