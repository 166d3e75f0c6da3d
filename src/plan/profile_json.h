// Internal to src/plan: where each value of a JSON-with-comments text starts,
// so profile errors can say FILE:LINE:COL for a field nlohmann has already
// parsed (nlohmann keeps no positions).
#pragma once
#include <cstddef>
#include <map>
#include <string>
#include <string_view>

namespace slimage::plan_detail {

// Byte offset of each key (by JSON pointer, "/dlopen/0/name") for objects and
// of each element for arrays, down to a small depth. Assumes `text` already
// parsed; on anything odd it stops early rather than reading past the end.
std::map<std::string, size_t> json_positions(std::string_view text);

// "LINE:COL" (1-based) of a byte offset.
std::string line_col(std::string_view text, size_t offset);

}  // namespace slimage::plan_detail
