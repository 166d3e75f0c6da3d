// A Source whose blobs are strings in memory, added as layers (for the merge
// tests and the whole-pipeline fuzzer, tests/fuzz/pipeline_fuzz.cpp).
#pragma once
#include <map>
#include <memory>
#include <string>

#include "slimage/image/image.h"
#include "slimage/util/hash.h"
#include "slimage/util/io.h"

namespace slimage::test {

class MemorySource : public Source {
 public:
  Descriptor add(std::string bytes) {
    Descriptor d;
    d.media_type = media_type::kOciLayer;
    d.digest = sha256_digest(bytes);
    d.size = static_cast<int64_t>(bytes.size());
    blobs_[d.digest] = std::move(bytes);
    return d;
  }
  std::string name() const override { return "memory"; }
  RootManifest root() override { return {}; }
  std::unique_ptr<Reader> open_blob(const Descriptor& d) override {
    const std::string& b = blobs_.at(d.digest);
    return std::make_unique<VerifyingReader>(std::make_unique<MemoryReader>(std::string_view(b)),
                                             "blob " + short_digest(d.digest), d.digest, d.size);
  }

 private:
  std::map<std::string, std::string> blobs_;
};

}  // namespace slimage::test
