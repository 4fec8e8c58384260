#pragma once

/// @file
/// What the runtime keeps about a stored session (`session.list`, `session.getMetadata`).

#include <copilot/detail/config.hpp>

#include <optional>
#include <string>

namespace copilot {

/// One stored session.
struct session_metadata {
    std::string session_id;
    /// ISO-8601 times.
    std::string start_time;
    std::string modified_time;
    bool is_remote = false;
    std::optional<bool> is_detached;
    std::optional<std::string> summary;
    std::optional<std::string> name;
    std::optional<std::string> client_name;
    /// Working directory, repository, branch, ... as the runtime recorded them.
    json::object context;

    /// Reads one entry of `session.list` / `session.getMetadata`.
    static session_metadata from_json(const json::object& entry);
};

/// Narrows `client::async_list_sessions`; unset fields do not filter.
struct session_list_filter {
    std::optional<std::string> cwd;
    std::optional<std::string> git_root;
    std::optional<std::string> repository;
    std::optional<std::string> branch;
};

} // namespace copilot
