#include <copilot/permission.hpp>

namespace copilot {

permission_decision permission_decision::reject(std::string feedback) {
    permission_decision decision{kind_type::reject, {}};
    if (!feedback.empty())
        decision.feedback = std::move(feedback);
    return decision;
}

json::object permission_decision::to_json() const {
    json::object out;
    switch (kind) {
    case kind_type::approve_once:
        out["kind"] = "approve-once";
        break;
    case kind_type::approve_for_session:
        out["kind"] = "approve-for-session";
        break;
    case kind_type::reject:
        out["kind"] = "reject";
        break;
    case kind_type::user_not_available:
    case kind_type::no_result:
        out["kind"] = "user-not-available";
        break;
    }
    if (feedback)
        out["feedback"] = *feedback;
    return out;
}

permission_handler approve_all() {
    return [](permission_request) -> asio::awaitable<permission_decision> {
        co_return permission_decision::approve_once();
    };
}

} // namespace copilot
