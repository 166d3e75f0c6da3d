// Byte streams. Every layer and blob flows through Reader/Writer chains
// (file -> hash -> decompress -> tar), so no layer is ever held whole in memory.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace slimage {

class Writer;

class Reader {
 public:
  virtual ~Reader() = default;
  // Reads up to n bytes; returns 0 only at end of stream. Throws Error on failure.
  virtual size_t read(void* buf, size_t n) = 0;
  // Hands up to n of the next bytes to `out` (drops them if null); returns
  // how many, 0 only at end of stream. A reader that holds the bytes in
  // memory passes them in place; the default reads them into a buffer first.
  virtual size_t pass(Writer* out, size_t n);
};

class Writer {
 public:
  virtual ~Writer() = default;
  virtual void write(const void* data, size_t n) = 0;
  // Flushes buffered bytes (and trailers, for encoders). Call once, at the end.
  virtual void finish() {}
};

// Reads a file by descriptor; `name` is used in error messages.
class FileReader : public Reader {
 public:
  explicit FileReader(const std::string& path);
  ~FileReader() override;
  size_t read(void* buf, size_t n) override;

 private:
  int fd_ = -1;
  std::string path_;
};

// Writes a file (created or truncated, mode 0644); finish() flushes and, if
// `durable`, fsyncs (outputs are durable; scratch files need not be).
class FileWriter : public Writer {
 public:
  // `name`: what messages call the file, when `path` is not it (a
  // ScratchFile's /proc/self/fd/N path); default `path`.
  explicit FileWriter(const std::string& path, bool durable = true, const std::string& name = "");
  ~FileWriter() override;
  void write(const void* data, size_t n) override;
  void finish() override;
  uint64_t bytes_written() const { return written_; }

 private:
  void flush();
  int fd_ = -1;
  bool durable_ = true;
  std::string path_;
  std::string buf_;
  uint64_t written_ = 0;
};

class MemoryReader : public Reader {
 public:
  explicit MemoryReader(std::span<const uint8_t> bytes) : bytes_(bytes) {}
  explicit MemoryReader(std::string_view s)
      : bytes_(reinterpret_cast<const uint8_t*>(s.data()), s.size()) {}
  size_t read(void* buf, size_t n) override;

 private:
  std::span<const uint8_t> bytes_;
  size_t pos_ = 0;
};

class StringWriter : public Writer {
 public:
  void write(const void* data, size_t n) override {
    out_.append(static_cast<const char*>(data), n);
  }
  std::string& str() { return out_; }

 private:
  std::string out_;
};

// Reads a stream it does not own (for wrappers that take ownership, such as
// VerifyingReader, over a caller's stream).
class BorrowedReader : public Reader {
 public:
  explicit BorrowedReader(Reader& in) : in_(in) {}
  size_t read(void* buf, size_t n) override { return in_.read(buf, n); }

 private:
  Reader& in_;
};

// Copies everything from `in` to `out` (does not call finish); returns bytes copied.
uint64_t copy_stream(Reader& in, Writer& out);
// Discards up to n bytes (through Reader::pass); returns how many were there.
uint64_t skip_stream(Reader& in, uint64_t n);
// Reads the whole stream; throws Error if it exceeds `limit` bytes.
std::string read_all(Reader& in, uint64_t limit = UINT64_MAX);

}  // namespace slimage
