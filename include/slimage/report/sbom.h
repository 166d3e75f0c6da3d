// An SBOM of the slimmed image: SPDX 2.3 JSON or CycloneDX 1.5 JSON, built
// from plain values (the packages that stay in the image's package
// databases, the files slimage removed or changed, the image's facts) so the
// generators are unit-testable. The slim stage collects the values
// (src/slim/stages_write.cpp); the CLI writes the file after the commit.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "slimage/plan/plan.h"

namespace slimage {

enum class SbomFormat { Spdx, CycloneDx };

// "spdx" | "cyclonedx"; anything else throws Error.
SbomFormat parse_sbom_format(const std::string& word);
// From FILE's name: *.spdx.json, *.cdx.json; nullopt for any other.
std::optional<SbomFormat> sbom_format_for_path(const std::string& path);
// --sbom-format's word if given, else from FILE's name, else SPDX.
SbomFormat sbom_format_of(const std::string& format_word, const std::string& path);
// The media type an OCI artifact of the format carries (application/spdx+json,
// application/vnd.cyclonedx+json) and a file name for it ("sbom.spdx.json").
std::string sbom_media_type(SbomFormat format);
std::string sbom_file_name(SbomFormat format);

// etc/os-release (os-release(5)): ID and VERSION_ID, shell-style quoting.
struct OsRelease {
  std::string id, version_id;
};
OsRelease parse_os_release(const std::string& text);

// A file of the input that the slimmed image lacks or holds with new bytes.
struct SbomFile {
  std::string path;
  bool removed = true;  // false: changed (stripped, pruned, linked, database edited)
  std::string reason;   // the reason kind: "unreachable-cuda", "stripped", …
};

struct SbomImage {
  std::string name;             // the destination, as the sink names it
  std::string manifest_digest;  // of the slimmed image
  std::string platform;         // "linux/amd64"
  OsRelease os;
  std::vector<InstalledPackage> packages;
  std::vector<SbomFile> files;  // by path
};

struct SbomDocument {
  std::vector<SbomImage> images;  // one per platform
  std::string root_digest;        // the committed root manifest or index
  std::string created;            // RFC 3339, seconds, UTC: "2024-01-02T03:04:05Z"
  std::string tool_version;
};

// SOURCE_DATE_EPOCH when set, else the image's created time cut to seconds,
// else the epoch: no run-to-run difference.
std::string sbom_created(std::optional<int64_t> source_date_epoch, const std::string& image_created);

// pkg:deb/debian/NAME@VERSION?arch=ARCH&distro=debian-12, pkg:apk/alpine/…,
// pkg:pypi/NORMALIZED@VERSION (https://github.com/package-url/purl-spec).
std::string package_url(const InstalledPackage& package, const OsRelease& os);

nlohmann::json spdx_json(const SbomDocument& document);
nlohmann::json cyclonedx_json(const SbomDocument& document);
std::string render_sbom(const SbomDocument& document, SbomFormat format);

}  // namespace slimage
