// The docker:// transport: images in a registry speaking the OCI distribution
// API (https://github.com/opencontainers/distribution-spec/blob/main/spec.md).
// A Source pulls the root manifest and streams blobs; a Sink pushes blobs as
// they come and publishes the tag last, in commit().
#pragma once
#include <memory>
#include <string>

#include "slimage/image/image.h"

namespace slimage::registry {

// A parsed docker:// reference.
struct RegistryRef {
  std::string host;  // as written, for config lookup and messages: "127.0.0.1:5000", "docker.io"
  std::string repository;        // "library/alpine"
  std::string tag;               // set unless a digest was given
  std::string digest;            // "sha256:…" for "@sha256:…"
  std::string api_host() const;  // "docker.io" -> "registry-1.docker.io"
  std::string reference() const { return digest.empty() ? tag : digest; }
  std::string to_string() const;  // "docker://127.0.0.1:5000/app:1"
};

// From ImageRef{Docker, "HOST[:PORT]/REPO", "TAG" | "@sha256:…" | ""}; a path
// without a host is taken as Docker Hub, an empty ref as "latest".
RegistryRef parse_registry_ref(const ImageRef& ref);

// A host that is this machine: https failures fall back to http, as docker does.
bool is_local_host(std::string_view host);

std::unique_ptr<Source> open_registry_source(const ImageRef& ref, const TransportOptions& options);
std::unique_ptr<Sink> open_registry_sink(const ImageRef& ref, const TransportOptions& options);

// If `sink` pushes to a registry and `source` is a repository on that same
// registry, blobs the sink lacks are mounted from the source repository
// (POST …/blobs/uploads/?mount=&from=) instead of uploaded. Otherwise a no-op.
void enable_cross_repo_mount(Sink& sink, const ImageRef& source);

}  // namespace slimage::registry
