// Tag listing (include/slimage/registry/tags.h). The registry answers
// {"name":"app","tags":["1","2"]} ("tags" may be null for an empty repo), a
// page at a time when it wants to, with the next page's URL in a Link header
// (RFC 8288) — a path, or absolute; RegistryClient::send takes either.
#include "slimage/registry/tags.h"

#include <nlohmann/json.hpp>
#include <set>

#include "slimage/registry/client.h"

namespace slimage::registry {

namespace {

constexpr size_t kPageLimit = 16 << 20;
constexpr int kMaxPages = 10000;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string next_link(std::string_view header) {
  // link-value *( "," link-value ); link-value = "<" URI ">" *( ";" param )
  size_t pos = 0;
  while (pos < header.size()) {
    size_t open = header.find('<', pos);
    if (open == std::string_view::npos) return "";
    size_t close = header.find('>', open);
    if (close == std::string_view::npos) return "";
    std::string_view target = header.substr(open + 1, close - open - 1);
    size_t end = header.find('<', close);  // URIs cannot hold '<', so this starts the next value
    std::string_view params = header.substr(close + 1, end == std::string_view::npos
                                                           ? std::string_view::npos
                                                           : end - close - 1);
    size_t p = 0;
    while ((p = params.find(';', p)) != std::string_view::npos) {
      p++;
      size_t stop = params.find_first_of(";,", p);
      std::string_view param = trim(params.substr(p, stop == std::string_view::npos ? stop : stop - p));
      size_t eq = param.find('=');
      if (eq == std::string_view::npos) continue;
      std::string_view name = trim(param.substr(0, eq)), value = trim(param.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
        value = value.substr(1, value.size() - 2);
      if (name == "rel" && value == "next") return std::string(target);
    }
    pos = end;
  }
  return "";
}

std::vector<std::string> list_tags(const ImageRef& ref, const TransportOptions& options) {
  RegistryRef r = parse_registry_ref(ref);
  RegistryClient client(r, options, /*push=*/false);
  std::string where = "docker://" + r.host + "/" + r.repository;
  std::vector<std::string> tags;
  std::set<std::string> seen;
  std::string url = "/v2/" + r.repository + "/tags/list";
  for (int page = 0; !url.empty(); page++) {
    if (page >= kMaxPages) fail(where + ": list tags: more than " + std::to_string(kMaxPages) + " pages");
    HttpResponse response;
    try {
      response = client.send(HttpRequest("GET", url));
    } catch (const HttpTransportError& e) {
      fail(where + ": list tags: " + e.what());
    }
    if (response.status != 200) client.fail_response("list tags", response);
    if (response.body.size() > kPageLimit) fail(where + ": list tags: answer too large");
    nlohmann::json j = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) fail(where + ": list tags: answer is not a JSON object");
    if (j.contains("tags") && j["tags"].is_array()) {
      for (auto& t : j["tags"])
        if (t.is_string() && seen.insert(t.get<std::string>()).second) tags.push_back(t.get<std::string>());
    } else if (j.contains("tags") && !j["tags"].is_null()) {
      fail(where + ": list tags: \"tags\" is not an array");
    }
    url = next_link(response.header("link"));
  }
  return tags;
}

}  // namespace slimage::registry
