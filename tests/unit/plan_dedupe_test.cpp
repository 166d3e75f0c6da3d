// Plan pass (f), dedupe: identical kept files become a hardlink in the same
// layer, a relative symlink to the lowest layer's copy for shared libraries
// whose $ORIGIN neighbours match, nothing otherwise. Roots are generated with
// gcc and seen through LayeredFs, which puts each path in a layer by prefix
// and lets a test change an owner, as an image's merged view would.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "slimage/plan/plan.h"
#include "slimage/rootfs/dir_fs.h"
#include "slimage/util/file.h"

namespace slimage {
namespace {

bool have_gcc() { return std::system("gcc --version >/dev/null 2>&1") == 0; }

class LayeredFs : public FsView {
 public:
  LayeredFs(const std::string& root, const std::map<std::string, uint32_t>& layers) : base_(root) {
    base_.for_each([&](const Node& n) {
      Node copy = n;
      for (auto& [prefix, layer] : layers)
        if (n.path.starts_with(prefix)) copy.layer = layer;
      nodes_[n.path] = {copy, &n};
    });
  }
  Node& edit(const std::string& path) { return nodes_.at(path).first; }
  const Node* lookup(std::string_view path) const override {
    auto it = nodes_.find(std::string(path));
    return it == nodes_.end() ? nullptr : &it->second.first;
  }
  std::vector<const Node*> list_dir(std::string_view dir) const override {
    std::vector<const Node*> out;
    for (const Node* n : base_.list_dir(dir)) out.push_back(lookup(n->path));
    return out;
  }
  void for_each(const std::function<void(const Node&)>& fn) const override {
    for (auto& [path, entry] : nodes_) fn(entry.first);
  }
  std::span<const uint8_t> content(const Node& node) const override {
    return base_.content(*nodes_.at(node.path).second);
  }

 private:
  DirFs base_;
  std::map<std::string, std::pair<Node, const Node*>> nodes_;
};

struct DedupeRoot {
  TempDir tmp{"/tmp", "slimage-dedupe-"};
  std::string root = tmp.path() + "/root";
  const std::string cuda = "usr/local/cuda/lib64";
  const std::string wheel = "usr/lib/python3/dist-packages/nvidia/x/lib";

  std::string at(const std::string& p) const { return root + "/" + p; }
  void gcc(const std::string& out, const std::string& source, const std::string& flags) {
    std::string src = tmp.path() + "/" + basename_of(out) + ".c";
    write_file_atomic(src, source);
    std::filesystem::create_directories(at(dirname_of(out)));
    std::string cmd = "gcc -o '" + at(out) + "' '" + src + "' " + flags + " 2>/dev/null";
    REQUIRE_MESSAGE(std::system(cmd.c_str()) == 0, cmd);
  }
  void copy(const std::string& from, const std::string& to) {
    std::filesystem::create_directories(at(dirname_of(to)));
    std::filesystem::copy_file(at(from), at(to));
  }
  void write(const std::string& p, const std::string& text) {
    std::filesystem::create_directories(at(dirname_of(p)));
    std::ofstream(at(p)) << text;
  }

