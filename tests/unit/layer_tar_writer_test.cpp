// TarWriter: one archive with every awkward entry (long, non-UTF-8 and newline
// names, binary xattrs, links, devices, setuid, big ids, sub-second and
// negative mtimes) must read back identically through our TarReader, Python's
// tarfile, libarchive and GNU tar; and the bytes must be deterministic.
#include <archive.h>
#include <archive_entry.h>
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "slimage/layer/tar.h"
#include "slimage/util/error.h"
#include "slimage/util/file.h"
#include "slimage/util/io.h"
#include "test_skip.h"

using namespace slimage;

namespace {

struct Item {
  TarEntry entry;
  std::string data;
};

Item make(std::string path, TarType type, std::string data = "") {
  Item it;
  it.entry.path = std::move(path);
  it.entry.type = type;
  it.entry.size = type == TarType::Regular ? data.size() : 0;
  it.entry.mtime = 1700000000;
  it.entry.uname = "root";
  it.entry.gname = "root";
  it.data = std::move(data);
  return it;
}

std::vector<Item> awkward_items(bool with_newline_name) {
  const std::string long_name = "usr/bin/" + std::string(150, 'L');
  std::vector<Item> items;
  items.push_back(make("usr", TarType::Directory));
  items.back().entry.mode = 0755;
  items.push_back(make(long_name, TarType::Regular, "#!/bin/sh\n"));
  items.back().entry.mode = 04755;
  items.back().entry.uid = items.back().entry.gid = 1000;
  items.back().entry.uname = "user";
  items.back().entry.gname = "group";
  items.push_back(make("usr/bin/sh", TarType::Symlink));
  items.back().entry.link_target = "/" + std::string(120, 'T');
  items.push_back(make("usr/bin/hard", TarType::Hardlink));
  items.back().entry.link_target = long_name;
  items.push_back(make("dev/null", TarType::CharDevice));
  items.back().entry.dev_major = 1;
  items.back().entry.dev_minor = 3;
  items.push_back(make("dev/sda", TarType::BlockDevice));
  items.back().entry.dev_major = 8;
  items.push_back(make("run/fifo", TarType::Fifo));
  items.push_back(make("bad\xff\xfe.txt", TarType::Regular, std::string(1000, 'b')));
  items.push_back(make("caf\xc3\xa9/na\xc3\xafve.txt", TarType::Regular, "utf8"));
  items.push_back(make("usr/bin/ping", TarType::Regular, std::string(513, 'p')));
  items.back().entry.xattrs["security.capability"] = std::string("\x01\0\0\x02\n=\xff", 7);
  items.back().entry.xattrs["user.comment"] = "a=b";
  items.back().entry.mtime_nsec = 123456789;
  items.push_back(make("big-ids", TarType::Regular));
  items.back().entry.uid = 3000000000u;
  items.back().entry.gid = 5000000;
  items.back().entry.uname = std::string(40, 'u');
  items.push_back(make("old", TarType::Regular, "x"));
  items.back().entry.mtime = -100;
  if (with_newline_name) items.push_back(make("new\nline", TarType::Regular, "nl"));
  return items;
}

std::string write_tar(const std::vector<Item>& items) {
  StringWriter out;
  TarWriter writer(out);
  for (const Item& it : items) {
    writer.add(it.entry);
    // In pieces, to check that content may arrive in any split.
    for (size_t pos = 0; pos < it.data.size(); pos += 300)
      writer.write_data(it.data.data() + pos, std::min<size_t>(300, it.data.size() - pos));
  }
  writer.finish();
  CHECK(writer.bytes_written() == out.str().size());
  return out.str();
}

std::string stored_path(const TarEntry& e) {
  return e.type == TarType::Directory ? e.path + "/" : e.path;
}

std::string hex(std::string_view s) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::string run_capture(const std::string& command) {
  FILE* p = popen(command.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  char buf[65536];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  REQUIRE(pclose(p) == 0);
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

constexpr const char* kPythonDump = R"PY(
import json, sys, tarfile
def raw(s): return s.encode("utf-8", "surrogateescape").hex()
with tarfile.open(sys.argv[1]) as t:
    for m in t.getmembers():
        data = t.extractfile(m).read() if m.isreg() else b""
        xattrs = {k[13:]: raw(v) for k, v in m.pax_headers.items() if k.startswith("SCHILY.xattr.")}
        print(json.dumps(dict(name=raw(m.name), type=m.type.decode(), mode=m.mode, uid=m.uid,
              gid=m.gid, uname=m.uname, gname=m.gname, mtime=m.mtime, size=m.size,
              linkname=raw(m.linkname), major=m.devmajor, minor=m.devminor, xattrs=xattrs,
              data=data.hex())))
)PY";

}  // namespace

TEST_CASE("layer: tar writer output reads back identically through TarReader") {
  const auto items = awkward_items(true);
  const std::string tar = write_tar(items);
  CHECK(tar.size() % 512 == 0);
  CHECK(tar.substr(tar.size() - 1024) == std::string(1024, '\0'));
  MemoryReader in(tar);
  TarReader reader(in);
  TarEntry e;
  for (const Item& it : items) {
    REQUIRE(reader.next(e));
    CAPTURE(it.entry.path);
    CHECK(e.path == stored_path(it.entry));
    CHECK(e.type == it.entry.type);
    CHECK(e.mode == it.entry.mode);
    CHECK(e.uid == it.entry.uid);
    CHECK(e.gid == it.entry.gid);
    CHECK(e.uname == it.entry.uname);
    CHECK(e.gname == it.entry.gname);
    CHECK(e.mtime == it.entry.mtime);
    CHECK(e.mtime_nsec == it.entry.mtime_nsec);
    CHECK(e.size == it.entry.size);
    CHECK(e.link_target == it.entry.link_target);
    CHECK(e.dev_major == it.entry.dev_major);
    CHECK(e.dev_minor == it.entry.dev_minor);
    CHECK(e.xattrs == it.entry.xattrs);
    CHECK(tar.substr(e.data_offset, e.size) == it.data);
  }
  CHECK_FALSE(reader.next(e));
}

TEST_CASE("layer: tar writer output reads back identically through python tarfile" *
          doctest::skip(!slimage::test::have_tool("python3"))) {
  const auto items = awkward_items(true);
  TempDir dir(scratch_parent(), "slimage-layer-test-");
  write_file_atomic(dir.path() + "/out.tar", write_tar(items));
  write_file_atomic(dir.path() + "/dump.py", kPythonDump);
  std::string dump = run_capture("python3 " + dir.path() + "/dump.py " + dir.path() + "/out.tar");
  std::vector<nlohmann::json> members;
  for (size_t pos = 0, nl; (nl = dump.find('\n', pos)) != std::string::npos; pos = nl + 1)
    members.push_back(nlohmann::json::parse(dump.substr(pos, nl - pos)));
  REQUIRE(members.size() == items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    const TarEntry& want = items[i].entry;
    const auto& got = members[i];
    CAPTURE(want.path);
    CHECK(got["name"] == hex(want.path));  // tarfile drops a directory's trailing '/'
    CHECK(got["type"] == std::string(1, static_cast<char>(want.type)));
    CHECK(got["mode"] == want.mode);
    CHECK(got["uid"] == want.uid);
    CHECK(got["gid"] == want.gid);
    CHECK(got["uname"] == want.uname.str());
    CHECK(got["gname"] == want.gname.str());
    CHECK(got["mtime"].get<double>() == doctest::Approx(want.mtime + want.mtime_nsec * 1e-9));
    CHECK(got["size"] == want.size);
    CHECK(got["linkname"] == hex(want.link_target));
    CHECK(got["major"] == want.dev_major);
    CHECK(got["minor"] == want.dev_minor);
    CHECK(got["xattrs"].size() == want.xattrs.size());
    for (const auto& [name, value] : want.xattrs) CHECK(got["xattrs"][name] == hex(value));
    CHECK(got["data"] == hex(items[i].data));
  }
}

TEST_CASE("layer: tar writer output reads back identically through libarchive") {
  const auto items = awkward_items(true);
  const std::string tar = write_tar(items);
  archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  REQUIRE(archive_read_open_memory(a, tar.data(), tar.size()) == ARCHIVE_OK);
  archive_entry* ae;
  for (const Item& it : items) {
    CAPTURE(it.entry.path);
    REQUIRE(archive_read_next_header(a, &ae) >= ARCHIVE_WARN);
    const char* utf8 = archive_entry_pathname_utf8(ae);
    const char* raw = archive_entry_pathname(ae);
    CHECK((std::string(raw ? raw : "") == stored_path(it.entry) ||
           std::string(utf8 ? utf8 : "") == stored_path(it.entry)));
    CHECK(archive_entry_perm(ae) == it.entry.mode);
    CHECK(archive_entry_uid(ae) == it.entry.uid);
    CHECK(archive_entry_gid(ae) == it.entry.gid);
    CHECK(std::string(archive_entry_uname(ae)) == it.entry.uname.str());
    CHECK(archive_entry_mtime(ae) == it.entry.mtime);
    CHECK(archive_entry_mtime_nsec(ae) == it.entry.mtime_nsec);
    CHECK(static_cast<uint64_t>(archive_entry_size(ae)) == it.entry.size);
    if (it.entry.type == TarType::Symlink)
      CHECK(std::string(archive_entry_symlink(ae)) == it.entry.link_target);
    if (it.entry.type == TarType::Hardlink)
      CHECK(std::string(archive_entry_hardlink(ae)) == it.entry.link_target);
    if (it.entry.type == TarType::CharDevice) CHECK(archive_entry_filetype(ae) == AE_IFCHR);
    if (it.entry.type == TarType::Fifo) CHECK(archive_entry_filetype(ae) == AE_IFIFO);
    CHECK(archive_entry_rdevmajor(ae) == it.entry.dev_major);
    CHECK(archive_entry_rdevminor(ae) == it.entry.dev_minor);
    std::map<std::string, std::string> xattrs;
    archive_entry_xattr_reset(ae);
    const char* name;
    const void* value;
    size_t size;
    while (archive_entry_xattr_next(ae, &name, &value, &size) == ARCHIVE_OK)
      xattrs[name] = std::string(static_cast<const char*>(value), size);
    CHECK(xattrs == it.entry.xattrs);
    std::string data(it.entry.size, '\0');
    CHECK(archive_read_data(a, data.data(), data.size()) == static_cast<la_ssize_t>(data.size()));
    CHECK(data == it.data);
  }
  CHECK(archive_read_next_header(a, &ae) == ARCHIVE_EOF);
  archive_read_free(a);
}

TEST_CASE("layer: tar writer output lists cleanly with GNU tar" *
          doctest::skip(!slimage::test::have_tool("tar"))) {
  const auto items = awkward_items(false);
  TempDir dir(scratch_parent(), "slimage-layer-test-");
  const std::string path = dir.path() + "/out.tar";
  write_file_atomic(path, write_tar(items));
  // stderr too: any warning (unknown keyword, bad header) fails the comparison.
  std::string listing = run_capture("tar --quoting-style=literal -tf " + path + " 2>&1");
  std::string expected;
  for (const Item& it : items) expected += stored_path(it.entry) + "\n";
  CHECK(listing == expected);
  CHECK(run_capture("tar -xOf " + path + " usr/bin/ping 2>&1") == std::string(513, 'p'));
  CHECK(run_capture("tar --xattrs --xattrs-include='*' -tvf " + path + " usr/bin/ping 2>&1")
            .find("usr/bin/ping") != std::string::npos);
}

TEST_CASE("layer: tar writer is deterministic and names PAX headers by basename") {
  const auto items = awkward_items(true);
  const std::string tar = write_tar(items);
  CHECK(tar == write_tar(items));
  // The first PAX header belongs to the long file name.
  const size_t pax = tar.find("PaxHeaders/LLLL");
  REQUIRE(pax != std::string::npos);
  CHECK(pax % 512 == 0);
  CHECK(tar[pax + 156] == 'x');
  CHECK(tar.substr(pax + 100, 8) == std::string("0000644\0", 8));
  CHECK(tar.substr(pax + 136, 12) == std::string("14524770400\0", 12));  // the entry's mtime
  // Records sorted by key (bytewise: upper case first); names kept as raw bytes.
  const size_t capability = tar.find("SCHILY.xattr.security.capability=\x01");
  const size_t comment = tar.find("SCHILY.xattr.user.comment=a=b\n");
  const size_t mtime = tar.find("mtime=1700000000.123456789\n");
  CHECK(capability < comment);
  CHECK(comment < mtime);
  CHECK(mtime != std::string::npos);
  CHECK(tar.find("path=bad\xff\xfe.txt\n") != std::string::npos);
  CHECK(tar.find("hdrcharset") == std::string::npos);
  // No PAX header for an entry ustar holds exactly.
  CHECK(tar.find("PaxHeaders/null") == std::string::npos);
  CHECK(tar.find("PaxHeaders/fifo") == std::string::npos);
}

TEST_CASE("layer: tar writer enforces each regular file's size") {
  StringWriter out;
  TarWriter writer(out);
  Item it = make("f", TarType::Regular, "abc");
  writer.add(it.entry);
  writer.write_data("ab", 2);
  CHECK(error_of([&] { writer.write_data("cd", 2); }).find("f: 1 bytes more than its size of 3") !=
        std::string::npos);
  CHECK(error_of([&] { writer.add(make("g", TarType::Regular).entry); })
            .find("f: 1 content bytes missing") != std::string::npos);
  CHECK(error_of([&] { writer.finish(); }).find("missing at the end") != std::string::npos);
  writer.write_data("c", 1);
  writer.finish();
  CHECK(out.str().size() == 512 + 512 + 1024);
}
