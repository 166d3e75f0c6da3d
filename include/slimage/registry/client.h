// One repository's session with a registry: picks https or http, answers 401
// challenges (Basic, or Bearer tokens fetched from the realm with the needed
// scope), and turns the registry's JSON error bodies into messages.
// Spec: https://github.com/opencontainers/distribution-spec/blob/main/spec.md
#pragma once
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "slimage/image/image.h"
#include "slimage/registry/auth.h"
#include "slimage/registry/http.h"
#include "slimage/registry/registry.h"

namespace slimage::registry {

// The registry's errors as sent: {"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest
// unknown"}]} -> "manifest unknown: manifest unknown" (as docker and skopeo print them);
// else "HTTP 404 Not Found".
std::string describe_error_response(const HttpResponse& response);

class RegistryClient {
 public:
  // `push` asks for pull,push token scope on the repository.
  RegistryClient(RegistryRef ref, const TransportOptions& options, bool push);

  const RegistryRef& ref() const { return ref_; }
  std::string name() const { return ref_.to_string(); }

  // Sends `request` whose url is a path ("/v2/<repo>/…", with query) or an
  // absolute URL the registry gave (an upload Location). Adds credentials and
  // retries once after a 401 with fresh ones. Returns any final status.
  HttpResponse send(HttpRequest request, Writer* out = nullptr);

  // Throws Error("<name>: <what>: <registry's error>"), e.g. "…: manifest
  // unknown: manifest unknown"; a 401/403 says whether credentials were sent.
  [[noreturn]] void fail_response(const std::string& what, const HttpResponse& response) const;

  // Also asks token servers for pull access to `repository` (for cross-repo mounts).
  void add_pull_scope(const std::string& repository);

  // "/v2/<repo>/<kind>/<reference>"
  std::string path(const std::string& kind, const std::string& reference) const;
  std::string base_url();  // "https://host:port" once the scheme is settled

 private:
  void settle_scheme();
  std::string authorization_for(const std::optional<AuthChallenge>& fresh_challenge);
  std::string fetch_token(const AuthChallenge& challenge);
  std::string absolute(const std::string& url_or_path);

  RegistryRef ref_;
  TransportOptions options_;
  HttpClient http_;
  std::optional<Credentials> credentials_;
  std::string credentials_warning_;  // e.g. credential helpers found but not supported
  std::vector<std::string> scopes_;

  std::mutex mu_;       // guards what follows: blobs are transferred in parallel
  std::string scheme_;  // "https" or "http" once settled
  std::optional<AuthChallenge> challenge_;  // from the last 401
  std::string authorization_;               // current header value, "" if none
};

}  // namespace slimage::registry
