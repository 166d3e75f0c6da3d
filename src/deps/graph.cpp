// Graph queries (see include/slimage/deps/graph.h): the edges into a path and
// the shortest chains from a root, walked backwards breadth-first, which is
// what `slimage why PATH` prints. Graphs can have cycles (libA needs libB,
// libB's string names libA): a chain never visits a path twice.
#include "slimage/deps/graph.h"

#include <deque>
#include <unordered_map>

namespace slimage {

const char* how_name(How how) {
  switch (how) {
    case How::Entrypoint: return "entrypoint";
    case How::Shebang: return "shebang";
    case How::ShellCommand: return "shell command";
    case How::Interp: return "interpreter";
    case How::Preload: return "preload";
    case How::PythonExtension: return "python extension";
    case How::ProfileRoot: return "profile";
    case How::CliRoot: return "command line";
    case How::KeptElf: return "kept ELF";
    case How::Rpath: return "rpath";
    case How::LdLibraryPath: return "LD_LIBRARY_PATH";
    case How::Runpath: return "runpath";
    case How::LdCache: return "ld.so.cache";
    case How::DefaultDir: return "default dir";
    case How::DirectPath: return "direct path";
    case How::AlreadyLoaded: return "already loaded";
    case How::DlopenFamily: return "dlopen family";
    case How::StringHeuristic: return "string heuristic";
    case How::Symlink: return "symlink";
    case How::Hwcaps: return "glibc-hwcaps";
    case How::ConfigPlugin: return "config plugin";
    case How::PythonLoad: return "python load";
    case How::PluginDir: return "plugin dir";
  }
  return "unknown";
}

std::vector<std::vector<const Edge*>> Graph::chains_to(const std::string& path,
                                                       size_t max_chains) const {
  std::vector<std::vector<const Edge*>> chains;
  if (!needed.count(path) || max_chains == 0) return chains;
  std::unordered_map<std::string, std::vector<const Edge*>> into;
  for (auto& e : edges) into[e.to].push_back(&e);
  // Partial chains, target-last; expanded at most max_chains times per path
  // so a dense graph stays linear.
  struct Partial {
    std::string at;
    std::vector<const Edge*> edges;  // from `at` to the target
  };
  std::deque<Partial> queue{{path, {}}};
  std::unordered_map<std::string, size_t> expansions;
  while (!queue.empty() && chains.size() < max_chains) {
    Partial p = std::move(queue.front());
    queue.pop_front();
    if (expansions[p.at]++ >= max_chains) continue;
    auto it = into.find(p.at);
    if (it == into.end()) continue;
    for (const Edge* e : it->second) {
      if (e->from.empty()) {
        std::vector<const Edge*> chain{e};
        chain.insert(chain.end(), p.edges.begin(), p.edges.end());
        chains.push_back(std::move(chain));
        if (chains.size() == max_chains) break;
        continue;
      }
      bool loop = e->from == path;
      for (const Edge* q : p.edges) loop = loop || q->to == e->from;
      if (loop) continue;
      Partial next{e->from, {e}};
      next.edges.insert(next.edges.end(), p.edges.begin(), p.edges.end());
      queue.push_back(std::move(next));
    }
  }
  return chains;
}

}  // namespace slimage
