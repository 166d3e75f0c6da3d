// Image references in skopeo's syntax ("oci:DIR[:REF]", "docker://HOST/REPO:TAG"…).
// Quirks: like containers/image, the file transports split at the FIRST ':'
// after the transport, so DIR/FILE cannot contain ':' while REF can
// ("docker-archive:/t/x.tar:repo:tag"). docker:// names are normalized as
// Docker does: "alpine" -> "docker.io/library/alpine", tag "latest" by default.
// Spec: https://github.com/containers/image/blob/main/docs/containers-transports.5.md
#include <string>

#include "slimage/image/image.h"
#include "slimage/layer/tar.h"
#include "slimage/util/error.h"
#include "slimage/util/file.h"
#include "slimage/util/hash.h"

namespace slimage {

static void split_path_ref(std::string_view rest, ImageRef& out) {
  auto colon = rest.find(':');
  out.path = std::string(rest.substr(0, colon));
  if (colon != std::string_view::npos) out.ref = std::string(rest.substr(colon + 1));
}

static ImageRef parse_docker(std::string_view text, std::string_view name) {
  ImageRef r;
  r.transport = Transport::Docker;
  if (name.empty()) fail("\"" + std::string(text) + "\": no repository after docker://");
  std::string repo(name);
  if (auto at = repo.find('@'); at != std::string::npos) {
    std::string digest = repo.substr(at + 1);
    if (!is_valid_digest(digest)) fail("\"" + std::string(text) + "\": invalid digest");
    r.ref = "@" + digest;
    repo.resize(at);
    // "repo:tag@digest": the digest wins, as in docker pull.
    auto slash = repo.rfind('/');
    auto colon = repo.rfind(':');
    if (colon != std::string::npos && (slash == std::string::npos || colon > slash))
      repo.resize(colon);
  } else {
    auto slash = repo.rfind('/');
    auto colon = repo.rfind(':');
    if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
      r.ref = repo.substr(colon + 1);
      repo.resize(colon);
    }
    if (r.ref.empty()) r.ref = "latest";
  }
  auto slash = repo.find('/');
  std::string first = repo.substr(0, slash);
  bool has_host = slash != std::string::npos &&
                  (first.find('.') != std::string::npos || first.find(':') != std::string::npos ||
                   first == "localhost");
  if (!has_host) {
    if (slash == std::string::npos) repo = "library/" + repo;
    repo = "docker.io/" + repo;
  }
  if (repo.ends_with("/") || repo.find("//") != std::string::npos)
    fail("\"" + std::string(text) + "\": malformed repository name");
  r.path = repo;
  return r;
}

// A tar holding manifest.json is what `docker save` writes; anything else is
// taken for an OCI archive.
static bool tar_has_manifest_json(const std::string& file) {
  try {
    FileReader in(file);
    TarReader tar(in);
    TarEntry e;
    while (tar.next(e)) {
      std::string_view p = e.path;
      while (p.starts_with("./")) p.remove_prefix(2);
      if (p == "manifest.json") return true;
    }
  } catch (const Error&) {
  }
  return false;
}

ImageRef parse_image_ref(std::string_view text) {
  ImageRef r;
  if (text.starts_with("docker://")) return parse_docker(text, text.substr(9));
  struct Prefix {
    std::string_view prefix;
    Transport transport;
  };
  for (auto [prefix, transport] : {Prefix{"oci:", Transport::Oci},
                                   Prefix{"oci-archive:", Transport::OciArchive},
                                   Prefix{"docker-archive:", Transport::DockerArchive}}) {
    if (text.starts_with(prefix)) {
      r.transport = transport;
      split_path_ref(text.substr(prefix.size()), r);
      if (r.path.empty()) fail("\"" + std::string(text) + "\": no path after " + std::string(prefix));
      return r;
    }
  }
  if (text.empty()) fail("empty image reference");
  r.path = std::string(text);
  if (is_directory(r.path)) {
    r.transport = Transport::Oci;
  } else if (path_exists(r.path)) {
    r.transport = tar_has_manifest_json(r.path) ? Transport::DockerArchive : Transport::OciArchive;
  } else {
    r.transport = r.path.ends_with(".tar") ? Transport::OciArchive : Transport::Oci;
  }
  return r;
}

std::string ImageRef::to_string() const {
  switch (transport) {
    case Transport::Docker:
      return "docker://" + path + (ref.starts_with("@") ? ref : (ref.empty() ? "" : ":" + ref));
    case Transport::Oci:
      return "oci:" + path + (ref.empty() ? "" : ":" + ref);
    case Transport::OciArchive:
      return "oci-archive:" + path + (ref.empty() ? "" : ":" + ref);
    case Transport::DockerArchive:
      return "docker-archive:" + path + (ref.empty() ? "" : ":" + ref);
  }
  return path;
}

}  // namespace slimage
