// What a slimmed image says about where it came from and what was done to it:
// annotations for the new manifest and the one-line history entry.
//  - org.opencontainers.image.base.digest: the input manifest; base.name: its
//    registry repository, without the tag, so that one image under several
//    tags slims to one digest (a local layout's path is no reference, and
//    would make the output's digest depend on where the input lay);
//  - io.slimage.version / profile / options (only options that change the
//    output: never credentials, paths, --jobs or scratch, so the digest stays
//    deterministic) / removed (bytes and files removed by reason, JSON).
// Spec: image-spec annotations.md ("Pre-Defined Annotation Keys").
#pragma once
#include <map>
#include <string>

#include "slimage/slim/options.h"
#include "slimage/image/image.h"
#include "slimage/plan/plan.h"

namespace slimage {

struct Provenance {
  std::map<std::string, std::string> annotations;
  // "slimage: removed 1.9 GB: unreachable-cuda 31 files (1.8 GB), …; stripped 12 files (-3.1 MB)"
  std::string created_by;
};

Provenance describe_slim(const ImageManifest& input, const ImageRef& source, const Plan& plan,
                         const SlimOptions& options);

// The options of `options` that change the output, as a canonical command-line
// tail ("--layers squash --drop '/junk/**' --force"); "" if none.
std::string output_options(const SlimOptions& options);

}  // namespace slimage
