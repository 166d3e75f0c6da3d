// Files, mappings and scratch dirs (see include/slimage/util/file.h).
#include "slimage/util/file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <vector>
#include <optional>
#include <set>
#include <thread>
#include <utility>

#include "slimage/util/error.h"
#include "slimage/util/io.h"
#include "slimage/util/scratch_meter.h"

namespace slimage {

uint64_t page_size() {
  static const uint64_t size = [] {
    long n = ::sysconf(_SC_PAGESIZE);
    return n > 0 ? static_cast<uint64_t>(n) : uint64_t{4096};
  }();
  return size;
}

static std::string errno_text() { return std::strerror(errno); }

MappedFile::MappedFile(const std::string& path) : path_(path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(path + ": " + errno_text());
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    fail(path + ": stat: " + errno_text());
  }
  size_ = static_cast<size_t>(st.st_size);
  if (size_ > 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      ::close(fd);
      fail(path + ": mmap: " + errno_text());
    }
    data_ = static_cast<const uint8_t*>(p);
  }
  ::close(fd);
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

MappedFile::MappedFile(MappedFile&& o) noexcept { *this = std::move(o); }

MappedFile& MappedFile::operator=(MappedFile&& o) noexcept {
  if (this != &o) {
    if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
    data_ = o.data_;
    size_ = o.size_;
    path_ = std::move(o.path_);
    o.data_ = nullptr;
    o.size_ = 0;
  }
  return *this;
}

std::string read_file(const std::string& path) {
  FileReader r(path);
  return read_all(r);
}

std::string parent_dir(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

void fsync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

static std::mutex g_temp_mu;
static std::set<std::string>& registered() {
  static std::set<std::string> dirs;
  return dirs;
}
static std::set<std::string>& registered_files() {
  static std::set<std::string> files;
  return files;
}

static void unregister_temp_file(const std::string& path) {
  std::lock_guard lock(g_temp_mu);
  registered_files().erase(path);
}

void write_file_atomic(const std::string& path, std::string_view data) {
  std::string tmp = path + ".slimage-tmp-" + std::to_string(::getpid());
  try {
    std::optional<FileWriter> w;
    {
      // Created and registered under the lock: the interrupt sweep either sees it
      // or runs before it exists (and then holds the lock so it never will).
      std::lock_guard lock(g_temp_mu);
      w.emplace(tmp);
      registered_files().insert(tmp);
    }
    w->write(data.data(), data.size());
    w->finish();
  } catch (...) {
    ::unlink(tmp.c_str());
    unregister_temp_file(tmp);
    throw;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    unregister_temp_file(tmp);
    fail(path + ": rename: " + std::strerror(e));
  }
  unregister_temp_file(tmp);
}

bool path_exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

bool is_directory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Scratch dirs (those under scratch_parent()) hold a flock on a lock file
// inside them while their TempDir lives; the kernel drops it when the owner
// dies, however it dies. Sweeping looks only at dirs holding that file, so a
// dir made by an older slimage (no lock) or by anything else is never taken.
constexpr const char* kLockName = "/.slimage-lock";
// The prefix ending of a sink's staging dir beside its destination
// (src/image/oci_sink.cpp, archive_sink.cpp).
constexpr std::string_view kStagingSuffix = ".slimage-tmp-";

// Scratch that a SIGKILL (or a crash) left behind: sibling dirs named like
// ours (`prefix` + 6 characters) whose lock file nobody holds.
static void sweep_abandoned(const std::string& parent, const std::string& prefix) {
  DIR* dir = ::opendir(parent.c_str());
  if (!dir) return;
  std::vector<std::string> stale;
  while (dirent* e = ::readdir(dir)) {
    std::string_view name = e->d_name;
    if (name.size() != prefix.size() + 6 || !name.starts_with(prefix)) continue;
    std::string path = parent + "/" + std::string(name);
    int fd = ::open((path + kLockName).c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) continue;
    struct stat st;
    bool owned = ::fstat(fd, &st) == 0 && st.st_uid == ::geteuid() && S_ISREG(st.st_mode);
    if (owned && ::flock(fd, LOCK_EX | LOCK_NB) == 0) stale.push_back(std::move(path));
    ::close(fd);
  }
  ::closedir(dir);
  for (auto& path : stale) remove_tree(path);
}

TempDir::TempDir(const std::string& parent, const std::string& prefix) {
  // Scratch dirs, and the staging dirs sinks build an output in beside its
  // destination ("DST.slimage-tmp-XXXXXX", renamed into place at commit): a
  // run killed mid-write leaves one there, which the next run writing beside
  // it removes.
  const bool scratch = parent == scratch_parent() || prefix.ends_with(kStagingSuffix);
  if (scratch) sweep_abandoned(parent, prefix);
  std::string pattern = parent + "/" + prefix + "XXXXXX";
  std::lock_guard lock(g_temp_mu);  // see write_file_atomic
  if (!::mkdtemp(pattern.data())) fail(parent + ": cannot create scratch dir: " + errno_text());
  path_ = pattern;
  registered().insert(path_);
  if (!scratch) return;
  // Locked before the file is visible under its name, so no sweep can take a
  // live dir: created as a temp name, locked, then renamed into place.
  std::string tmp = path_ + "/.slimage-lock.new";
  lock_fd_ = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (lock_fd_ < 0) return;
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0 || ::rename(tmp.c_str(), (path_ + kLockName).c_str()) != 0) {
    ::close(lock_fd_);
    lock_fd_ = -1;
    ::unlink(tmp.c_str());
  }
}

