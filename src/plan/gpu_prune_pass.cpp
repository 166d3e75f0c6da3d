// Plan pass (f), after strip and accounting: with --cuda-arch (or the
// profile's cuda_archs), every kept ELF holding fat binaries is scanned and
// its GPU code decided (include/slimage/elf/fatbin_prune.h). The file keeps
// its length, so bytes/bytes_after are untouched and the report's invariant
// stands; the GPU bytes before/after live in Plan::gpu_libraries. A library
// whose containers do not parse exactly is a diagnostic and stays as it is.
#include <sys/mman.h>
#include <unistd.h>

#include "plan_internal.h"
#include "slimage/elf/elf.h"
#include "slimage/util/thread_pool.h"

namespace slimage::plan_detail {

namespace {

// The scan hops from header to header across the whole library (and reads
// what lies outside its fat binaries for stray magics), and the decode wrote
// these bytes around the page cache: the whole file is asked for up front,
// so the hops can find it read ahead. Page cache only: nothing is mapped in.
// On the torch image its effect was within run-to-run noise (the plan's
// `--cuda-arch` cost is mostly the package databases' checksums).
void prefetch(std::span<const uint8_t> bytes) {
  if (bytes.empty()) return;
  const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  uintptr_t begin = reinterpret_cast<uintptr_t>(bytes.data()) & ~(page - 1);
  uintptr_t end = reinterpret_cast<uintptr_t>(bytes.data()) + bytes.size();
  ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_WILLNEED);  // a hint: errors are moot
}

std::string gpu_reason(const GpuLibrary& lib, const GpuSelection& sel) {
  std::string removed;
  for (auto& [label, b] : lib.prune.by_label)
    if (b.after < b.before) removed += (removed.empty() ? "" : ", ") + label;
  std::string s = "GPU code pruned to " + sel.describe() + ": " +
                  human_bytes(lib.prune.before) + " -> " + human_bytes(lib.prune.after) +
                  " in " + std::to_string(lib.prune.changed) + " of " +
                  std::to_string(lib.prune.containers) + " fat binaries (removes " + removed +
                  "; the file keeps its length, freed bytes are zeros)";
  if (lib.prune.left_whole) s += "; " + std::to_string(lib.prune.left_whole) + " left whole";
  return s;
}

}  // namespace

GpuSelection gpu_selection_of(const PlanOptions& options, const Profile& profile) {
  if (options.gpu) return *options.gpu;
  GpuSelection sel;
  for (auto& a : profile.cuda_archs)
    for (auto& t : parse_cuda_archs(a))
      if (std::find(sel.targets.begin(), sel.targets.end(), t) == sel.targets.end()) sel.targets.push_back(t);
  sel.ptx = parse_cuda_ptx(profile.cuda_ptx);
  return sel;
}

void gpu_prune_pass(PlanBuilder& b, Plan& plan) {
  plan.gpu = gpu_selection_of(b.options, b.profile);
  if (!plan.gpu.active()) return;
  // One decision per content: the action carrying the bytes (see strip_pass).
  std::vector<size_t> todo;
  for (size_t i = 0; i < b.nodes.size(); ++i) {
    const Node& n = *b.nodes[i];
    if (!b.elf[i] || b.dropped(n.path) || n.type != FileType::Regular) continue;
    todo.push_back(i);
  }
  std::vector<std::shared_ptr<GpuLibrary>> found(todo.size());
  ByteGate resident(kResidentContentCap);
  parallel_for(todo.size(), b.options.jobs ? b.options.jobs : kIoBoundJobs, [&](size_t k) {
    const Node& n = *b.nodes[todo[k]];
    ByteGate::Hold hold(resident, n.size);
    auto bytes = b.fs.content(n);
    std::string error;
    auto info = parse_elf(bytes, &error);
    if (!info) {
      b.fs.release(n);
      return;
    }
    bool has_sections = false;
    for (auto& s : info->sections)
      has_sections |= s.name == ".nv_fatbin" || s.name == "__nv_relfatbin" || s.name == ".nvFatBinSegment";
    if (!has_sections) {
      b.fs.release(n);
      return;
    }
    prefetch(bytes);
    auto lib = std::make_shared<GpuLibrary>();
    // The scan reads the whole file (the stray-magic pass): release behind it as it goes.
    lib->scan = scan_fatbins(bytes, *info, true,
                             [&](uint64_t offset, uint64_t length) { b.fs.release_range(n, offset, length); });
    if (!lib->scan.ok())
      lib->error = lib->scan.errors.front();
    else
      lib->prune = plan_fatbin_prune(bytes, lib->scan, plan.gpu);
    b.fs.release(n);
    found[k] = std::move(lib);
  });
  for (size_t k = 0; k < todo.size(); ++k) {
    if (!found[k]) continue;
    const Node& n = *b.nodes[todo[k]];
    const GpuLibrary& lib = *found[k];
    if (!lib.error.empty()) {
      b.diagnostics.warn(n.path, "GPU code not pruned, file left as is: " + lib.error);
    } else {
      for (auto& note : lib.prune.notes) b.diagnostics.warn(n.path, note);
    }
    plan.gpu_libraries[n.path] = found[k];
    // Every other name of the same content (hardlinks) shares the decision.
    for (size_t i = 0; i < b.nodes.size(); ++i)
      if (b.nodes[i]->type == FileType::Hardlink && b.nodes[i]->link_target == n.path &&
          !b.dropped(b.nodes[i]->path))
        plan.gpu_libraries[b.nodes[i]->path] = found[k];
    if (!lib.prune.changed_any()) continue;
    Action& a = b.action(n.path);
    std::string why = gpu_reason(lib, plan.gpu);
    if (a.fate == Fate::Strip) {
      a.add_reason(why);
    } else {
      a.kind = ReasonKind::GpuPruned;
      a.reason = why + "; " + a.why();
    }
  }
}

}  // namespace slimage::plan_detail

namespace slimage {

const GpuLibrary* Plan::gpu_prune(std::string_view path) const {
  auto it = gpu_libraries.find(path);
  if (it == gpu_libraries.end() || !it->second->error.empty() || !it->second->prune.changed_any())
    return nullptr;
  return it->second.get();
}

}  // namespace slimage

namespace slimage::plan_detail {

std::string gpu_explain(const Plan& plan, const std::string& path) {
  auto it = plan.gpu_libraries.find(path);
  if (it == plan.gpu_libraries.end()) return "";
  const GpuLibrary& lib = *it->second;
  std::string out = "  GPU code (--cuda-arch " + plan.gpu.describe() + "): ";
  if (!lib.error.empty()) return out + "left as is: " + lib.error + "\n";
  out += std::to_string(lib.scan.containers.size()) + " fat binaries, " + human_bytes(lib.prune.before) +
         " -> " + human_bytes(lib.prune.after) + "\n";
  for (auto& [label, b] : lib.prune.by_label)
    out += "    " + label + ": " + human_bytes(b.before) + " -> " + human_bytes(b.after) + "\n";
  for (auto& [why, count] : lib.prune.why)
    out += "    " + why + (count > 1 ? " (x" + std::to_string(count) + ")" : "") + "\n";
  for (auto& note : lib.prune.notes) out += "    note: " + note + "\n";
  return out;
}

}  // namespace slimage::plan_detail