  // libfoo.so.1 needs libdep.so.1 through RUNPATH $ORIGIN; both directories
  // get libfoo and a libdep, identical unless `differing_dep`. A data file
  // twice in one layer, and an executable in both layers.
  explicit DedupeRoot(bool differing_dep = false) {
    gcc(cuda + "/libdep.so.1", "int dep(void) { return 1; }", "-shared -fPIC -Wl,-soname,libdep.so.1");
    if (differing_dep)
      gcc(wheel + "/libdep.so.1", "int dep(void) { return 2; }", "-shared -fPIC -Wl,-soname,libdep.so.1");
    else
      copy(cuda + "/libdep.so.1", wheel + "/libdep.so.1");
    gcc(cuda + "/libfoo.so.1", "int dep(void);\nint foo(void) { return dep() + 41; }",
        "-shared -fPIC -Wl,-soname,libfoo.so.1 -L'" + at(cuda) +
            "' -l:libdep.so.1 -Wl,--enable-new-dtags,-rpath,'$ORIGIN'");
    copy(cuda + "/libfoo.so.1", wheel + "/libfoo.so.1");
    gcc("usr/bin/tool", "int main(void) { return 0; }", "");
    copy("usr/bin/tool", "opt/x/bin/tool");
    write("usr/share/a/data.bin", std::string(8192, 'x'));
    write("usr/share/b/data.bin", std::string(8192, 'x'));
  }
  // usr/local (and usr/bin, usr/share) in layer 0, the wheel dir and opt in layer 1.
  std::unique_ptr<LayeredFs> fs() const {
    return std::make_unique<LayeredFs>(
        root, std::map<std::string, uint32_t>{{"usr/lib/", 1}, {"opt/", 1}});
  }
};

Plan plan_of(const FsView& fs, bool no_dedupe = false) {
  PlanOptions o;
  o.profile = load_profile("default");
  o.jobs = 2;
  o.no_dedupe = no_dedupe;
  Diagnostics d;
  return build_plan(fs, ImageRuntime{}, o, d);
}

// A link accounts for its bytes: what strip saved, the link's own bytes, and what dedupe saved.
void check_invariant(const Plan& plan) {
  for (auto& [path, a] : plan.actions)
    if (a.fate == Fate::Link) {
      CHECK(a.bytes_deduped > 0);
      CHECK(a.bytes >= a.bytes_after + a.bytes_deduped);
    }
}

TEST_CASE("plan: dedupe hardlinks an identical file in the same layer" * doctest::skip(!have_gcc())) {
  DedupeRoot r;
  auto fs = r.fs();
  Plan plan = plan_of(*fs);
  const Action* a = plan.find("usr/share/b/data.bin");
  REQUIRE(a);
  CHECK(fate_name(a->fate) == std::string("link"));
  CHECK(reason_kind_name(a->kind) == std::string("dedupe"));
  CHECK(a->link == Action::LinkKind::Hardlink);
  CHECK(a->link_to() == "usr/share/a/data.bin");
  CHECK(a->bytes_after == 0);
  CHECK(a->bytes_deduped == 8192);
  CHECK(plan.find("usr/share/a/data.bin")->fate == Fate::Keep);
  CHECK(plan.find("usr/share/a/data.bin")->link == Action::LinkKind::None);
  check_invariant(plan);
}

TEST_CASE("plan: dedupe symlinks a shared library across layers to the lowest copy" *
          doctest::skip(!have_gcc())) {
  DedupeRoot r;
  auto fs = r.fs();
  Plan plan = plan_of(*fs);
  const Action* a = plan.find(r.wheel + "/libfoo.so.1");
  REQUIRE(a);
  CHECK(a->fate == Fate::Link);
  CHECK(a->link == Action::LinkKind::Symlink);
  CHECK(a->link_to() == "../../../../../../local/cuda/lib64/libfoo.so.1");
  CHECK(a->link_copy() == r.cuda + "/libfoo.so.1");
  CHECK(a->bytes_after == a->link_to().size());
  CHECK(a->reason.find("its $ORIGIN paths ($ORIGIN)") != std::string::npos);
  // The explanation names the copy.
  std::string why = explain(plan, *fs, r.wheel + "/libfoo.so.1");
  CHECK(why.find("written as symlink -> ../../../../../../local/cuda/lib64/libfoo.so.1 (the copy " +
                 r.cuda + "/libfoo.so.1)") != std::string::npos);
  check_invariant(plan);
}

TEST_CASE("plan: dedupe never symlinks an executable" * doctest::skip(!have_gcc())) {
  DedupeRoot r;
  auto fs = r.fs();
  Plan plan = plan_of(*fs);
  const Action* a = plan.find("opt/x/bin/tool");
  REQUIRE(a);
  CHECK(a->fate != Fate::Link);
  CHECK(a->link == Action::LinkKind::None);
}

TEST_CASE("plan: dedupe keeps a library whose $ORIGIN neighbour differs" * doctest::skip(!have_gcc())) {
  DedupeRoot r(/*differing_dep=*/true);
  auto fs = r.fs();
  Plan plan = plan_of(*fs);
  const Action* a = plan.find(r.wheel + "/libfoo.so.1");
  REQUIRE(a);
  CHECK(a->fate != Fate::Link);
  CHECK(a->reason.find("not deduplicated with " + r.cuda + "/libfoo.so.1: through $ORIGIN: " +
                       r.wheel + "/libdep.so.1 and " + r.cuda + "/libdep.so.1 differ") !=
        std::string::npos);
}

TEST_CASE("plan: dedupe needs the same mode and owner" * doctest::skip(!have_gcc())) {
  DedupeRoot r;
  ::chmod(r.at("usr/share/b/data.bin").c_str(), 0600);
  auto fs = r.fs();
  Plan plan = plan_of(*fs);
  CHECK(plan.find("usr/share/b/data.bin")->fate == Fate::Keep);
  fs->edit(r.wheel + "/libfoo.so.1").uid = 1000;
  Plan owned = plan_of(*fs);
  CHECK(owned.find(r.wheel + "/libfoo.so.1")->fate != Fate::Link);
  CHECK(owned.find(r.wheel + "/libdep.so.1")->fate == Fate::Link);  // its owner is unchanged
}

TEST_CASE("plan: --no-dedupe and \"dedupe\": false link nothing" * doctest::skip(!have_gcc())) {
  DedupeRoot r;
  auto fs = r.fs();
  auto links = [](const Plan& plan) {
    size_t n = 0;
    for (auto& [path, a] : plan.actions) n += a.fate == Fate::Link || a.link != Action::LinkKind::None;
    return n;
  };
  CHECK(links(plan_of(*fs)) == 3);  // data.bin, libfoo, libdep
  CHECK(links(plan_of(*fs, /*no_dedupe=*/true)) == 0);
  PlanOptions o;
  o.profile = parse_profile_text(R"({"extends": "default", "dedupe": false})", "t.json");
  Diagnostics d;
  CHECK(links(build_plan(*fs, ImageRuntime{}, o, d)) == 0);
}

}  // namespace
}  // namespace slimage
