// The docker:// Source: GET /v2/<repo>/manifests/<ref> for the root, and
// GET /v2/<repo>/blobs/<digest> streamed for blobs.
// Spec: https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pulling-manifests
// Quirks: a child manifest named by an index is fetched from /manifests/, not
// /blobs/ (registries keep them apart); a blob GET is usually redirected to
// object storage; a dropped connection resumes with a Range request. A layer
// is never held whole in memory: a download thread feeds a bounded queue.
#include <condition_variable>
#include <deque>
#include <thread>

#include "slimage/registry/client.h"
#include "slimage/util/hash.h"

namespace slimage::registry {

namespace {

constexpr size_t kQueueLimit = 8 << 20;
constexpr size_t kManifestLimit = 16 << 20;
constexpr int kResumeTries = 5;

const char* kManifestAccept =
    "Accept: application/vnd.oci.image.index.v1+json, "
    "application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.docker.distribution.manifest.v2+json";

class StringReader : public Reader {
 public:
  explicit StringReader(std::string s) : s_(std::move(s)) {}
  size_t read(void* buf, size_t n) override {
    size_t k = std::min(n, s_.size() - pos_);
    std::copy_n(s_.data() + pos_, k, static_cast<char*>(buf));
    pos_ += k;
    return k;
  }

 private:
  std::string s_;
  size_t pos_ = 0;
};

// Streams one blob: a thread downloads into a bounded queue, read() drains it.
class BlobStream : public Reader {
 public:
  BlobStream(RegistryClient& client, std::string path, std::string what)
      : client_(client), path_(std::move(path)), what_(std::move(what)) {
    thread_ = std::thread([this] { download(); });
  }

  ~BlobStream() override {
    {
      std::lock_guard lock(mu_);
      cancelled_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  size_t read(void* buf, size_t n) override {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !chunks_.empty() || done_; });
    if (chunks_.empty()) {
      if (!error_.empty()) fail(error_);
      return 0;
    }
    std::string& front = chunks_.front();
    size_t k = std::min(n, front.size() - front_pos_);
    std::copy_n(front.data() + front_pos_, k, static_cast<char*>(buf));
    front_pos_ += k;
    queued_ -= k;
    if (front_pos_ == front.size()) {
      chunks_.pop_front();
      front_pos_ = 0;
    }
    cv_.notify_all();
    return k;
  }

 private:
  // Feeds the queue, blocking while it is full.
  class QueueWriter : public Writer {
   public:
    explicit QueueWriter(BlobStream& s) : s_(s) {}
    void write(const void* data, size_t n) override {
      auto* p = static_cast<const char*>(data);
      std::unique_lock lock(s_.mu_);
      s_.cv_.wait(lock, [&] { return s_.queued_ < kQueueLimit || s_.cancelled_; });
      if (s_.cancelled_) throw Error("cancelled");
      s_.chunks_.emplace_back(p, n);
      s_.queued_ += n;
      s_.delivered_ += n;
      s_.cv_.notify_all();
    }

   private:
    BlobStream& s_;
  };

  void download() {
    std::string error;
    try {
      for (int attempt = 1;; attempt++) {
        uint64_t offset;
        {
          std::lock_guard lock(mu_);
          offset = delivered_;
        }
        HttpRequest request("GET", path_);
        request.follow_redirects = true;
        request.resume_from = offset;
        QueueWriter writer(*this);
        try {
          HttpResponse response = client_.send(request, &writer);
          if (response.status != 200 && response.status != 206)
            client_.fail_response(what_, response);
          break;
        } catch (const HttpTransportError&) {
          if (attempt >= kResumeTries) throw;
        }
      }
    } catch (const std::exception& e) {
      error = e.what();
      if (!error.starts_with(client_.name())) error = client_.name() + ": " + what_ + ": " + error;
    }
    std::lock_guard lock(mu_);
    done_ = true;
    if (!cancelled_) error_ = error;
    cv_.notify_all();
  }

  RegistryClient& client_;
  std::string path_, what_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> chunks_;
  size_t front_pos_ = 0;
  size_t queued_ = 0;
  uint64_t delivered_ = 0;
  bool done_ = false, cancelled_ = false;
  std::string error_;
};

class RegistrySource : public Source {
 public:
  RegistrySource(RegistryRef ref, const TransportOptions& options)
      : client_(std::move(ref), options, /*push=*/false) {}

  std::string name() const override { return client_.name(); }

  RootManifest root() override {
    RootManifest out;
    std::string content_type;
    out.bytes = get_manifest(client_.ref().reference(), "", &content_type);
    out.digest = sha256_digest(out.bytes);
    if (!client_.ref().digest.empty() && out.digest != client_.ref().digest)
      fail(name() + ": manifest digest mismatch: got " + out.digest);
    auto json = nlohmann::json::parse(out.bytes, nullptr, false);
    if (!json.is_object()) fail(name() + ": manifest is not a JSON object");
    // OCI manifests may omit mediaType; the Content-Type header then says it.
    out.media_type = json.value("mediaType", content_type);
    if (!media_type::is_index(out.media_type) && !media_type::is_manifest(out.media_type))
      fail(name() + ": unsupported manifest type \"" + out.media_type + "\"");
    return out;
  }

  std::unique_ptr<Reader> open_blob(const Descriptor& d) override {
    std::string what = "blob " + short_digest(d.digest);
    if (!is_valid_digest(d.digest)) fail(name() + ": " + what + ": invalid digest");
    std::unique_ptr<Reader> in;
    if (media_type::is_index(d.media_type) || media_type::is_manifest(d.media_type))
      in = std::make_unique<StringReader>(get_manifest(d.digest, what));
    else
      in = std::make_unique<BlobStream>(client_, client_.path("blobs", d.digest), what);
    return std::make_unique<VerifyingReader>(std::move(in), name() + ": " + what, d.digest, d.size);
  }

 private:
  std::string get_manifest(const std::string& reference, const std::string& what,
                           std::string* content_type = nullptr) {
    HttpRequest request("GET", client_.path("manifests", reference));
    request.headers = {kManifestAccept};
    HttpResponse response;
    try {
      response = client_.send(request);
    } catch (const HttpTransportError& e) {
      fail(name() + ": " + e.what());
    }
    if (response.status != 200) client_.fail_response(what, response);
    if (response.body.size() > kManifestLimit)
      fail(name() + ": manifest larger than " + std::to_string(kManifestLimit) + " bytes");
    if (content_type) {
      *content_type = response.header("content-type");
      *content_type = content_type->substr(0, content_type->find(';'));
    }
    return response.body;
  }

  RegistryClient client_;
};

}  // namespace

std::unique_ptr<Source> open_registry_source(const ImageRef& ref, const TransportOptions& options) {
  return std::make_unique<RegistrySource>(parse_registry_ref(ref), options);
}

}  // namespace slimage::registry
