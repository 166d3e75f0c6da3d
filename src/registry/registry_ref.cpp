// docker:// references split into registry host, repository and tag/digest
// (see include/slimage/registry/registry.h). Docker Hub's quirks: "docker.io"
// is the name in references and config files, but its API lives at
// registry-1.docker.io, and one-component names live under "library/".
// Grammar: https://github.com/distribution/reference/blob/main/reference.go
#include <string>

#include "slimage/registry/registry.h"
#include "slimage/util/error.h"
#include "slimage/util/hash.h"

namespace slimage::registry {

namespace {

bool looks_like_host(std::string_view component) {
  return component.find('.') != std::string_view::npos ||
         component.find(':') != std::string_view::npos || component == "localhost";
}

bool valid_repository(std::string_view repo) {
  if (repo.empty() || repo.front() == '/' || repo.back() == '/') return false;
  for (char c : repo)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '/' || c == '.' || c == '_' ||
          c == '-'))
      return false;
  return repo.find("//") == std::string_view::npos;
}

}  // namespace

std::string RegistryRef::api_host() const {
  return host == "docker.io" ? "registry-1.docker.io" : host;
}

std::string RegistryRef::to_string() const {
  return "docker://" + host + "/" + repository + (digest.empty() ? ":" + tag : "@" + digest);
}

RegistryRef parse_registry_ref(const ImageRef& image_ref) {
  RegistryRef out;
  std::string_view path = image_ref.path;
  auto slash = path.find('/');
  if (slash != std::string_view::npos && looks_like_host(path.substr(0, slash))) {
    out.host = std::string(path.substr(0, slash));
    out.repository = std::string(path.substr(slash + 1));
  } else {
    out.host = "docker.io";
    out.repository = std::string(path);
  }
  if (out.host == "index.docker.io" || out.host == "registry-1.docker.io") out.host = "docker.io";
  if (out.host == "docker.io" && out.repository.find('/') == std::string::npos)
    out.repository = "library/" + out.repository;
  if (!valid_repository(out.repository))
    fail(image_ref.to_string() + ": invalid repository name \"" + out.repository +
         "\" (lower-case letters, digits, '.', '_', '-', '/')");
  if (image_ref.ref.starts_with("@")) {
    out.digest = image_ref.ref.substr(1);
    if (!is_valid_digest(out.digest)) fail(image_ref.to_string() + ": invalid digest");
  } else {
    out.tag = image_ref.ref.empty() ? "latest" : image_ref.ref;
    for (char c : out.tag)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-'))
        fail(image_ref.to_string() + ": invalid tag \"" + out.tag + "\"");
    if (out.tag.size() > 128) fail(image_ref.to_string() + ": tag longer than 128 characters");
  }
  return out;
}

bool is_local_host(std::string_view host) {
  if (host.starts_with("[")) {  // "[::1]:5000"
    return host.starts_with("[::1]");
  }
  host = host.substr(0, host.find(':'));
  if (host == "localhost") return true;
  // 127.0.0.0/8, written as an address (not a name like "127.example.com").
  return host.starts_with("127.") &&
         host.find_first_not_of("0123456789.") == std::string_view::npos;
}

}  // namespace slimage::registry
