// SHA-256 digests in the OCI form "sha256:<64 hex>": `digest` names compressed
// blob bytes, `diff_id` the uncompressed layer tar (image-spec config.md).
#pragma once
#include <memory>
#include <string>
#include <string_view>

#include "slimage/util/io.h"

namespace slimage {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, size_t n);
  std::string hex();     // finalizes
  std::string digest();  // "sha256:" + hex(); finalizes

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::string sha256_digest(std::string_view data);
// True for "sha256:" + 64 lowercase hex digits (the only algorithm accepted).
bool is_valid_digest(std::string_view digest);

// Hashes what passes through; forwards to `out` if given.
class HashingWriter : public Writer {
 public:
  explicit HashingWriter(Writer* out = nullptr) : out_(out) {}
  void write(const void* data, size_t n) override {
    sha_.update(data, n);
    bytes_ += n;
    if (out_) out_->write(data, n);
  }
  void finish() override {
    if (out_) out_->finish();
  }
  std::string digest() { return sha_.digest(); }
  uint64_t bytes() const { return bytes_; }

 private:
  Writer* out_;
  Sha256 sha_;
  uint64_t bytes_ = 0;
};

// What passes through, under any digest OpenSSL names ("md5", "sha1",
// "sha256"): the checksums package databases keep (dpkg md5sums, apk's Q1
// sha1, Python RECORD's sha256). raw() finalizes and returns the bytes.
class DigestWriter : public Writer {
 public:
  explicit DigestWriter(const char* algorithm);
  ~DigestWriter() override;
  void write(const void* data, size_t n) override;
  std::string raw();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};
std::string hex_encode(std::string_view bytes);  // lowercase

// Hashes what is read through it. If `expected_digest` is set, reaching the end
// with another digest (or another size, if expected_size >= 0) throws Error
// "<what>: digest mismatch: expected …, got …".
class VerifyingReader : public Reader {
 public:
  VerifyingReader(std::unique_ptr<Reader> in, std::string what, std::string expected_digest,
                  int64_t expected_size = -1);
  size_t read(void* buf, size_t n) override;
  uint64_t bytes() const { return bytes_; }

 private:
  std::unique_ptr<Reader> in_;
  std::string what_, expected_;
  int64_t expected_size_;
  Sha256 sha_;
  uint64_t bytes_ = 0;
  bool checked_ = false;
};

}  // namespace slimage
