// The new config and manifest for a rewritten image: diff_ids recomputed,
// history kept aligned with the layers (an emptied layer's entry becomes
// empty_layer, squash folds them all) plus one entry naming slimage and the
// profile; a Docker manifest becomes an OCI one when zstd is asked for
// (schema 2 has no zstd media type).
#pragma once
#include <map>
#include <string>
#include <vector>

#include "slimage/image/image.h"
#include "slimage/rewrite/layer_writer.h"

namespace slimage {

struct RewrittenImage {
  std::string config_bytes, manifest_bytes;
  Descriptor config, manifest;
  std::vector<Descriptor> layers;
};

// Whether the output should use Docker media types: the source manifest is
// Docker's and the compression can be expressed in it.
bool use_docker_media_types(const ImageManifest& image, Compression compression);

// `annotations` are set on the new manifest (over the input's own).
RewrittenImage rewrite_image(const ImageManifest& image, const std::vector<LayerOutput>& layers,
                             const WriteOptions& options, const std::string& created_by,
                             const std::map<std::string, std::string>& annotations = {});

// RFC 3339 UTC ("2024-01-02T03:04:05Z").
std::string rfc3339(int64_t seconds);

}  // namespace slimage
