// SHA-256 and other digests over OpenSSL's EVP interface (see include/slimage/util/hash.h).
#include "slimage/util/hash.h"

#include <openssl/evp.h>

#include "slimage/util/error.h"

namespace slimage {

// SHA-256 is the general digest at one algorithm (EVP_sha256 by name).
struct Sha256::Impl {
  DigestWriter digest{"sha256"};
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {}

Sha256::~Sha256() = default;

void Sha256::update(const void* data, size_t n) { impl_->digest.write(data, n); }

std::string Sha256::hex() { return hex_encode(impl_->digest.raw()); }

std::string Sha256::digest() { return "sha256:" + hex(); }

std::string sha256_digest(std::string_view data) {
  Sha256 s;
  s.update(data.data(), data.size());
  return s.digest();
}

struct DigestWriter::Impl {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~Impl() { EVP_MD_CTX_free(ctx); }
};

DigestWriter::DigestWriter(const char* algorithm) : impl_(std::make_unique<Impl>()) {
  const EVP_MD* md = EVP_get_digestbyname(algorithm);
  if (!impl_->ctx || !md || EVP_DigestInit_ex(impl_->ctx, md, nullptr) != 1)
    fail(std::string(algorithm) + ": cannot initialise OpenSSL digest");
}

DigestWriter::~DigestWriter() = default;

void DigestWriter::write(const void* data, size_t n) { EVP_DigestUpdate(impl_->ctx, data, n); }

std::string DigestWriter::raw() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_DigestFinal_ex(impl_->ctx, md, &len);
  return std::string(reinterpret_cast<const char*>(md), len);
}

std::string hex_encode(std::string_view bytes) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

bool is_valid_digest(std::string_view d) {
  if (d.size() != 71 || d.substr(0, 7) != "sha256:") return false;
  for (char c : d.substr(7))
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

VerifyingReader::VerifyingReader(std::unique_ptr<Reader> in, std::string what,
                                 std::string expected_digest, int64_t expected_size)
    : in_(std::move(in)), what_(std::move(what)), expected_(std::move(expected_digest)),
      expected_size_(expected_size) {}

size_t VerifyingReader::read(void* buf, size_t n) {
  size_t k = in_->read(buf, n);
  if (k > 0) {
    sha_.update(buf, k);
    bytes_ += k;
    if (expected_size_ >= 0 && bytes_ > static_cast<uint64_t>(expected_size_))
      fail_at(what_, "larger than its descriptor's size " + std::to_string(expected_size_));
    return k;
  }
  if (!checked_) {
    checked_ = true;
    if (expected_size_ >= 0 && bytes_ != static_cast<uint64_t>(expected_size_))
      fail_at(what_, "truncated: " + std::to_string(bytes_) + " bytes, descriptor says " +
                         std::to_string(expected_size_));
    if (!expected_.empty()) {
      std::string got = sha_.digest();
      if (got != expected_) fail_at(what_, "digest mismatch: got " + got);
    }
  }
  return 0;
}

}  // namespace slimage
