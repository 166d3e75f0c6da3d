// Validation at the door: every option, profile, platform, transport and
// output path a command names is checked before the first byte of an image
// is read, so a typo costs a second, not minutes of decoding.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "slimage/cli/options.h"
#include "slimage/util/error.h"

namespace slimage {

// A usage error: main() exits 2 (kExitUsage) with its message.
class UsageError : public Error {
 public:
  using Error::Error;
};

// Throws UsageError naming the offending word (and the nearest valid one
// where a typo is likely).
void validate_command(const Command& cmd);

// The skopeo transport `ref` names that slimage cannot read or write
// ("dir", "docker-daemon", "containers-storage", …), or "".
std::string unsupported_transport(std::string_view ref);

// "unknown command slimm; did you mean slim?" ("" for a known one).
std::string unknown_command_message(const std::string& word, const std::vector<std::string>& commands);

}  // namespace slimage
