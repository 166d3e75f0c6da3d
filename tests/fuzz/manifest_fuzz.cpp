// libFuzzer target: untrusted bytes as an image index, manifest and config,
// through the same validators load_images uses, then make_root over them as
// an index root. Any outcome but slimage::Error is a bug.
// Spec: https://github.com/opencontainers/image-spec (manifest.md, image-index.md, config.md)
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "slimage/image/image.h"
#include "slimage/util/error.h"
#include "slimage/util/hash.h"

using namespace slimage;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    ParsedIndex index = parse_index_json(bytes, "fuzz");
    for (auto& d : index.manifests) {
      (void)is_attestation(d);
      (void)descriptor_platform(d, "fuzz");
      if (Descriptor::from_json(d.to_json(), "fuzz").digest != d.digest) __builtin_trap();
    }
    if (!index.manifests.empty()) {
      ImageManifest image;
      image.descriptor = index.manifests[0];
      Descriptor fresh{std::string(media_type::kOciManifest), sha256_digest("x"), 1};
      RootManifest root{std::string(bytes), std::string(media_type::kOciIndex), sha256_digest(bytes)};
      (void)make_root(root, {{image, fresh}});
    }
  } catch (const Error&) {
  }
  try {
    ParsedManifest m = parse_manifest_json(bytes, "fuzz");
    (void)m.config.to_json();
  } catch (const Error&) {
  }
  try {
    ParsedConfig c = parse_config_json(bytes, "fuzz");
    (void)c.platform.to_string();
  } catch (const Error&) {
  }
  try {
    (void)Platform::parse(bytes);
    (void)parse_image_ref(bytes.substr(0, 256).starts_with("docker://") ? bytes.substr(0, 256)
                                                                          : std::string_view("oci:x"));
  } catch (const Error&) {
  }
  return 0;
}
