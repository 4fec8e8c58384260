#include <copilot/provider.hpp>

namespace copilot {

namespace {

template <class T>
void put(json::object& out, std::string_view key, const std::optional<T>& value) {
    if (value)
        out[key] = *value;
}

} // namespace

json::object provider_config::to_json() const {
    json::object out;
    put(out, "type", type);
    put(out, "wireApi", wire_api);
    put(out, "transport", transport);
    out["baseUrl"] = base_url;
    put(out, "apiKey", api_key);
    put(out, "bearerToken", bearer_token);
    if (azure_api_version)
        out["azure"] = {{"apiVersion", *azure_api_version}};
    if (!headers.empty()) {
        json::object h;
        for (const auto& [name, value] : headers)
            h[name] = value;
        out["headers"] = std::move(h);
    }
    put(out, "wireModel", wire_model);
    put(out, "modelId", model_id);
    put(out, "maxPromptTokens", max_prompt_tokens);
    put(out, "maxContextWindowTokens", max_context_window_tokens);
    put(out, "maxOutputTokens", max_output_tokens);
    put(out, "modelCapabilities", model_capabilities);

    // The callback stays here; the runtime only learns that it exists.
    if (token_provider)
        out["hasBearerTokenProvider"] = true;
    return out;
}

json::object named_provider_config::to_json() const {
    auto out = provider_config::to_json();
    out["name"] = name;
    return out;
}

json::object provider_model_config::to_json() const {
    json::object out{{"id", id}, {"provider", provider}};
    put(out, "wireModel", wire_model);
    put(out, "modelId", model_id);
    put(out, "name", name);
    put(out, "maxPromptTokens", max_prompt_tokens);
    put(out, "maxContextWindowTokens", max_context_window_tokens);
    put(out, "maxOutputTokens", max_output_tokens);
    put(out, "capabilities", capabilities);
    return out;
}

} // namespace copilot
