// TarReader on archives written by Python's tarfile and GNU tar (generated at
// test time) and on hand-built hostile headers: every format variant a layer
// may use, and a clear Error with an offset for every malformed one.
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "slimage/layer/tar.h"
#include "slimage/util/error.h"
#include "slimage/util/file.h"
#include "slimage/util/io.h"
#include "test_skip.h"

using namespace slimage;

namespace {

// Runs a python3 script that writes a tar to argv[1]; returns the tar bytes.
std::string python_tar(const std::string& script) {
  TempDir dir(scratch_parent(), "slimage-layer-test-");
  write_file_atomic(dir.path() + "/gen.py", script);
  std::string tar = dir.path() + "/out.tar";
  REQUIRE(std::system(("python3 " + dir.path() + "/gen.py " + tar).c_str()) == 0);
  return read_file(tar);
}

struct Read {
  TarEntry entry;
  std::string data;
};

std::vector<Read> read_tar(const std::string& bytes, TarLimits limits = {}) {
  MemoryReader in(bytes);
  TarReader reader(in, limits);
  std::vector<Read> out;
  TarEntry e;
  while (reader.next(e)) {
    Read r{e, {}};
    char buf[777];  // odd size: reads must not care about alignment
    while (size_t n = reader.read_data(buf, sizeof buf)) r.data.append(buf, n);
    out.push_back(std::move(r));
  }
  return out;
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// A ustar header block built by hand, independent of TarWriter.
std::string raw_header(const std::string& name, char type, uint64_t size,
                       const std::string& magic = std::string("ustar\0" "00", 8)) {
  std::string b(512, '\0');
  std::memcpy(b.data(), name.data(), std::min<size_t>(name.size(), 100));
  std::snprintf(b.data() + 100, 8, "%07o", 0644);
  std::snprintf(b.data() + 108, 8, "%07o", 0);
  std::snprintf(b.data() + 116, 8, "%07o", 0);
  std::snprintf(b.data() + 124, 12, "%011llo", static_cast<unsigned long long>(size));
  std::snprintf(b.data() + 136, 12, "%011o", 0);
  b[156] = type;
  std::memcpy(b.data() + 257, magic.data(), magic.size());
  return b;
}

std::string with_checksum(std::string b) {
  std::memset(b.data() + 148, ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : b) sum += c;
  std::snprintf(b.data() + 148, 8, "%06o", sum);
  return b;
}

std::string padded(std::string data) {
  data.resize((data.size() + 511) / 512 * 512, '\0');
  return data;
}

std::string pax_record(const std::string& key, const std::string& value) {
  size_t body = key.size() + value.size() + 3, len = body + 1;
  while (std::to_string(len).size() + body != len) len = std::to_string(len).size() + body;
  return std::to_string(len) + " " + key + "=" + value + "\n";
}

const std::string kEnd(1024, '\0');

}  // namespace

TEST_CASE("layer: tar reader reads every field of a python PAX archive" *
          doctest::skip(!slimage::test::have_tool("python3"))) {
  std::string tar = python_tar(R"PY(
import io, sys, tarfile
out = tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT)
def add(name, type=tarfile.REGTYPE, data=b"", **kw):
    ti = tarfile.TarInfo(name); ti.type = type; ti.size = len(data)
    for k, v in kw.items(): setattr(ti, k, v)
    out.addfile(ti, io.BytesIO(data) if data else None)
add("d/" * 60 + "long.txt", data=b"hello", mode=0o4755, uid=3000000, gid=42,
    uname="u" * 40, gname="g", mtime=1234567890.5)
add("bin", tarfile.DIRTYPE, mode=0o755)
add("bin/sh", tarfile.SYMTYPE, linkname="/usr/" + "x" * 120)
add("bin/hard", tarfile.LNKTYPE, linkname="bin/sh")
add("dev/null", tarfile.CHRTYPE, devmajor=1, devminor=3)
add("dev/sda", tarfile.BLKTYPE, devmajor=8, devminor=0)
add("run/fifo", tarfile.FIFOTYPE)
add("caf\u00e9", data=b"x" * 1000, pax_headers={"SCHILY.xattr.user.k": "v=1\nz"})
add("raw\udcff\nnl".encode("utf-8", "surrogateescape").decode("utf-8", "surrogateescape"))
out.close()
)PY");
  auto entries = read_tar(tar);
  REQUIRE(entries.size() == 9);
  const TarEntry& f = entries[0].entry;
  std::string dirs;
  for (int i = 0; i < 60; ++i) dirs += "d/";
  CHECK(f.path == dirs + "long.txt");
  CHECK(f.type == TarType::Regular);
  CHECK(f.mode == 04755);
  CHECK(f.uid == 3000000);
  CHECK(f.gid == 42);
  CHECK(f.uname.str() == std::string(40, 'u'));
  CHECK(f.mtime == 1234567890);
  CHECK(f.mtime_nsec == 500000000);
  CHECK(entries[0].data == "hello");
  CHECK(f.size == 5);
  CHECK(tar.compare(f.data_offset, 5, "hello") == 0);
  CHECK(f.header_offset == 0);  // the PAX header that starts it
  CHECK(entries[1].entry.type == TarType::Directory);
  CHECK(entries[2].entry.type == TarType::Symlink);
  CHECK(entries[2].entry.link_target == "/usr/" + std::string(120, 'x'));
  CHECK(entries[3].entry.type == TarType::Hardlink);
  CHECK(entries[3].entry.link_target == "bin/sh");
  CHECK(entries[4].entry.type == TarType::CharDevice);
  CHECK(entries[4].entry.dev_major == 1);
  CHECK(entries[4].entry.dev_minor == 3);
  CHECK(entries[5].entry.type == TarType::BlockDevice);
  CHECK(entries[5].entry.dev_major == 8);
  CHECK(entries[6].entry.type == TarType::Fifo);
  CHECK(entries[7].entry.path == "caf\xc3\xa9");
  CHECK(entries[7].entry.xattrs.at("user.k") == "v=1\nz");
  CHECK(entries[7].data == std::string(1000, 'x'));
  CHECK(tar.compare(entries[7].entry.data_offset, 1000, std::string(1000, 'x')) == 0);
  CHECK(entries[8].entry.path == "raw\xff\nnl");
}

