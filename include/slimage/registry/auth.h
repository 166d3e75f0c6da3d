// Registry authentication: WWW-Authenticate challenges (RFC 7235; Bearer as in
// https://distribution.github.io/distribution/spec/auth/token/), Basic
// credentials, and where credentials come from: --creds, --authfile, or the
// docker/podman config files ("auths": {"host:port": {"auth": base64(user:pass)}}).
// Credential helpers ("credHelpers", "credsStore") run external programs and
// are not supported. Nothing here ever puts a secret into a message.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace slimage::registry {

struct Credentials {
  std::string username;
  std::string password;
  bool empty() const { return username.empty() && password.empty(); }
};

struct AuthChallenge {
  std::string scheme;                         // lower-cased: "bearer", "basic"
  std::map<std::string, std::string> params;  // names lower-cased: realm, service, scope…
  std::string param(const std::string& name) const;
};

// Parses a WWW-Authenticate value, which may hold several challenges:
//   Bearer realm="https://auth/token",service="reg",scope="repository:a:pull"
// Quoted strings may contain commas and backslash escapes. Garbage is skipped.
std::vector<AuthChallenge> parse_www_authenticate(std::string_view header);

std::string base64_encode(std::string_view bytes);
// Standard alphabet, padding optional; nullopt on an invalid character.
std::optional<std::string> base64_decode(std::string_view text);

// "Basic base64(user:pass)"
std::string basic_authorization(const Credentials& creds);

// "USER:PASS" (password may contain ':'); throws Error without echoing the text.
Credentials parse_creds_option(std::string_view text);

// The registry host as config files name it: "docker.io" is also looked up as
// "https://index.docker.io/v1/", and keys may carry a scheme or a path.
std::string normalize_registry_key(std::string_view key);

// Looks `registry` (host[:port]) up in a docker config.json's text. `where`
// names the file in errors (bad JSON, bad base64). If the file routes this
// registry through a credential helper ("credHelpers"/"credsStore") and has no
// plain entry, returns nullopt and sets *warning to say helpers are unsupported:
// an anonymous pull may still work.
std::optional<Credentials> credentials_from_docker_config(std::string_view json_text,
                                                          std::string_view registry,
                                                          const std::string& where,
                                                          std::string* warning = nullptr);

// Credentials for `registry`: --creds if given; else --authfile if given (it must
// exist); else the first of $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json,
// $DOCKER_CONFIG/config.json or ~/.docker/config.json that has an entry.
// Warnings (credential helpers) go to *warning, for the caller to log.
std::optional<Credentials> find_credentials(std::string_view registry, const std::string& creds,
                                            const std::string& authfile,
                                            std::string* warning = nullptr);

}  // namespace slimage::registry
