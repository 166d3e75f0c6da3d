// Files: read-only mappings, scratch directories that clean up after
// themselves, and the write-beside-then-rename step that makes outputs atomic.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace slimage {

// The system's page size (4 KiB on x86-64, 4, 16 or 64 KiB on arm64).
uint64_t page_size();

// A read-only mmap of a whole file (empty files map to an empty span).
class MappedFile {
 public:
  MappedFile() = default;
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(MappedFile&& o) noexcept;
  MappedFile& operator=(MappedFile&& o) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  std::span<const uint8_t> bytes() const { return {data_, size_}; }
  const std::string& path() const { return path_; }

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  std::string path_;
};

std::string read_file(const std::string& path);
// Writes via a temp file in the same directory and renames it into place. The
// temp file is registered like a TempDir, so an interrupt removes it too.
void write_file_atomic(const std::string& path, std::string_view data);
bool path_exists(const std::string& path);
bool is_directory(const std::string& path);

// A fresh directory `<parent>/<prefix>XXXXXX`, removed recursively on
// destruction unless release()d. Registered so a SIGINT/SIGTERM handler can
// remove every live scratch dir before exiting (see remove_all_registered).
// Under scratch_parent() it holds a flock on a lock file inside it while
// alive, and creating one first removes the siblings of the same prefix whose
// owner died without cleaning up (SIGKILL, a crash): scratch cannot pile up.
class TempDir {
 public:
  TempDir(const std::string& parent, const std::string& prefix);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string release();  // keep the directory; returns its path

 private:
  std::string path_;
  int lock_fd_ = -1;
};

// A scratch file with no name in `dir`: O_TMPFILE where the filesystem has it,
// else created under a random name and unlinked at once. Nothing can leak: the
// kernel frees it with the last descriptor, however the process ends (a crash,
// SIGKILL). path() reopens it — "/proc/self/fd/N", valid in this process while
// the ScratchFile lives — for mmap, a second descriptor or linkat(2) with
// AT_SYMLINK_FOLLOW (link_scratch_file). Bytes charged to path() are credited
// back when it closes. adopt() wraps an existing file read-only the same way (a
// cached blob handed out as a staged one: it keeps its own name).
class ScratchFile {
 public:
  explicit ScratchFile(const std::string& dir);
  static ScratchFile adopt(const std::string& existing);
  ~ScratchFile();
  ScratchFile(ScratchFile&& o) noexcept;
  ScratchFile& operator=(ScratchFile&&) = delete;
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;
  const std::string& path() const { return path_; }
  // For messages: where it lives ("DIR/(unnamed scratch file)"), not path()'s
  // /proc/self/fd/N, which tells a user nothing about which disk is full.
  const std::string& name() const { return name_; }
  int fd() const { return fd_; }

 private:
  ScratchFile() = default;
  void set_fd(int fd);
  int fd_ = -1;
  std::string path_, name_;
};
// Gives `path` the name `to` with a hard link: a ScratchFile's /proc/self/fd
// path (linkat with AT_SYMLINK_FOLLOW) or a plain path. False (errno set) where
// link(2) refuses (another filesystem, EEXIST…); the caller copies.
bool link_scratch_file(const std::string& path, const std::string& to);
// Descriptors: a ScratchFile holds one per layer, so a batch or an image with
// thousands of layers needs more than the usual soft limit of 1,024. Raises
// the soft RLIMIT_NOFILE to the hard one (once; best effort).
void raise_open_file_limit();

// Removes a tree without following symlinks; ignores a missing path.
void remove_tree(const std::string& path);
// Removes every live TempDir and write_file_atomic temp file; best effort
// (called from the signal-watching thread, not from a handler). It keeps the
// registry locked afterwards, so no thread can create another TempDir or
// atomic temp file before the process exits; call it again to sweep paths a
// running thread re-created meanwhile.
void remove_all_registered_temp_dirs();
// Sinks note each output once it is in place, so an interrupt reports what
// was written before it (a batch commits one output per image).
void note_output_committed(const std::string& name);
std::vector<std::string> committed_outputs();
// Directory for scratch space: $SLIMAGE_TMPDIR, $TMPDIR, else /var/tmp.
std::string scratch_parent();
// The directory part of a path ("." if none).
std::string parent_dir(const std::string& path);
// fsync a directory so a rename inside it is durable.
void fsync_dir(const std::string& dir);

}  // namespace slimage