TEST_CASE("layer: tar reader reads GNU long names and base-256 numbers" *
          doctest::skip(!slimage::test::have_tool("python3"))) {
  std::string tar = python_tar(R"PY(
import io, sys, tarfile
out = tarfile.open(sys.argv[1], "w", format=tarfile.GNU_FORMAT)
ti = tarfile.TarInfo("n/" * 80 + "end"); ti.size = 3; ti.uid = 0o100000000; ti.mtime = -5
out.addfile(ti, io.BytesIO(b"abc"))
ti = tarfile.TarInfo("link"); ti.type = tarfile.SYMTYPE; ti.linkname = "t/" * 70
out.addfile(ti)
out.close()
)PY");
  auto entries = read_tar(tar);
  REQUIRE(entries.size() == 2);
  std::string expected;
  for (int i = 0; i < 80; ++i) expected += "n/";
  CHECK(entries[0].entry.path == expected + "end");
  CHECK(entries[0].entry.uid == 0100000000);
  CHECK(entries[0].entry.mtime == -5);
  CHECK(entries[0].data == "abc");
  expected.clear();
  for (int i = 0; i < 70; ++i) expected += "t/";
  CHECK(entries[1].entry.link_target == expected);
}

TEST_CASE("layer: tar reader joins the ustar prefix and name" *
          doctest::skip(!slimage::test::have_tool("python3"))) {
  std::string tar = python_tar(R"PY(
import sys, tarfile
out = tarfile.open(sys.argv[1], "w", format=tarfile.USTAR_FORMAT)
ti = tarfile.TarInfo("p" * 120 + "/file"); out.addfile(ti)
out.close()
)PY");
  auto entries = read_tar(tar);
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].entry.path == std::string(120, 'p') + "/file");
}

TEST_CASE("layer: tar reader reads GNU tar's gnu and posix formats" *
          doctest::skip(!slimage::test::have_tool("tar"))) {
  TempDir dir(scratch_parent(), "slimage-layer-test-");
  std::string deep = "a";
  for (int i = 0; i < 12; ++i) deep += "/directory_" + std::to_string(i);
  std::filesystem::create_directories(dir.path() + "/src/" + deep);
  write_file_atomic(dir.path() + "/src/" + deep + "/f", "content");
  for (const char* format : {"gnu", "posix", "oldgnu"}) {
    CAPTURE(format);
    std::string out = dir.path() + "/" + format + ".tar";
    REQUIRE(std::system(("tar --format=" + std::string(format) + " --sort=name -cf " + out + " -C " +
                         dir.path() + "/src a").c_str()) == 0);
    auto entries = read_tar(read_file(out));
    REQUIRE(entries.size() == 14);
    CHECK(entries.back().entry.path == deep + "/f");
    CHECK(entries.back().data == "content");
    CHECK(entries[0].entry.type == TarType::Directory);
  }
}

