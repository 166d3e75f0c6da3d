// The docker:// Sink: pushes blobs as they come, and manifests then the tag at commit.
// Spec: https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pushing-blobs
// Atomicity: a registry has no transactions. What we can promise is that the
// tag (the only name a user sees) moves last, in commit(), after every blob
// and child manifest is in place; a run that fails before commit leaves only
// unreferenced blobs, which the registry's garbage collector removes (most
// registries refuse DELETE, so we do not try).
// Quirks: a manifest is not a blob to a registry: child manifests the caller
// "puts as blobs" are held and PUT to /manifests/<digest> at commit, images
// before indexes, because a registry checks that an index's entries exist.
// Referrers (an SBOM about the image) are PUT by digest before the tag moves;
// a registry that answers without `OCI-Subject` has no referrers API, so the
// referrer is also listed in the referrers tag schema's index, tag
// `sha256-<hex>` of the subject (distribution-spec 1.1, "Pushing Manifests
// with Subject"): read, the entry added, written back (created on 404).
#include <algorithm>
#include <mutex>

#include "slimage/image/referrer.h"
#include "slimage/registry/client.h"
#include "slimage/util/file.h"
#include "slimage/util/hash.h"

namespace slimage::registry {

namespace {

constexpr size_t kChunkSize = 16 << 20;  // also the largest monolithic upload


// Fills `chunk` with up to kChunkSize bytes; false if nothing was left.
bool read_chunk(Reader& in, std::string& chunk) {
  chunk.resize(kChunkSize);
  size_t got = 0;
  while (got < chunk.size()) {
    size_t k = in.read(chunk.data() + got, chunk.size() - got);
    if (k == 0) break;
    got += k;
  }
  chunk.resize(got);
  return got > 0;
}

std::string with_query(const std::string& url, const std::string& query) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + query;
}

bool is_manifest_type(std::string_view mt) {
  return media_type::is_manifest(mt) || media_type::is_index(mt);
}

class RegistrySink : public Sink, public ReferrerSink {
 public:
  RegistrySink(RegistryRef ref, const TransportOptions& options)
      : client_(std::move(ref), options, /*push=*/true) {}

  std::string name() const override { return client_.name(); }
  RegistryClient& client() { return client_; }

  void set_mount_source(const std::string& repository) {
    mount_from_ = repository;
    client_.add_pull_scope(repository);
  }

  bool has_blob(const std::string& digest) override {
    {
      std::lock_guard lock(mu_);
      for (auto& [d, bytes] : manifests_)
        if (d.digest == digest) return true;
    }
    HttpResponse response = send(HttpRequest("HEAD", client_.path("blobs", digest)));
    if (response.status == 200) return true;
    if (response.status == 404) return false;
    client_.fail_response("blob " + short_digest(digest), response);
  }

  void put_blob_file(const Descriptor& d, const std::string& path) override {
    FileReader in(path);
    put_blob_stream(d, in);
  }

  void put_blob_stream(const Descriptor& d, Reader& in) override {
    std::string what = "blob " + short_digest(d.digest);
    if (!is_valid_digest(d.digest)) fail(name() + ": " + what + ": invalid digest");
    VerifyingReader verified(std::make_unique<BorrowedReader>(in), name() + ": " + what, d.digest,
                             d.size);
    if (is_manifest_type(d.media_type)) {
      std::string bytes = read_all(verified, kMaxJsonDocumentBytes);
      std::lock_guard lock(mu_);
      manifests_.emplace_back(d, std::move(bytes));
      return;
    }
    if (has_blob(d.digest)) return;
    std::string location = start_upload(d.digest, what);
    if (location.empty()) return;  // mounted from the source repository
    upload(location, verified, d.digest, what);
  }

  void put_referrer(const Descriptor& manifest, const std::string& bytes, const std::string& subject) override {
    std::lock_guard lock(mu_);
    referrers_.push_back({manifest, bytes, subject});
  }

  void commit(const RootManifest& root) override {
    std::vector<std::pair<Descriptor, std::string>> manifests;
    {
      std::lock_guard lock(mu_);
      manifests = manifests_;
    }
    std::stable_sort(manifests.begin(), manifests.end(), [](auto& a, auto& b) {
      return media_type::is_manifest(a.first.media_type) &&
             !media_type::is_manifest(b.first.media_type);
    });
    for (auto& [d, bytes] : manifests)
      if (d.digest != root.digest) put_manifest(d.digest, d.media_type, bytes);
    if (!referrers_.empty()) {
      put_manifest(root.digest, root.media_type, root.bytes);  // a subject, when the root is the image
      for (auto& r : referrers_) push_referrer(r);
    }
    // Last: the tag moves only once everything it names is in place.
    const RegistryRef& ref = client_.ref();
    if (!ref.digest.empty() && ref.digest != root.digest)
      fail(name() + ": the manifest's digest is " + root.digest + ", not the one named");
    put_manifest(ref.reference(), root.media_type, root.bytes);
    note_output_committed(name());
  }