TempDir::~TempDir() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
  if (path_.empty()) return;
  remove_tree(path_);
  scratch_forget_tree(path_);
  std::lock_guard lock(g_temp_mu);
  registered().erase(path_);
}

std::string TempDir::release() {
  std::lock_guard lock(g_temp_mu);
  registered().erase(path_);
  return std::exchange(path_, std::string());
}

void ScratchFile::set_fd(int fd) {
  fd_ = fd;
  path_ = "/proc/self/fd/" + std::to_string(fd);
}

ScratchFile::ScratchFile(const std::string& dir) {
  raise_open_file_limit();
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
    // No O_TMPFILE on this filesystem: a name for as long as it takes to unlink it.
    std::string pattern = dir + "/.slimage-scratch-XXXXXX";
    fd = ::mkostemp(pattern.data(), O_CLOEXEC);
    if (fd >= 0) ::unlink(pattern.c_str());
  }
  if (fd < 0) fail(dir + ": cannot create a scratch file: " + errno_text());
  set_fd(fd);
  name_ = dir + "/(unnamed scratch file)";
}

ScratchFile ScratchFile::adopt(const std::string& existing) {
  ScratchFile f;
  int fd = ::open(existing.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(existing + ": " + errno_text());
  f.set_fd(fd);
  f.name_ = existing;
  return f;
}

ScratchFile::ScratchFile(ScratchFile&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)), path_(std::move(o.path_)), name_(std::move(o.name_)) {}

ScratchFile::~ScratchFile() {
  if (fd_ < 0) return;
  scratch_forget(path_);  // before the number can be reused
  ::close(fd_);
}

bool link_scratch_file(const std::string& path, const std::string& to) {
  return ::linkat(AT_FDCWD, path.c_str(), AT_FDCWD, to.c_str(), AT_SYMLINK_FOLLOW) == 0;
}

void raise_open_file_limit() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct rlimit rl;
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max) return;
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  });
}

void remove_tree(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);  // does not follow symlinks
}

void remove_all_registered_temp_dirs() {
  // Never unlocked: the process is about to _Exit, and meanwhile no thread may
  // register (and so create) anything new. A second call (same thread) sweeps again.
  static std::thread::id sweeper;
  if (sweeper != std::this_thread::get_id()) {
    g_temp_mu.lock();
    sweeper = std::this_thread::get_id();
  }
  for (auto& d : registered()) remove_tree(d);
  for (auto& f : registered_files()) ::unlink(f.c_str());
}

static std::mutex g_committed_mu;
static std::vector<std::string> g_committed;

void note_output_committed(const std::string& name) {
  std::lock_guard lock(g_committed_mu);
  g_committed.push_back(name);
}

std::vector<std::string> committed_outputs() {
  std::lock_guard lock(g_committed_mu);
  return g_committed;
}

std::string scratch_parent() {
  for (const char* var : {"SLIMAGE_TMPDIR", "TMPDIR"})
    if (const char* v = std::getenv(var); v && *v) return v;
  return "/var/tmp";
}

}  // namespace slimage
