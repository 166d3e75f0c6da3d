// The docker:// Source: GET /v2/<repo>/manifests/<ref> for the root, and
// GET /v2/<repo>/blobs/<digest> streamed for blobs.
// Spec: https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pulling-manifests
// Quirks: a child manifest named by an index is fetched from /manifests/, not
// /blobs/ (registries keep them apart); a blob GET is usually redirected to
// object storage; a dropped connection resumes with a Range request. A layer
// is never held whole in memory: a download thread feeds a bounded queue.
#include <thread>

#include "slimage/registry/client.h"
#include "slimage/util/hash.h"
#include "slimage/util/read_ahead.h"

namespace slimage::registry {

namespace {

constexpr size_t kQueueLimit = 8 << 20;
constexpr int kResumeTries = 5;

// Every root a source can read (media types from image.h).
std::string manifest_accept() {
  std::string accept = "Accept: ";
  for (std::string_view mt : {media_type::kOciIndex, media_type::kOciManifest,
                              media_type::kDockerManifestList, media_type::kDockerManifest}) {
    if (accept.size() > 8) accept += ", ";
    accept += mt;
  }
  return accept;
}

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
    queue_.cancel();
    thread_.join();
  }

  size_t read(void* buf, size_t n) override { return queue_.read(buf, n); }

 private:
  // Feeds the queue (on the download thread), blocking while it is full.
  class QueueWriter : public Writer {
   public:
    explicit QueueWriter(BlobStream& s) : s_(s) {}
    void write(const void* data, size_t n) override {
      if (!s_.queue_.push(std::string(static_cast<const char*>(data), n))) throw Error("cancelled");
      s_.delivered_ += n;
    }

   private:
    BlobStream& s_;
  };

  void download() {
    std::exception_ptr error;
    // The client's own errors (HTTP status, auth) are located; the
    // transport's and the queue's get this blob's place.
    std::string where = client_.name() + ": " + what_;
    try {
      with_location(where, [&] {
        for (int attempt = 1;; attempt++) {
          HttpRequest request("GET", path_);
          request.follow_redirects = true;
          request.resume_from = delivered_;
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
      });
    } catch (const Error&) {
      error = std::current_exception();
    } catch (const std::exception& e) {
      error = std::make_exception_ptr(Error(where, e.what()));
    }
    queue_.close(error);
  }

  RegistryClient& client_;
  std::string path_, what_;
  ByteQueue queue_{kQueueLimit};
  uint64_t delivered_ = 0;  // bytes pushed so far: where a retry resumes (download thread only)
  std::thread thread_;
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
    request.headers = {manifest_accept()};
    HttpResponse response;
    try {
      response = client_.send(request);
    } catch (const HttpTransportError& e) {
      fail(name() + ": " + e.what());
    }
    if (response.status != 200) client_.fail_response(what, response);
    if (response.body.size() > kMaxJsonDocumentBytes)
      fail(name() + ": manifest larger than " + std::to_string(kMaxJsonDocumentBytes) + " bytes");
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
