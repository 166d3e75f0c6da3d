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

// Levenshtein distance: insertions, deletions and substitutions of one byte.
size_t edit_distance(std::string_view a, std::string_view b);
// The word of `known` nearest to `word` if fewer than 3 edits away, else "":
// the "did you mean" of a typo'd field, command or option.
std::string closest_word(std::string_view word, const std::vector<std::string>& known);

}  // namespace slimage
