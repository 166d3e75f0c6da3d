// What an image's config says about how it runs: Entrypoint, Cmd, Env,
// WorkingDir, User (OCI image config "config" object:
// https://github.com/opencontainers/image-spec/blob/main/config.md).
// Missing or mistyped fields read as unset.
#pragma once
#include <string>
#include <vector>

#include "slimage/image/image.h"

namespace slimage {

struct ImageRuntime {
  std::vector<std::string> entrypoint, cmd, env;  // env as "NAME=value"
  std::string working_dir;
  std::string env_value(const std::string& name) const;  // "" if unset
};

ImageRuntime runtime_of(const ImageManifest& image);
// The config's User ("" when unset).
std::string runtime_user(const ImageManifest& image);

}  // namespace slimage
