// SHA-256 over OpenSSL's EVP interface (see include/slimage/util/hash.h).
#include "slimage/util/hash.h"

#include <openssl/evp.h>

#include "slimage/util/error.h"

namespace slimage {

struct Sha256::Impl {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~Impl() { EVP_MD_CTX_free(ctx); }
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
  if (!impl_->ctx || EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr) != 1)
    fail("sha256: cannot initialise OpenSSL digest");
}

Sha256::~Sha256() = default;

void Sha256::update(const void* data, size_t n) { EVP_DigestUpdate(impl_->ctx, data, n); }

std::string Sha256::hex() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_DigestFinal_ex(impl_->ctx, md, &len);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; i++) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

std::string Sha256::digest() { return "sha256:" + hex(); }

std::string sha256_digest(std::string_view data) {
  Sha256 s;
  s.update(data.data(), data.size());
  return s.digest();
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
