// Layer tars written in memory from a list of entries, for the merge and
// layer writer tests.
#pragma once
#include <string>
#include <vector>

#include "slimage/layer/tar.h"
#include "slimage/util/io.h"

namespace slimage::test {

struct Spec {
  std::string path;
  TarType type = TarType::Regular;
  std::string content_or_target = {};
};

inline std::string make_tar(const std::vector<Spec>& specs) {
  StringWriter out;
  TarWriter tar(out);
  for (auto& s : specs) {
    TarEntry e;
    e.path = s.path;
    e.type = s.type;
    e.mode = s.type == TarType::Directory ? 0755 : 0644;
    if (s.type == TarType::Regular) e.size = s.content_or_target.size();
    else e.link_target = s.content_or_target;
    tar.add(e);
    if (s.type == TarType::Regular && !s.content_or_target.empty())
      tar.write_data(s.content_or_target.data(), s.content_or_target.size());
  }
  tar.finish();
  return out.str();
}

}  // namespace slimage::test
