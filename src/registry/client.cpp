// A repository session with a registry (see include/slimage/registry/client.h).
// Quirks handled: an insecure registry serves plain http where https was
// tried first (slimage falls back, as skopeo does, only when TLS verification
// is off: --tls-verify=false, or the side's own flag); the first 401 says which auth scheme to use; Bearer tokens
// expire mid-push, so any later 401 fetches a fresh one and retries once.
// Token protocol: https://distribution.github.io/distribution/spec/auth/token/
#include "slimage/registry/client.h"


#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "slimage/util/file.h"

namespace slimage::registry {

std::string describe_error_response(const HttpResponse& response) {
  auto body = nlohmann::json::parse(response.body, nullptr, false);
  std::string out;
  if (body.is_object() && body.contains("errors") && body["errors"].is_array()) {
    for (auto& e : body["errors"]) {
      if (!e.is_object()) continue;
      std::string code = e.value("code", "");
      for (char& c : code) c = c == '_' ? ' ' : static_cast<char>(std::tolower(c));
      std::string message = e.value("message", "");
      std::string one = code.empty() ? message : message.empty() ? code : code + ": " + message;
      if (one.empty()) continue;
      out += (out.empty() ? "" : "; ") + one;
    }
  }
  if (out.empty()) {
    out = "HTTP " + std::to_string(response.status);
    if (!response.reason.empty()) out += " " + response.reason;
  }
  return out;
}

// skopeo's --cert-dir: every *.crt file in it is a CA to trust (sorted, so
// the bundle is the same on every run).
static std::string read_cert_dir(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (auto& entry : std::filesystem::directory_iterator(dir, ec))
    if (entry.path().extension() == ".crt") files.push_back(entry.path().string());
  if (ec) fail("--cert-dir " + dir + ": " + ec.message());
  std::sort(files.begin(), files.end());
  std::string pem;
  for (auto& f : files) pem += read_file(f) + "\n";
  if (pem.empty()) fail("--cert-dir " + dir + ": no *.crt file in it");
  return pem;
}

static HttpOptions http_options(const TransportOptions& options) {
  HttpOptions out;
  out.tls_verify = options.tls_verify;
  out.ca_file = options.ca_file;
  if (!options.cert_dir.empty()) out.ca_pem = read_cert_dir(options.cert_dir);
  return out;
}

RegistryClient::RegistryClient(RegistryRef ref, const TransportOptions& options, bool push)
    : ref_(std::move(ref)), options_(options), http_(http_options(options)) {
  credentials_ = find_credentials(ref_.host, options.creds, options.authfile, &credentials_warning_);
  // A warning (credential helpers found, not supported) matters only when the
  // registry asks for credentials: fail_response() adds it to that error.
  scopes_.push_back("repository:" + ref_.repository + (push ? ":pull,push" : ":pull"));
}

void RegistryClient::add_pull_scope(const std::string& repository) {
  std::lock_guard lock(mu_);
  scopes_.push_back("repository:" + repository + ":pull");
  authorization_.clear();  // a token must be fetched with the new scope
}

std::string RegistryClient::path(const std::string& kind, const std::string& reference) const {
  return "/v2/" + ref_.repository + "/" + kind + "/" + reference;
}

std::string RegistryClient::base_url() {
  settle_scheme();
  std::lock_guard lock(mu_);
  return scheme_ + "://" + ref_.api_host();
}

std::string RegistryClient::absolute(const std::string& url_or_path) {
  if (url_or_path.starts_with("https://") || url_or_path.starts_with("http://")) return url_or_path;
  return base_url() + url_or_path;
}

// Pings /v2/ over https, falling back to http where docker would; the ping's
// 401 (if any) tells which auth scheme the registry wants.
void RegistryClient::settle_scheme() {
  std::lock_guard lock(mu_);
  if (!scheme_.empty()) return;
  auto ping = [&](const std::string& scheme) {
    return http_.send(HttpRequest("GET", scheme + "://" + ref_.api_host() + "/v2/"));
  };
  HttpResponse response;
  try {
    response = ping("https");
    scheme_ = "https";
  } catch (const HttpTransportError& e) {
    // As skopeo: plain HTTP only when asked (--tls-verify=false), even to
    // localhost, so a registry that lost its TLS never silently downgrades.
    bool fallback = e.tls_handshake() && !options_.tls_verify;
    if (!fallback) {
      std::string hint;
      if (e.curl_code() == 60) hint = " (pass --ca-file, or --tls-verify=false)";
      else if (e.tls_handshake() && is_local_host(ref_.api_host()))
        hint = " (a plain-HTTP registry? pass --tls-verify=false)";
      fail_at(name(), e.what() + hint);
    }
    try {
      response = ping("http");
    } catch (const HttpTransportError& e2) {
      fail_at(name(), e2.what());
    }
    scheme_ = "http";
  }
  if (response.status == 401) {
    for (auto& c : parse_www_authenticate(response.header("www-authenticate")))
      if (c.scheme == "bearer" || (c.scheme == "basic" && !challenge_)) challenge_ = c;
  }
}

std::string RegistryClient::fetch_token(const AuthChallenge& challenge) {
  std::string realm = challenge.param("realm");
  if (!realm.starts_with("https://") && !realm.starts_with("http://"))
    fail_at(name(), "token realm is not an http(s) URL: \"" + realm + "\"");
  std::string url = realm + (realm.find('?') == std::string::npos ? "?" : "&");
  url += "service=" + url_encode(challenge.param("service"));
  std::vector<std::string> scopes = scopes_;
  if (std::string s = challenge.param("scope");
      !s.empty() && std::find(scopes.begin(), scopes.end(), s) == scopes.end())
    scopes.push_back(s);
  for (auto& s : scopes) url += "&scope=" + url_encode(s);
  HttpRequest request("GET", url);
  if (credentials_) request.authorization = basic_authorization(*credentials_);
  HttpResponse response;
  try {
    response = http_.send(request);
  } catch (const HttpTransportError& e) {
    fail_at(name(), std::string("token server: ") + e.what());
  }
  if (response.status != 200) {
    std::string who = credentials_ ? " (credentials for " + ref_.host + " were rejected)" : "";
    fail_at(name(), "token server " + realm + ": " + describe_error_response(response) + who);
  }
  auto body = nlohmann::json::parse(response.body, nullptr, false);
  for (const char* key : {"token", "access_token"})
    if (body.is_object() && body.contains(key) && body[key].is_string() &&
        !body[key].get<std::string>().empty())
      return "Bearer " + body[key].get<std::string>();
  fail_at(name(), "token server " + realm + ": response has no token");
}

// Called with mu_ held. `fresh` is the challenge of a 401 just received.
std::string RegistryClient::authorization_for(const std::optional<AuthChallenge>& fresh) {
  if (fresh) challenge_ = fresh;
  if (!challenge_) return {};
  if (challenge_->scheme == "basic") return credentials_ ? basic_authorization(*credentials_) : "";
  if (challenge_->scheme == "bearer") return fetch_token(*challenge_);
  fail_at(name(), "unsupported authentication scheme \"" + challenge_->scheme + "\"");
}

HttpResponse RegistryClient::send(HttpRequest request, Writer* out) {
  request.url = absolute(request.url);
  std::string sent;
  {
    std::lock_guard lock(mu_);
    if (authorization_.empty() && challenge_) authorization_ = authorization_for(std::nullopt);
    sent = authorization_;
  }
  request.authorization = sent;
  HttpResponse response = http_.send(request, out);
  if (response.status != 401) return response;

  std::optional<AuthChallenge> fresh;
  for (auto& c : parse_www_authenticate(response.header("www-authenticate")))
    if (c.scheme == "bearer" || (c.scheme == "basic" && !fresh)) fresh = c;
  {
    std::lock_guard lock(mu_);
    // Another thread may have refreshed the token meanwhile; else fetch one.
    if (authorization_ == sent) authorization_ = authorization_for(fresh);
    if (authorization_.empty() || (authorization_ == sent && fresh && fresh->scheme == "basic"))
      return response;  // nothing new to offer: the caller reports the 401
    request.authorization = authorization_;
  }
  return http_.send(request, out);
}

void RegistryClient::fail_response(const std::string& what, const HttpResponse& response) const {
  std::string message = (what.empty() ? "" : what + ": ") + describe_error_response(response);
  if (response.status == 401 || response.status == 403)
    message += credentials_ ? " (credentials for " + ref_.host + " were rejected)"
                            : credentials_warning_.empty()
                                  ? " (no credentials for " + ref_.host + ": pass --creds or --authfile)"
                                  : " (" + credentials_warning_ + ")";
  fail_at(name(), message);
}

}  // namespace slimage::registry
