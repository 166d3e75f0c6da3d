// Free space from statvfs(3): f_bavail (blocks free to unprivileged users)
// times f_frsize (the fragment size blocks are counted in).
#include "slimage/util/disk_space.h"

#include <sys/statvfs.h>

#include <cerrno>
#include <cstring>

#include "slimage/util/error.h"
#include "slimage/util/strings.h"

namespace slimage {

uint64_t free_bytes(const std::string& dir) {
  struct statvfs st{};
  if (::statvfs(dir.c_str(), &st) != 0) fail(dir + ": statvfs: " + std::strerror(errno));
  return uint64_t(st.f_bavail) * uint64_t(st.f_frsize);
}

void require_free_space(const std::string& dir, uint64_t need, const std::string& what,
                        const std::string& why) {
  const uint64_t free = free_bytes(dir);
  if (free >= need) return;
  fail(what + " " + dir + ": needs at least " + human_bytes(need) + " (" + why + "), the filesystem has " +
       human_bytes(free) + " free");
}

}  // namespace slimage
