#include <copilot/error.hpp>
#include <copilot/session_config.hpp>

#include <set>

namespace copilot::detail {

namespace {

template <class T>
void put(json::object& out, std::string_view key, const std::optional<T>& value) {
    if (value)
        out[key] = json::value_from(*value);
}

json::array strings(const std::vector<std::string>& items) {
    return json::array(items.begin(), items.end());
}

json::object string_map(const std::map<std::string, std::string>& items) {
    json::object out;
    for (const auto& [key, value] : items)
        out[key] = value;
    return out;
}

json::object system_message_wire(const system_message_config& config) {
    json::object out{{"mode", config.mode}};
    put(out, "content", config.content);
    if (config.sections.empty())
        return out;

    json::object sections;
    for (const auto& [id, section] : config.sections) {
        // A transform callback always means the runtime must call back for this section.
        json::object entry{{"action", section.transform ? "transform" : section.action}};
        put(entry, "content", section.content);
        sections[id] = std::move(entry);
    }
    out["sections"] = std::move(sections);
    return out;
}

json::object mcp_wire(const mcp_local_server& server) {
    json::object out{
        {"type", "local"}, {"command", server.command}, {"args", strings(server.args)}};
    if (!server.env.empty())
        out["env"] = string_map(server.env);
    put(out, "cwd", server.working_directory);
    out["tools"] = server.tools.empty() ? json::array{"*"} : strings(server.tools);
    put(out, "timeout", server.timeout_ms);
    return out;
}

json::object mcp_wire(const mcp_remote_server& server) {
    json::object out{{"type", server.type}, {"url", server.url}};
    if (!server.headers.empty())
        out["headers"] = string_map(server.headers);
    out["tools"] = server.tools.empty() ? json::array{"*"} : strings(server.tools);
    put(out, "timeout", server.timeout_ms);
    return out;
}

json::object agent_wire(const custom_agent& agent) {
    json::object out{{"name", agent.name}, {"prompt", agent.prompt}};
    put(out, "displayName", agent.display_name);
    put(out, "description", agent.description);
    if (agent.tools)
        out["tools"] = strings(*agent.tools);
    put(out, "infer", agent.infer);
    put(out, "model", agent.model);
    return out;
}

json::object tool_wire(const tool& t) {
    json::object out{
        {"name", t.name}, {"description", t.description}, {"parameters", t.parameters}};
    if (t.overrides_built_in_tool)
        out["overridesBuiltInTool"] = true;
    if (t.skip_permission)
        out["skipPermission"] = true;
    return out;
}

json::object infinite_sessions_wire(const infinite_sessions_config& config) {
    json::object out;
    put(out, "enabled", config.enabled);
    put(out, "backgroundCompactionThreshold", config.background_compaction_threshold);
    put(out, "bufferExhaustionThreshold", config.buffer_exhaustion_threshold);
    return out;
}

void put_byok(json::object& out, const session_config& config) {
    if (config.provider)
        out["provider"] = config.provider->to_json();
    if (!config.providers.empty()) {
        json::array providers;
        for (const auto& provider : config.providers)
            providers.push_back(provider.to_json());
        out["providers"] = std::move(providers);
    }
    if (!config.models.empty()) {
        json::array models;
        for (const auto& model : config.models)
            models.push_back(model.to_json());
        out["models"] = std::move(models);
    }
}

void put_extensions(json::object& out, const session_config& config) {
    if (!config.custom_agents.empty()) {
        json::array agents;
        for (const auto& agent : config.custom_agents)
            agents.push_back(agent_wire(agent));
        out["customAgents"] = std::move(agents);
    }
    put(out, "agent", config.agent);
    if (!config.mcp_servers.empty()) {
        json::object servers;
        for (const auto& [name, server] : config.mcp_servers)
            servers[name] = std::visit([](const auto& s) { return mcp_wire(s); }, server);
        out["mcpServers"] = std::move(servers);
    }
    if (!config.skill_directories.empty())
        out["skillDirectories"] = strings(config.skill_directories);
    if (!config.disabled_skills.empty())
        out["disabledSkills"] = strings(config.disabled_skills);
}

void put_capabilities(json::object& out, const session_config& config) {
    // Every flag is sent, true or false, as the runtime's own clients do.
    out["requestPermission"] = static_cast<bool>(config.on_permission);
    out["requestUserInput"] = static_cast<bool>(config.on_user_input);
    out["requestElicitation"] = static_cast<bool>(config.on_elicitation);
    out["requestExitPlanMode"] = static_cast<bool>(config.on_exit_plan_mode);
    out["requestAutoModeSwitch"] = static_cast<bool>(config.on_auto_mode_switch);
    out["hooks"] = config.hooks.any();
}

void check_provider(const provider_config& provider, const std::string& label) {
    if (provider.base_url.empty())
        throw error(errc::invalid_config, label + " has no base_url");
}

} // namespace

void validate(const session_config& config) {
    std::set<std::string> names;
    for (const auto& t : config.tools) {
        if (t.name.empty())
            throw error(errc::invalid_config, "a tool has no name");
        if (!names.insert(t.name).second)
            throw error(errc::invalid_config, "tool name '" + t.name + "' is used twice");
        if (!t.handler)
            throw error(errc::invalid_config, "tool '" + t.name + "' has no handler");
    }

    if (config.provider) {
        check_provider(*config.provider, "provider");
        if (!config.model && !config.provider->wire_model && !config.provider->model_id)
            throw error(errc::invalid_config, "a custom provider needs a model");
    }

    std::set<std::string> providers;
    for (const auto& provider : config.providers) {
        if (provider.name.empty())
            throw error(errc::invalid_config, "a named provider has no name");
        if (!providers.insert(provider.name).second)
            throw error(errc::invalid_config,
                        "provider name '" + provider.name + "' is used twice");
        check_provider(provider, "provider '" + provider.name + "'");
    }
    for (const auto& model : config.models)
        if (!providers.count(model.provider))
            throw error(errc::invalid_config,
                        "model '" + model.id + "' names unknown provider '" + model.provider + "'");
}

json::object to_wire(const session_config& config, const std::string& session_id) {
    json::object out;
    put(out, "model", config.model);
    out["sessionId"] = session_id;
    put(out, "reasoningEffort", config.reasoning_effort);
    put(out, "clientName", config.client_name);
    if (config.system_message)
        out["systemMessage"] = system_message_wire(*config.system_message);

    if (!config.tools.empty()) {
        json::array tools;
        for (const auto& t : config.tools)
            tools.push_back(tool_wire(t));
        out["tools"] = std::move(tools);
    }
    if (config.available_tools)
        out["availableTools"] = strings(*config.available_tools);
    if (config.excluded_tools)
        out["excludedTools"] = strings(*config.excluded_tools);
    out["toolFilterPrecedence"] = "excluded";

    put_byok(out, config);
    put_capabilities(out, config);
    put_extensions(out, config);
    if (config.infinite_sessions)
        out["infiniteSessions"] = infinite_sessions_wire(*config.infinite_sessions);
    put(out, "workingDirectory", config.working_directory);
    put(out, "streaming", config.streaming);
    out["includeSubAgentStreamingEvents"] = true;
    out["envValueMode"] = "direct";

    for (const auto& [key, value] : config.extra)
        out[key] = value;
    return out;
}

} // namespace copilot::detail
