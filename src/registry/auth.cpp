// Challenge parsing, base64 and credential lookup (see include/slimage/registry/auth.h).
// Token auth: https://distribution.github.io/distribution/spec/auth/token/
// Config files: docker's config.json and containers-auth.json(5), same "auths" shape.
#include "slimage/registry/auth.h"

#include <cctype>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "slimage/util/error.h"
#include "slimage/util/file.h"

namespace slimage::registry {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// A cursor over a WWW-Authenticate value.
struct Scanner {
  std::string_view s;
  size_t i = 0;
  bool done() const { return i >= s.size(); }
  void skip_space() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) i++;
  }
  std::string token() {
    size_t start = i;
    while (i < s.size() && is_token_char(s[i])) i++;
    return std::string(s.substr(start, i - start));
  }
  // An unquoted value: a token in the RFC, but servers send URLs bare too.
  std::string bare() {
    size_t start = i;
    while (i < s.size() && s[i] != ',' && s[i] != ' ' && s[i] != '\t') i++;
    return std::string(s.substr(start, i - start));
  }
  std::string quoted() {  // at the opening quote
    std::string out;
    for (i++; i < s.size() && s[i] != '"'; i++) {
      if (s[i] == '\\' && i + 1 < s.size()) i++;
      out += s[i];
    }
    if (i < s.size()) i++;  // closing quote
    return out;
  }
  // True if an auth-param ("name=") starts here, as opposed to a new scheme.
  bool at_param() const {
    size_t j = i;
    while (j < s.size() && is_token_char(s[j])) j++;
    while (j < s.size() && (s[j] == ' ' || s[j] == '\t')) j++;
    return j > i && j < s.size() && s[j] == '=' && (j + 1 >= s.size() || s[j + 1] != '=');
  }
};

}  // namespace

std::string AuthChallenge::param(const std::string& name) const {
  auto it = params.find(name);
  return it == params.end() ? std::string() : it->second;
}

std::vector<AuthChallenge> parse_www_authenticate(std::string_view header) {
  std::vector<AuthChallenge> out;
  Scanner sc{header};
  while (!sc.done()) {
    sc.skip_space();
    if (!sc.done() && sc.s[sc.i] == ',') {
      sc.i++;
      continue;
    }
    std::string scheme = sc.token();
    if (scheme.empty()) {  // garbage: skip a character and look again
      sc.i++;
      continue;
    }
    AuthChallenge challenge{lower(scheme), {}};
    for (;;) {
      sc.skip_space();
      if (!sc.at_param()) break;
      std::string name = lower(sc.token());
      sc.skip_space();
      sc.i++;  // '='
      sc.skip_space();
      std::string value = (!sc.done() && sc.s[sc.i] == '"') ? sc.quoted() : sc.bare();
      challenge.params[name] = value;
      sc.skip_space();
      if (sc.done() || sc.s[sc.i] != ',') break;
      size_t comma = sc.i++;
      sc.skip_space();
      if (!sc.at_param()) {  // the comma ended this challenge
        sc.i = comma;
        break;
      }
    }
    out.push_back(std::move(challenge));
  }
  return out;
}

std::string base64_encode(std::string_view bytes) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kAlphabet[(v >> shift) & 63];
  }
  size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t v = uint8_t(bytes[i]) << 16;
    if (rest == 2) v |= uint8_t(bytes[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  while (!text.empty() && (text.back() == '=' || text.back() == '\n' || text.back() == '\r'))
    text.remove_suffix(1);
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '+' || c == '-')
      v = 62;
    else if (c == '/' || c == '_')
      v = 63;
    else
      return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  if (bits >= 6) return std::nullopt;  // one stray character: not base64
  return out;
}

std::string basic_authorization(const Credentials& creds) {
  return "Basic " + base64_encode(creds.username + ":" + creds.password);
}

Credentials parse_creds_option(std::string_view text) {
  auto colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0)
    fail("--creds: expected USER:PASS");  // never echo: it may be a bare password
  return {std::string(text.substr(0, colon)), std::string(text.substr(colon + 1))};
}

std::string normalize_registry_key(std::string_view key) {
  if (auto p = key.find("://"); p != std::string_view::npos) key.remove_prefix(p + 3);
  if (auto p = key.find('/'); p != std::string_view::npos) key = key.substr(0, p);
  std::string k = lower(key);
  if (k == "index.docker.io" || k == "registry-1.docker.io") return "docker.io";
  return k;
}

std::optional<Credentials> credentials_from_docker_config(std::string_view json_text,
                                                          std::string_view registry,
                                                          const std::string& where,
                                                          std::string* warning) {
  nlohmann::json config = nlohmann::json::parse(json_text, nullptr, false);
  if (config.is_discarded() || !config.is_object()) fail(where + ": not a JSON object");
  std::string want = normalize_registry_key(registry);
  if (auto auths = config.find("auths"); auths != config.end() && auths->is_object()) {
    for (auto& [key, entry] : auths->items()) {
      if (normalize_registry_key(key) != want || !entry.is_object()) continue;
      if (auto a = entry.find("auth");
          a != entry.end() && a->is_string() && !a->get<std::string>().empty()) {
        auto decoded = base64_decode(a->get<std::string>());
        auto colon = decoded ? decoded->find(':') : std::string::npos;
        if (colon == std::string::npos)
          fail(where + ": auths." + key + ".auth: not base64 of USER:PASS");
        return Credentials{decoded->substr(0, colon), decoded->substr(colon + 1)};
      }
      if (entry.value("username", "") != "")
        return Credentials{entry.value("username", ""), entry.value("password", "")};
    }
  }
  std::string helper;
  if (auto helpers = config.find("credHelpers"); helpers != config.end() && helpers->is_object())
    for (auto& [key, value] : helpers->items())
      if (normalize_registry_key(key) == want) helper = "credHelpers";
  if (helper.empty() && config.contains("credsStore")) helper = "credsStore";
  if (!helper.empty() && warning)
    *warning = where + ": credential helpers are not supported (" + helper + " for " + want +
               "); pass --creds or --authfile";
  return std::nullopt;
}

std::optional<Credentials> find_credentials(std::string_view registry, const std::string& creds,
                                            const std::string& authfile, std::string* warning) {
  if (!creds.empty()) return parse_creds_option(creds);
  if (!authfile.empty()) {
    if (!path_exists(authfile)) fail(authfile + ": authfile not found");
    return credentials_from_docker_config(read_file(authfile), registry, authfile, warning);
  }
  std::vector<std::string> candidates;
  auto env = [](const char* name) -> std::string {
    const char* v = std::getenv(name);
    return v ? v : "";
  };
  if (!env("REGISTRY_AUTH_FILE").empty()) candidates.push_back(env("REGISTRY_AUTH_FILE"));
  if (!env("XDG_RUNTIME_DIR").empty())
    candidates.push_back(env("XDG_RUNTIME_DIR") + "/containers/auth.json");
  if (!env("DOCKER_CONFIG").empty()) candidates.push_back(env("DOCKER_CONFIG") + "/config.json");
  if (!env("HOME").empty()) candidates.push_back(env("HOME") + "/.docker/config.json");
  for (auto& path : candidates) {
    if (!path_exists(path)) continue;
    if (auto found = credentials_from_docker_config(read_file(path), registry, path, warning))
      return found;
  }
  return std::nullopt;
}

}  // namespace slimage::registry