TEST_CASE("layer: tar reader handles end markers, odd typeflags and signed checksums") {
  std::string file = with_checksum(raw_header("f", '\0', 3)) + padded("abc");
  CHECK(read_tar(file).size() == 1);                            // clean EOF, no zero blocks
  CHECK(read_tar(file + std::string(512, '\0')).size() == 1);   // one zero block
  CHECK(read_tar(file + kEnd + "trailing junk").size() == 1);   // nothing read after the end
  // '7' (contiguous file): Go returns TypeCont and containerd's createTarFile refuses it.
  CHECK(error_of([&] { read_tar(with_checksum(raw_header("c", '7', 2)) + padded("hi") + kEnd); }) ==
        "entry 'c' has type flag '7', which containerd and Docker refuse to apply, at offset 0");
  // Unknown typeflag: an error naming it (containerd's createTarFile refuses it).
  CHECK(error_of([&] {
          read_tar(with_checksum(raw_header("vol", 'V', 600)) + padded(std::string(600, 'v')) + file);
        }) == "entry 'vol' has type flag 'V', which containerd and Docker refuse to apply, at offset 0");
  CHECK(error_of([&] { read_tar(file + with_checksum(raw_header("odd", '\x01', 0))); }) ==
        "entry 'odd' has type flag 0x01, which containerd and Docker refuse to apply, at offset "
        "1024 (after entry 1 'f')");
  // A lone zero block then EOF ends the archive; a header after it is corrupt
  // (Go's archive/tar: ErrHeader).
  CHECK(error_of([&] { read_tar(file + std::string(512, '\0') + file); }) ==
        "header after a lone zero block (corrupt archive) at offset 1536 (after entry 1 'f')");
  // Directories, links, devices carry no content whatever their size says.
  auto e = read_tar(with_checksum(raw_header("d/", '5', 512)) + file);
  REQUIRE(e.size() == 2);
  CHECK(e[0].entry.size == 0);
  // A checksum computed over signed chars (old writers) is accepted.
  std::string high = raw_header("\xe9t\xe9", '0', 0);
  std::memset(high.data() + 148, ' ', 8);
  int sum = 0;
  for (char c : high) sum += static_cast<signed char>(c);
  std::snprintf(high.data() + 148, 8, "%06o", sum);
  CHECK(read_tar(high).size() == 1);
}

TEST_CASE("layer: tar reader ignores global PAX headers and LIBARCHIVE xattrs, as Go's does") {
  // Go's archive/tar returns a 'g' header as an entry of its own and applies
  // its records to nothing; containerd then ignores it. A global 'path' must
  // not rename the entries after it.
  std::string g = pax_record("uname", "global") + pax_record("mtime", "-1.25") +
                  pax_record("path", "hidden");
  std::string x = pax_record("LIBARCHIVE.xattr.user.%41b", "AAEC/w==") +
                  pax_record("SCHILY.xattr.security.capability", std::string("\x01\0\x02", 3));
  std::string tar = with_checksum(raw_header("g", 'g', g.size())) + padded(g) +
                    with_checksum(raw_header("x", 'x', x.size())) + padded(x) +
                    with_checksum(raw_header("one", '0', 0)) +
                    with_checksum(raw_header("two", '0', 0)) + kEnd;
  auto e = read_tar(tar);
  REQUIRE(e.size() == 2);
  CHECK(e[0].entry.path == "one");
  CHECK(e[1].entry.path == "two");
  // LIBARCHIVE.xattr.* is read (so a malformed one is an error) but never
  // becomes an xattr: runtimes do not apply that form.
  CHECK(e[0].entry.xattrs.size() == 1);
  CHECK(e[0].entry.xattrs.at("security.capability") == std::string("\x01\0\x02", 3));
  CHECK(e[0].entry.ignored_xattrs == std::vector<std::string>{"user.Ab"});
  CHECK(e[0].entry.header_offset == 1024);
  CHECK(e[1].entry.xattrs.empty());
  CHECK(e[1].entry.uname.str() == "");
  CHECK(e[1].entry.mtime == 0);
}

