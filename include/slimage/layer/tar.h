// Tar as layers use it (POSIX ustar + PAX, with GNU long names read too).
// TarReader is the one bounds-checked parser of layer bytes; TarWriter writes
// deterministic archives: PAX headers where ustar cannot hold a field, fixed
// header fields (no atime/ctime, uname/gname as given, magic "ustar\0" "00").
// Spec: https://pubs.opengroup.org/onlinepubs/9699919799/utilities/pax.html
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "slimage/util/interned.h"
#include "slimage/util/io.h"

namespace slimage {

enum class TarType : char {
  Regular = '0',
  Hardlink = '1',
  Symlink = '2',
  CharDevice = '3',
  BlockDevice = '4',
  Directory = '5',
  Fifo = '6',
};

struct TarEntry {
  std::string path;         // as stored (PAX path / GNU longname / prefix+name), not normalized
  TarType type = TarType::Regular;
  uint32_t mode = 0644;     // permission bits incl. setuid/setgid/sticky (07777)
  uint32_t uid = 0, gid = 0;
  InternedString uname, gname;  // few distinct values: held once (util/interned.h)
  int64_t mtime = 0;        // seconds
  uint32_t mtime_nsec = 0;  // from PAX mtime, 0 if none
  uint64_t size = 0;        // content bytes (regular files; 0 otherwise)
  std::string link_target;  // symlink target, or hardlink's target path as stored
  uint32_t dev_major = 0, dev_minor = 0;
  std::map<std::string, std::string> xattrs;  // PAX SCHILY.xattr.<name> (values are binary)
  // Names of xattrs stored in a form runtimes do not apply (LIBARCHIVE.xattr.*,
  // which Go's archive/tar leaves out of Xattrs): read, never carried.
  std::vector<std::string> ignored_xattrs;
  // Position in the uncompressed tar stream of this entry's first header block
  // and of its content (set by TarReader).
  uint64_t header_offset = 0;
  uint64_t data_offset = 0;
};

struct TarLimits {
  uint64_t max_pax_header = 1 << 20;   // bytes of one PAX extended header
  uint64_t max_path = 64 << 10;        // bytes of one path or link target
};

// Reads entries from an uncompressed tar stream. next() returns false at the
// end-of-archive marker or at clean EOF. After next(), the entry's content is
// read with read_data() or skipped by the next call to next().
// Errors (bad checksum, truncated, oversized PAX) throw Error with the entry
// index/path and stream offset in the message.
class TarReader {
 public:
  explicit TarReader(Reader& in, TarLimits limits = {});
  bool next(TarEntry& entry);
  size_t read_data(void* buf, size_t n);  // within the current entry; 0 at its end
  uint64_t offset() const { return offset_; }  // bytes consumed so far
  // A PAX global header was read (and ignored, as Go's archive/tar does).
  bool saw_global_header() const { return saw_global_header_; }

 private:
  void skip_rest();
  bool read_block(char* block);
  std::string read_extension(uint64_t size, uint64_t limit, const char* what);
  [[noreturn]] void fail_at(uint64_t offset, const std::string& what) const;
  Reader& in_;
  TarLimits limits_;
  uint64_t offset_ = 0;
  uint64_t remaining_ = 0;  // content bytes of the current entry left
  uint64_t padding_ = 0;    // padding after the current entry's content
  uint64_t index_ = 0;      // entries returned so far
  std::string current_path_;  // for error messages
  bool ended_ = false;
  bool saw_global_header_ = false;
};

// Writes entries deterministically. For a Regular entry, exactly entry.size
// bytes must follow via write_data() before the next add(). finish() writes the
// two zero blocks (and calls out.finish()).
class TarWriter {
 public:
  explicit TarWriter(Writer& out);
  void add(const TarEntry& entry);
  void write_data(const void* data, size_t n);
  void finish();
  uint64_t bytes_written() const { return written_; }

 private:
  void emit(const void* data, size_t n);
  void pad();
  Writer& out_;
  std::string current_path_;  // for error messages
  uint64_t written_ = 0;
  uint64_t pending_ = 0;  // content bytes still owed for the current entry
  uint64_t current_size_ = 0;
};

}  // namespace slimage
