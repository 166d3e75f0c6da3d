// The loader's search for one DT_NEEDED name (ELF-RESOLUTION.md).
// glibc (elf/dl-load.c _dl_map_object): RPATH of the requester and up its
// loader chain unless it has RUNPATH, LD_LIBRARY_PATH, RUNPATH, ld.so.cache
// (system dirs skipped under DF_1_NODEFLIB), default dirs; in each directory
// glibc-hwcaps/<level>/ first. musl (ldso/dynlink.c load_library):
// LD_LIBRARY_PATH, RPATH-or-RUNPATH up the chain, /etc/ld-musl-$ARCH.path or
// /lib:/usr/local/lib:/usr/lib. Quirk: paths stay raw ("$ORIGIN/../lib"
// appended to the directory the object was opened from) and are resolved
// component by component, because the kernel applies ".." after symlinks.
#include "search.h"

#include <fnmatch.h>

#include "slimage/rootfs/sparse_spill.h"
#include "slimage/util/budget.h"
#include "slimage/util/thread_pool.h"

namespace slimage::deps {

std::string Object::origin() const {
  std::string dir = dirname_of(main_program ? real : opened);
  return "/" + dir;
}

// Iterative: the chain's depth is the input's to choose.
const Object::Up& Object::up() const {
  if (up_.done) return up_;
  std::vector<const Object*> chain;
  for (const Object* o = this; o && !o->up_.done; o = o->loader.get()) chain.push_back(o);
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    const Object& o = **it;
    const Up* parent = o.loader ? &o.loader->up_ : nullptr;  // done: nearer the top
    o.up_.top = parent ? parent->top : &o;
    o.up_.rpath = o.info->rpath ? &o : parent ? parent->rpath : nullptr;
    o.up_.paths = o.info->rpath || o.info->runpath ? &o : parent ? parent->paths : nullptr;
    o.up_.done = true;
  }
  return up_;
}

bool glob_match(const std::string& pattern, const std::string& name) {
  return ::fnmatch(pattern.c_str(), name.c_str(), 0) == 0;
}

std::string display(const std::string& raw) {
  size_t i = raw.find_first_not_of('/');
  return i == std::string::npos ? std::string() : raw.substr(i);
}

Triplet triplet_for(uint16_t machine, uint8_t elf_class, uint8_t data) {
  bool is64 = elf_class == 2;
  switch (machine) {
    case 62:
      if (!is64) return {{"x86_64-linux-gnux32"}, "x86_64", {}};
      return {{"x86_64-linux-gnu"}, "x86_64", {"x86-64-v4", "x86-64-v3", "x86-64-v2"}};
    case 3: return {{"i386-linux-gnu"}, "i686", {}};
    case 183: return {{"aarch64-linux-gnu"}, "aarch64", {}};
    case 40: return {{"arm-linux-gnueabihf", "arm-linux-gnueabi"}, "v7l", {}};
    case 21:
      if (data == 1) return {{"powerpc64le-linux-gnu"}, "power9", {"power10", "power9"}};
      return {{"powerpc64-linux-gnu"}, "power8", {}};
    case 22: return {{"s390x-linux-gnu"}, "z13", {"z16", "z15", "z14", "z13"}};
    case 243: return {{"riscv64-linux-gnu"}, "riscv64", {}};
    case 258: return {{"loongarch64-linux-gnu"}, "loongarch64", {}};
    default: return {{}, machine_name(machine), {}};
  }
}

Search::Search(const FsView& fs, const ResolveOptions& options, Diagnostics& diagnostics)
    : fs_(fs), options_(options), diagnostics_(diagnostics),
      facts_(options.facts ? options.facts : make_elf_facts()) {
  if (facts_->content_id == 0) facts_->content_id = fs.content_id();
  if (facts_->content_id != fs.content_id()) facts_ = make_elf_facts();  // other bytes
}

}  // namespace slimage::deps

std::shared_ptr<slimage::ElfFacts> slimage::make_elf_facts() {
  return std::make_shared<ElfFacts>();
}