TEST_CASE("layer: tar reader refuses PAX records Go's archive/tar refuses") {
  std::string file = with_checksum(raw_header("f", '0', 0));
  auto error_with = [&](const std::string& records) {
    return error_of([&] {
      read_tar(with_checksum(raw_header("x", 'x', records.size())) + padded(records) + file);
    });
  };
  CHECK(error_with(pax_record("path", std::string("a\0b", 3))) ==
        "PAX header: NUL inside path record at byte 0 at offset 0");
  CHECK(error_with(pax_record("linkpath", std::string("a\0", 2))) ==
        "PAX header: NUL inside linkpath record at byte 0 at offset 0");
  CHECK(error_with(pax_record(std::string("SCHILY.xattr.a\0b", 16), "v")) ==
        "PAX header: NUL inside key record at byte 0 at offset 0");
  CHECK(error_with(pax_record("SCHILY.xattr.", "v")) ==
        "PAX record SCHILY.xattr. names no xattr at offset 1024");  // the entry's own header
  // A NUL inside another record's value is data (an xattr value is binary).
  CHECK(read_tar(with_checksum(raw_header("x", 'x', 21)) +
                 padded(pax_record("SCHILY.xattr.u", std::string("\0\0", 2))) + file)
            .size() == 1);
}

TEST_CASE("layer: tar reader rejects truncated and malformed archives with offsets") {
  std::string file = with_checksum(raw_header("f", '0', 1000)) + padded(std::string(1000, 'z'));
  CHECK(error_of([&] { read_tar(file.substr(0, 700)); }) == "truncated tar at offset 700 (in entry 1 'f')");
  CHECK(error_of([&] { read_tar(file.substr(0, 300)); }) == "truncated tar at offset 300");
  CHECK(error_of([&] { read_tar(file + file.substr(0, 100)); }) ==
        "truncated tar at offset 1636 (after entry 1 'f')");
  std::string bad = file;
  bad[0] = 'g';
  CHECK(error_of([&] { read_tar(bad); }) == "bad header checksum at offset 0");
  CHECK(error_of([&] { read_tar(with_checksum(raw_header("f", '0', 0).replace(124, 3, "9x9"))); })
            .find("invalid size field at offset 0") == 0);
  CHECK_THROWS_AS(read_tar(std::string(512, 'A')), Error);

  // A PAX header larger than the limit is refused before it is read.
  std::string big = with_checksum(raw_header("x", 'x', uint64_t{1} << 32)) + file;
  CHECK(error_of([&] { read_tar(big); }) ==
        "PAX header of 4294967296 bytes exceeds limit of 1048576 bytes at offset 512");
  TarLimits small;
  small.max_path = 10;
  std::string path_pax = pax_record("path", std::string(11, 'p'));
  CHECK(error_of([&] {
          read_tar(with_checksum(raw_header("x", 'x', path_pax.size())) + padded(path_pax) + file, small);
        }).find("path longer than limit of 10 bytes") == 0);

  for (std::string records : {std::string("5 a=b\n"), std::string("99 path=x\n"), std::string("x\n"),
                              std::string("7 =abc\n"), std::string("8 path=x")}) {
    CAPTURE(records);
    CHECK(error_of([&] {
            read_tar(with_checksum(raw_header("x", 'x', records.size())) + padded(records) + file);
          }).find("PAX header: ") == 0);
  }
  std::string bad_uid = pax_record("uid", "99999999999");
  CHECK(error_of([&] {
          read_tar(with_checksum(raw_header("x", 'x', bad_uid.size())) + padded(bad_uid) + file);
        }).find("invalid PAX uid") == 0);
  std::string orphan = pax_record("path", "p");
  CHECK(error_of([&] {
          read_tar(with_checksum(raw_header("x", 'x', orphan.size())) + padded(orphan) + kEnd);
        }).find("extension header followed by end of archive") == 0);
  CHECK(error_of([&] { read_tar(with_checksum(raw_header("s", 'S', 0))); }).find("sparse") !=
        std::string::npos);
}