 private:
  HttpResponse send(HttpRequest request) {
    try {
      return client_.send(std::move(request));
    } catch (const HttpTransportError& e) {
      fail(name() + ": " + e.what());
    }
  }

  // POST …/uploads/ (with ?mount= when a source repository is known).
  // Returns the upload's Location, or "" if the blob was mounted.
  std::string start_upload(const std::string& digest, const std::string& what) {
    std::string url = client_.path("blobs", "uploads/");
    if (!mount_from_.empty())
      url += "?mount=" + url_encode(digest) + "&from=" + url_encode(mount_from_);
    HttpResponse response = send(HttpRequest("POST", url));
    if (response.status == 201 && !mount_from_.empty()) return "";
    if (response.status != 202 || response.header("location").empty())
      client_.fail_response(what + ": starting upload", response);
    return response.header("location");
  }

  // One PUT for a blob that fits in a chunk; else PATCH chunks, then PUT.
  void upload(std::string location, Reader& in, const std::string& digest,
              const std::string& what) {
    std::string chunk;
    uint64_t offset = 0;
    bool more = read_chunk(in, chunk);
    while (more && chunk.size() == kChunkSize) {
      std::string next;
      more = read_chunk(in, next);
      if (!more) break;  // the blob is exactly one chunk: finish monolithically
      HttpRequest patch("PATCH", location);
      patch.headers = {"Content-Type: application/octet-stream",
                       "Content-Range: " + std::to_string(offset) + "-" +
                           std::to_string(offset + chunk.size() - 1)};
      patch.body = std::move(chunk);
      HttpResponse response = send(std::move(patch));
      if (response.status != 202) client_.fail_response(what + ": uploading chunk", response);
      if (!response.header("location").empty()) location = response.header("location");
      offset += kChunkSize;
      chunk = std::move(next);
    }
    read_all(in);  // reaching the end makes the VerifyingReader check the digest
    HttpRequest put("PUT", with_query(location, "digest=" + url_encode(digest)));
    put.headers = {"Content-Type: application/octet-stream"};
    put.body = std::move(chunk);
    HttpResponse response = send(std::move(put));
    if (response.status != 201) client_.fail_response(what + ": finishing upload", response);
  }

  struct HeldReferrer {
    Descriptor manifest;
    std::string bytes, subject;
  };

  void push_referrer(const HeldReferrer& r) {
    HttpResponse response = put_manifest(r.manifest.digest, r.manifest.media_type, r.bytes);
    if (response.header("oci-subject") == r.subject) return;  // the registry lists it itself
    std::string tag = referrers_tag(r.subject);
    HttpRequest get("GET", client_.path("manifests", tag));
    get.headers = {"Accept: " + std::string(media_type::kOciIndex)};
    HttpResponse got = send(std::move(get));
    if (got.status != 200 && got.status != 404) client_.fail_response("referrers tag " + tag, got);
    std::string existing = got.status == 200 ? got.body : std::string();
    put_manifest(tag, std::string(media_type::kOciIndex),
                 add_to_referrers_index(existing, r.manifest, name() + ": referrers tag " + tag));
  }

  HttpResponse put_manifest(const std::string& reference, const std::string& media_type,
                            const std::string& bytes) {
    HttpRequest put("PUT", client_.path("manifests", reference));
    put.headers = {"Content-Type: " + media_type};
    put.body = bytes;
    HttpResponse response = send(std::move(put));
    if (response.status != 201 && response.status != 200)
      client_.fail_response(
          "manifest " + (reference.starts_with("sha256:") ? short_digest(reference) : reference),
          response);
    std::string stored = response.header("docker-content-digest");
    if (!stored.empty() && stored != sha256_digest(bytes))
      fail(name() + ": registry stored manifest " + reference + " as " + stored + ", not " +
           sha256_digest(bytes));
    return response;
  }

  RegistryClient client_;
  std::string mount_from_;
  std::mutex mu_;
  std::vector<std::pair<Descriptor, std::string>> manifests_;
  std::vector<HeldReferrer> referrers_;
};

}  // namespace

std::unique_ptr<Sink> open_registry_sink(const ImageRef& ref, const TransportOptions& options) {
  return std::make_unique<RegistrySink>(parse_registry_ref(ref), options);
}

void enable_cross_repo_mount(Sink& sink, const ImageRef& source) {
  auto* registry_sink = dynamic_cast<RegistrySink*>(&sink);
  if (!registry_sink || source.transport != Transport::Docker) return;
  RegistryRef from = parse_registry_ref(source);
  const RegistryRef& to = registry_sink->client().ref();
  if (from.api_host() == to.api_host() && from.repository != to.repository)
    registry_sink->set_mount_source(from.repository);
}

}  // namespace slimage::registry
