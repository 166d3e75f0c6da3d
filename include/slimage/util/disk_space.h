// Free space checks before a stage writes: refuse at once, with the numbers,
// when a filesystem clearly cannot hold what is about to be written, instead
// of failing minutes later with "No space left on device".
#pragma once
#include <cstdint>
#include <string>

namespace slimage {

// Bytes an unprivileged writer may still use on the filesystem holding `dir`
// (statvfs f_bavail * f_frsize). Throws Error naming `dir` if it cannot be read.
uint64_t free_bytes(const std::string& dir);

// Throws Error "<what> <dir>: needs at least <need> (<why>), the filesystem has
// <free> free" when free_bytes(dir) < need.
void require_free_space(const std::string& dir, uint64_t need, const std::string& what,
                        const std::string& why);

}  // namespace slimage
