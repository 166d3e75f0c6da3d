// OCI image layout sources: a directory ("oci:DIR[:REF]") or the same layout
// as an uncompressed tar ("oci-archive:FILE[:REF]"), read in place.
// Quirks: REF matches index.json's org.opencontainers.image.ref.name
// annotation; with no REF the layout must hold exactly one entry (referrers,
// entries with an artifactType, aside); the
// root is that entry's blob (an index or a manifest). Blobs live at
// blobs/<alg>/<hex> and every read is verified against its descriptor.
// Spec: https://github.com/opencontainers/image-spec/blob/main/image-layout.md
#include <sys/stat.h>

#include <string>

#include "archive_files.h"
#include "slimage/image/image.h"
#include "slimage/image/referrer.h"
#include "slimage/util/error.h"
#include "slimage/util/file.h"
#include "slimage/util/hash.h"

namespace slimage {

namespace {


// The files of a layout, wherever they are stored.
class LayoutFiles {
 public:
  virtual ~LayoutFiles() = default;
  // nullptr if the file is absent.
  virtual std::unique_ptr<Reader> open(const std::string& path) = 0;
  virtual std::string local_path(const std::string& path) { return {}; }
};

class DirFiles : public LayoutFiles {
 public:
  explicit DirFiles(std::string dir) : dir_(std::move(dir)) {}
  std::unique_ptr<Reader> open(const std::string& path) override {
    std::string full = local_path(path);
    if (full.empty()) return nullptr;
    return std::make_unique<FileReader>(full);
  }
  std::string local_path(const std::string& path) override {
    std::string full = dir_ + "/" + path;
    struct stat st;
    if (::stat(full.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return {};
    return full;
  }

 private:
  std::string dir_;
};

class ArchiveFiles : public LayoutFiles {
 public:
  explicit ArchiveFiles(const std::string& file) : index_(file) {}
  std::unique_ptr<Reader> open(const std::string& path) override {
    const TarIndex::Member* m = index_.find(path);
    return m ? index_.open(*m) : nullptr;
  }

 private:
  TarIndex index_;
};

std::string blob_file(const std::string& digest) {
  auto colon = digest.find(':');
  return "blobs/" + digest.substr(0, colon) + "/" + digest.substr(colon + 1);
}

class OciSource : public Source, public LayoutSource {
 public:
  OciSource(std::string name, std::unique_ptr<LayoutFiles> files, const std::string& ref)
      : name_(std::move(name)), files_(std::move(files)) {
    auto layout = files_->open("oci-layout");
    if (!layout) fail(name_ + ": not an OCI image layout (no oci-layout file)");
    auto layout_json = parse_json_object(read_all(*layout, 1 << 16), name_ + ": oci-layout");
    auto version = layout_json.find("imageLayoutVersion");
    if (version == layout_json.end() || !version->is_string())
      fail(name_ + ": oci-layout has no imageLayoutVersion");
    auto index_file = files_->open("index.json");
    if (!index_file) fail(name_ + ": no index.json");
    index_bytes_ = read_all(*index_file, kMaxJsonDocumentBytes);
    ParsedIndex index = parse_index_json(index_bytes_, name_ + ": index.json");
    root_descriptor_ = select(index.manifests, ref);
  }

  std::string name() const override { return name_; }
  std::string layout_index() const override { return index_bytes_; }

  RootManifest root() override {
    const Descriptor& d = root_descriptor_;
    if (!media_type::is_index(d.media_type) && !media_type::is_manifest(d.media_type))
      fail(name_ + ": index.json entry " + short_digest(d.digest) + " has media type \"" +
           d.media_type + "\", not an image index or manifest");
    return {read_blob(d), d.media_type, d.digest};
  }

  std::unique_ptr<Reader> open_blob(const Descriptor& d) override {
    std::string what = name_ + ": blob " + short_digest(d.digest);
    if (!is_valid_digest(d.digest)) fail(name_ + ": invalid digest \"" + d.digest + "\"");
    auto in = files_->open(blob_file(d.digest));
    if (!in) fail(what + ": missing");
    return std::make_unique<VerifyingReader>(std::move(in), what, d.digest, d.size);
  }

  std::string blob_path(const Descriptor& d) override {
    if (!is_valid_digest(d.digest)) return {};
    std::string path = files_->local_path(blob_file(d.digest));
    struct stat st;
    if (path.empty() || ::stat(path.c_str(), &st) != 0 || st.st_size != d.size) return {};
    return path;
  }

 private:
  Descriptor select(const std::vector<Descriptor>& entries, const std::string& ref) {
    std::vector<std::string> refs;
    for (auto& d : entries) {
      std::string name = ref_name(d);
      if (!ref.empty() && name == ref) return d;
      if (!name.empty()) refs.push_back(name);
    }
    // With no REF, the one image: referrers listed beside it (artifactType
    // set, no ref name) are about it, not candidates.
    std::vector<const Descriptor*> images;
    for (auto& d : entries)
      if (!d.extra.contains("artifactType") || !ref_name(d).empty()) images.push_back(&d);
    if (ref.empty() && images.size() == 1) return *images[0];
    std::string list;
    for (auto& r : refs) list += (list.empty() ? "" : ", ") + r;
    if (ref.empty())
      fail(name_ + ": index.json has " + std::to_string(entries.size()) +
           " entries; name one with :REF (available: " + (list.empty() ? "none" : list) + ")");
    fail(name_ + ": no image named \"" + ref + "\" (available: " + (list.empty() ? "none" : list) +
         ")");
  }

  static std::string ref_name(const Descriptor& d) {
    auto a = d.extra.find("annotations");
    if (a == d.extra.end() || !a->is_object()) return {};
    auto r = a->find(std::string(kRefNameAnnotation));
    return r != a->end() && r->is_string() ? r->get<std::string>() : std::string();
  }

  std::string name_;
  std::unique_ptr<LayoutFiles> files_;
  std::string index_bytes_;
  Descriptor root_descriptor_;
};

std::string display_name(const char* transport, const std::string& path, const std::string& ref) {
  return std::string(transport) + path + (ref.empty() ? "" : ":" + ref);
}

}  // namespace

std::unique_ptr<Source> open_oci_source(const std::string& dir, const std::string& ref) {
  std::string name = display_name("oci:", dir, ref);
  if (!is_directory(dir)) fail(name + ": not a directory");
  return std::make_unique<OciSource>(name, std::make_unique<DirFiles>(dir), ref);
}

std::unique_ptr<Source> open_oci_archive_source(const std::string& file, const std::string& ref) {
  std::string name = display_name("oci-archive:", file, ref);
  std::unique_ptr<LayoutFiles> files;
  try {
    files = std::make_unique<ArchiveFiles>(file);
  } catch (const Error& e) {
    fail(name + ": " + e.what());
  }
  return std::make_unique<OciSource>(name, std::move(files), ref);
}

}  // namespace slimage
