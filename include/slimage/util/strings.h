// Small text helpers shared across modules.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace slimage {

// Splits on any of `separators`, dropping empty pieces ("a::b" -> {"a", "b"}).
std::vector<std::string> split_any(std::string_view text, std::string_view separators);

// "512 B", "1.5 KiB", "3.2 GiB".
std::string human_bytes(uint64_t bytes);
// "0x1f40": an offset or size as diagnostics print it.
std::string hex_offset(uint64_t value);

}  // namespace slimage