namespace slimage::deps {

void Search::warn(const std::string& message) {
  if (warned_.insert(message).second) warnings_.push_back(message);
}

bool Search::host_provided(const std::string& name) const {
  std::string base = basename_of(name);
  for (auto& glob : options_.host_provided)
    if (glob_match(glob, base)) return true;
  return false;
}

// ---- ELF cache ------------------------------------------------------------

static void parse_into(const FsView& fs, Diagnostics& diagnostics, const std::string& real,
                       ElfEntry& e) {
  e.parsed = true;
  const Node* node = fs.lookup(real);
  if (!node || !node->is_file()) return;
  if (const ElfSummary* s = fs.elf_summary(*node)) {  // low-disk mode, a big ELF file
    e.info = s->info;
    if (!e.info) diagnostics.warn(real, s->parse_error);
    return;
  }
  if (fs.unspilled_digest(*node)) return;  // not ELF: low-disk mode spills the rest
  auto bytes = fs.content(*node);
  if (!is_elf(bytes)) {
    fs.release(*node);
    return;
  }
  std::string error;
  e.info = parse_elf(bytes, &error);
  if (!e.info) diagnostics.warn(real, error);
  fs.release(*node);
}

ElfEntry* Search::entry(const std::string& real) {
  auto& slot = facts_->entries[real];
  if (!slot) slot = std::make_unique<ElfEntry>();
  return slot.get();
}

const ElfInfo* Search::elf(const std::string& real) {
  ElfEntry* e = entry(real);
  if (!e->parsed) parse_into(fs_, diagnostics_, real, *e);
  return e->info ? &*e->info : nullptr;
}

// Parsing reads file heads and tails through mappings; for big libraries
// those are disk reads (their bytes went around the page cache).
void Search::parse_all(const std::vector<std::string>& reals) {
  std::vector<std::pair<std::string, ElfEntry*>> todo;
  for (auto& r : reals)
    if (ElfEntry* e = entry(r); !e->parsed) todo.emplace_back(r, e);
  parallel_for(todo.size(), kIoBoundJobs, [&](size_t i) {
    parse_into(fs_, diagnostics_, todo[i].first, *todo[i].second);
  });
}

void Search::scan_strings(const std::vector<std::string>& reals) {
  std::vector<std::pair<const Node*, ElfEntry*>> todo;
  for (auto& r : reals) {
    ElfEntry* e = entry(r);
    const Node* node = fs_.lookup(r);
    if (e->info && !e->strings_done && node) todo.emplace_back(node, e);
    e->strings_done = true;
  }
  parallel_for(todo.size(), kIoBoundJobs, [&](size_t i) {
    auto& [node, e] = todo[i];
    if (const ElfSummary* s = fs_.elf_summary(*node)) {  // low-disk mode, a big ELF file
      e->strings = s->strings;
      return;
    }
    e->strings = library_name_strings(fs_.content(*node), *e->info);
    fs_.release(*node);
  });
}

// ---- candidates -----------------------------------------------------------

std::optional<Found> Search::try_file(const std::string& raw, const ElfInfo& requester) {
  auto [it, fresh] = lookups_.try_emplace(raw);
  if (fresh) {
    check_budget(Budget::SearchProbes, "image library search", lookups_.size());
    const Node* node = fs_.resolve(raw, true, &it->second.real);
    it->second.node = node && node->is_file() ? node : nullptr;
  }
  if (!it->second.node) return std::nullopt;
  const std::string& real = it->second.real;
  const ElfInfo* info = elf(real);
  if (!info) return std::nullopt;
  if (!info->compatible_with(requester)) {
    warn(real + ": skipped as a candidate: " + machine_name(info->machine) + " ELFCLASS" +
         std::to_string(info->elf_class == 2 ? 64 : 32) + " does not match the requester");
    return std::nullopt;
  }
  Found f;
  f.opened = display(raw);
  f.real = real;
  f.info = info;
  return f;
}

bool Search::dir_in_view(const std::string& dir) {
  auto [known, fresh] = dir_exists_.try_emplace(dir, false);
  if (fresh) {
    const Node* n = fs_.resolve(dir);
    known->second = n && n->type == FileType::Directory;
  }
  return known->second;
}

std::optional<Found> Search::probe(const std::string& dir, const std::string& name, const ElfInfo& requester,
                                   bool hwcaps) {
  if (!dir_in_view(dir)) return std::nullopt;  // holds nothing
  check_budget(Budget::SearchProbes, "image library search", ++probes_);
  return try_dir(dir, name, requester, hwcaps);
}

std::optional<Found> Search::try_dir(const std::string& dir, const std::string& name,
                                     const ElfInfo& requester, bool hwcaps) {
  std::string base = dir.empty() || dir.back() != '/' ? dir + "/" : dir;
  if (auto f = try_file(base + name, requester)) return f;
  if (!hwcaps) return std::nullopt;
  for (auto& level : triplet_for(requester.machine, requester.elf_class, requester.data).hwcaps) {
    if (!dir_in_view(base + "glibc-hwcaps/" + level)) continue;
    if (auto f = try_file(base + "glibc-hwcaps/" + level + "/" + name, requester)) {
      warn(f->real + ": only a glibc-hwcaps/" + level + " build exists: loads only on CPUs with " +
           level);
      return f;
    }
  }
  return std::nullopt;
}

std::vector<std::string> Search::default_dirs(const ElfInfo& requester) const {
  std::vector<std::string> dirs;
  auto t = triplet_for(requester.machine, requester.elf_class, requester.data);
  for (auto& m : t.multiarch) {
    dirs.push_back("/lib/" + m);
    dirs.push_back("/usr/lib/" + m);
  }
  if (requester.elf_class == 2) {
    dirs.push_back("/lib64");
    dirs.push_back("/usr/lib64");
  }
  dirs.push_back("/lib");
  dirs.push_back("/usr/lib");
  return dirs;
}

// ---- path lists and tokens ------------------------------------------------

static bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

std::vector<SearchDir> Search::expand(const std::string& list, const Object* owner, How how,
                                      const std::string& source, Flavor flavor,
                                      const ElfInfo& machine) {
  std::vector<SearchDir> out;
  std::string seps = how == How::LdLibraryPath && flavor == Flavor::Glibc ? ":;" : ":";
  std::vector<std::string> elements;
  for (size_t i = 0;;) {
    size_t j = list.find_first_of(seps, i);
    elements.push_back(list.substr(i, j == std::string::npos ? std::string::npos : j - i));
    if (j == std::string::npos) break;
    i = j + 1;
  }
  auto triplet = triplet_for(machine.machine, machine.elf_class, machine.data);
  for (auto& element : elements) {
    if (element.empty()) {
      warn(source + ": empty element (the current directory) skipped");
      continue;
    }
    std::vector<std::string> alternatives{""};
    bool via_origin = false, drop = false;
    for (size_t i = 0; i < element.size() && !drop;) {
      if (element[i] != '$' || (how == How::LdLibraryPath && flavor == Flavor::Musl)) {
        for (auto& a : alternatives) a += element[i];
        i++;
        continue;
      }
      size_t start = i + 1, end;
      std::string token;
      if (start < element.size() && element[start] == '{') {
        end = element.find('}', start);
        if (end == std::string::npos) end = element.size() - 1;
        token = element.substr(start + 1, end - start - 1);
        end++;
      } else {
        end = start;
        while (end < element.size() && ident_char(element[end])) end++;
        token = element.substr(start, end - start);
      }
      std::string literal = element.substr(i, end - i);
      i = end;
      if (token == "ORIGIN") {
        if (!owner) {
          drop = true;
          break;
        }
        via_origin = true;
        for (auto& a : alternatives) a += owner->origin();
      } else if (flavor == Flavor::Musl) {
        warn(source + ": musl ignores the whole path list (" + literal + " is not $ORIGIN)");
        return {};
      } else if (token == "LIB") {
        std::vector<std::string> libs{machine.elf_class == 2 ? "lib64" : "lib"};
        for (auto& m : triplet.multiarch) libs.push_back("lib/" + m);
        warn(source + ": $LIB depends on the loader's build; tried " + libs[0] +
             (libs.size() > 1 ? " and " + libs[1] : ""));
        std::vector<std::string> next;
        for (auto& a : alternatives)
          for (auto& l : libs) next.push_back(a + l);
        alternatives = std::move(next);
      } else if (token == "PLATFORM") {
        warn(source + ": $PLATFORM depends on the CPU; assumed " + triplet.platform);
        for (auto& a : alternatives) a += triplet.platform;
      } else {
        for (auto& a : alternatives) a += literal;  // unknown token: kept literally
      }
    }
    if (drop) continue;
    for (auto& a : alternatives) {
      if (a.empty() || a[0] != '/') {
        warn(source + ": relative element \"" + a + "\" (relative to the current directory) skipped");
        continue;
      }
      out.push_back({a, how, (via_origin ? "$ORIGIN from " : "") + source});
    }
  }
  return out;
}

}  // namespace slimage::deps
