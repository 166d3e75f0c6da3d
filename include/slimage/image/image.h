// The OCI image model and the transports' common interface.
// Words as in the image spec: a blob's `digest` hashes its stored
// (compressed) bytes; a layer's `diff_id` hashes its uncompressed tar.
// Specs: https://github.com/opencontainers/image-spec (manifest.md,
// image-index.md, config.md, image-layout.md) and Docker's image manifest
// v2 schema 2, whose media types are accepted everywhere an OCI one is.
#pragma once
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "slimage/util/io.h"

namespace slimage {

// The largest index, manifest, config or manifest.json read into memory:
// real ones are kilobytes; anything near this is hostile.
constexpr uint64_t kMaxJsonDocumentBytes = 16u << 20;

namespace media_type {
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kOciLayer = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view kOciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view kOciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr std::string_view kDockerManifestList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerConfig = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view kDockerLayer = "application/vnd.docker.image.rootfs.diff.tar";
inline constexpr std::string_view kDockerLayerGzip =
    "application/vnd.docker.image.rootfs.diff.tar.gzip";
bool is_index(std::string_view mt);
bool is_manifest(std::string_view mt);
bool is_layer(std::string_view mt);  // any tar layer type, OCI or Docker, any compression
}  // namespace media_type

// Whiteouts in a layer tar (image-spec layer.md): `.wh.NAME` deletes NAME of
// the layers below, `.wh..wh..opq` empties its directory of them.
inline constexpr std::string_view kWhiteoutPrefix = ".wh.";
inline constexpr std::string_view kOpaqueWhiteout = ".wh..wh..opq";

struct Descriptor {
  std::string media_type;
  std::string digest;
  int64_t size = 0;
  nlohmann::json extra = nlohmann::json::object();  // annotations, platform, urls…: kept as given
  nlohmann::json to_json() const;
  // Throws Error("<where>: …") on a missing/ill-typed field or an invalid digest.
  static Descriptor from_json(const nlohmann::json& j, const std::string& where);
};

struct Platform {
  std::string os, architecture, variant;
  std::string to_string() const;  // "linux/arm64/v8"
  static Platform parse(std::string_view s);  // "linux/amd64", "linux/arm64/v8"
  bool matches(const Platform& want) const;  // empty fields of `want` match anything
};

// The manifest or index a reference points at.
struct RootManifest {
  std::string bytes;
  std::string media_type;
  std::string digest;  // sha256 of bytes
};

// One platform's image, parsed and verified.
struct ImageManifest {
  Descriptor descriptor;     // of the manifest blob (from the index, or synthesized)
  nlohmann::json manifest;
  Descriptor config_descriptor;
  nlohmann::json config;
  std::vector<Descriptor> layers;
  std::vector<std::string> diff_ids;  // config rootfs.diff_ids, same length as layers
  Platform platform;                  // from the index entry, else from the config
  std::string manifest_bytes;         // the manifest blob as stored
};

// index.json's tag annotation (image-layout.md).
inline constexpr std::string_view kRefNameAnnotation = "org.opencontainers.image.ref.name";

// Parsing of untrusted JSON documents (also the fuzzer's entry points). Each
// throws Error("<where>: …") on bad JSON, nesting deeper than 64, a wrong
// mediaType, or a missing/ill-typed field; a hostile input never crashes.
nlohmann::json parse_json_object(std::string_view bytes, const std::string& where);
struct ParsedIndex {
  nlohmann::json json;
  std::vector<Descriptor> manifests;
};
ParsedIndex parse_index_json(std::string_view bytes, const std::string& where);
struct ParsedManifest {
  nlohmann::json json;
  Descriptor config;
  std::vector<Descriptor> layers;
};
ParsedManifest parse_manifest_json(std::string_view bytes, const std::string& where);
struct ParsedConfig {
  nlohmann::json json;
  std::vector<std::string> diff_ids;
  Platform platform;  // os/architecture/variant of the config
};
ParsedConfig parse_config_json(std::string_view bytes, const std::string& where);
// An index entry's platform ("platform" object), if it has one.
std::optional<Platform> descriptor_platform(const Descriptor& d, const std::string& where);
// BuildKit attestation manifests (platform unknown/unknown, or annotation
// vnd.docker.reference.type=attestation-manifest): never images to rewrite.
bool is_attestation(const Descriptor& d);

enum class Transport { Oci, OciArchive, DockerArchive, Docker };

// skopeo's syntax: "oci:DIR[:REF]", "oci-archive:FILE[:REF]",
// "docker-archive:FILE[:REF]", "docker://HOST[:PORT]/REPO[:TAG|@DIGEST]", or a
// bare path: an existing directory with an oci-layout file -> oci; an
// existing file -> docker-archive if it holds manifest.json, else oci-archive;
// a path that does not exist -> oci-archive if it ends in ".tar", else oci.
struct ImageRef {
  Transport transport = Transport::Oci;
  std::string path;  // DIR or FILE; for docker: "HOST[:PORT]/REPO"
  std::string ref;   // tag / ref name / "@sha256:…"; may be empty
  std::string to_string() const;
};
ImageRef parse_image_ref(std::string_view text);
// Why `ref` cannot name an output (empty if it can): its transport's grammar
// (OCI ref.name annotation; distribution's repository and tag). For every
// verb that writes, before anything is read.
std::string output_ref_problem(const ImageRef& ref);
std::string output_ref_problem(std::string_view text);  // the same, naming `text`

class Source {
 public:
  virtual ~Source() = default;
  virtual std::string name() const = 0;  // for messages: "oci:/x/img:latest"
  virtual RootManifest root() = 0;
  // Streams a blob, verified against d.digest and d.size: a mismatch throws
  // Error("blob sha256:ab12…: digest mismatch …") when the end is read.
  virtual std::unique_ptr<Reader> open_blob(const Descriptor& d) = 0;
  // A local file holding exactly the blob's bytes, if the source has one
  // (lets a pass-through layer be copied without a stream). "" otherwise.
  virtual std::string blob_path(const Descriptor& d) { return {}; }
  // Reads a small blob (manifest, config) whole and verified; at most 16 MiB.
  std::string read_blob(const Descriptor& d);
};

// Nothing a Sink writes is visible at the destination until commit(); a Sink
// destroyed without commit() removes everything it wrote.
class Sink {
 public:
  virtual ~Sink() = default;
  virtual std::string name() const = 0;
  virtual bool has_blob(const std::string& digest) = 0;
  // Adds a blob from a local file staged by the caller (moved in if possible).
  virtual void put_blob_file(const Descriptor& d, const std::string& path) = 0;
  // A directory on the destination's filesystem (removed with the sink
  // unless committed) where a caller may stage a blob for put_blob_file to
  // link into place; "" where the destination has none (a registry).
  virtual std::string staging_dir() const { return {}; }
  // Adds a blob from a stream (pass-through from a Source); verified.
  virtual void put_blob_stream(const Descriptor& d, Reader& in) = 0;
  void put_blob_bytes(const Descriptor& d, std::string_view bytes);
  // Publishes `root` (an index or a manifest whose blobs were all put) under
  // the destination's ref, atomically.
  virtual void commit(const RootManifest& root) = 0;
};

struct TransportOptions {
  std::string creds;         // "USER:PASS" (docker://)
  std::string authfile;      // docker config.json path
  bool tls_verify = true;
  std::string ca_file;
  std::string cert_dir;      // skopeo's --cert-dir: every *.crt in it is a trusted CA
  unsigned jobs = 0;
};

// Factories (defined in src/registry/transport.cpp, which sees every transport).
std::unique_ptr<Source> open_source(const ImageRef& ref, const TransportOptions& options);
std::unique_ptr<Sink> open_sink(const ImageRef& ref, const TransportOptions& options);

// File transports (src/image/).
std::unique_ptr<Source> open_oci_source(const std::string& dir, const std::string& ref);
std::unique_ptr<Source> open_oci_archive_source(const std::string& file, const std::string& ref);
std::unique_ptr<Source> open_docker_archive_source(const std::string& file, const std::string& ref);
std::unique_ptr<Sink> open_oci_sink(const std::string& dir, const std::string& ref);
std::unique_ptr<Sink> open_oci_archive_sink(const std::string& file, const std::string& ref);
std::unique_ptr<Sink> open_docker_archive_sink(const std::string& file, const std::string& ref);

// Reads the root and, for an index, every platform's manifest matching
// `platform` (all if empty); for each, the config; checks that diff_ids and
// layers agree. Throws Error naming the source and blob on any problem.
std::vector<ImageManifest> load_images(Source& source, const std::optional<Platform>& platform);

// Builds the new root: if the source root was an index, a copy of it whose
// entries for the rewritten images point at their new manifests (entries not
// selected are dropped, annotations kept); otherwise the one manifest.
// Each pair is (source image as load_images returned it, descriptor of its new
// manifest). For a manifest root the new root's bytes are needed: the caller
// sets first.manifest_bytes to the new manifest's bytes (checked against the
// descriptor's digest). Entries of a nested index are lifted into the top one.
RootManifest make_root(const RootManifest& source_root,
                       const std::vector<std::pair<ImageManifest, Descriptor>>& rewritten);

}  // namespace slimage
