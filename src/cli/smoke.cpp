// Smoke test in a chroot (see src/cli/smoke.h). Every path is created with
// *at() calls relative to the root's descriptor, O_NOFOLLOW|O_EXCL, in sorted
// order: a merged view never has children under a symlink, so nothing is
// ever written through one.
#include "smoke.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

#include "slimage/util/error.h"
#include "slimage/util/file.h"
#include "slimage/util/io.h"
#include "slimage/util/strings.h"

namespace slimage {

namespace {

class FdWriter : public Writer {
 public:
  explicit FdWriter(int fd) : fd_(fd) {}
  void write(const void* data, size_t n) override {
    auto* p = static_cast<const char*>(data);
    while (n > 0) {
      ssize_t w = ::write(fd_, p, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        fail(std::string("write: ") + std::strerror(errno));
      }
      p += w, n -= static_cast<size_t>(w);
    }
  }

 private:
  int fd_;
};

void write_file(int root, const FsView& fs, const Node& n, const Plan* plan, StripMode strip) {
  int fd = ::openat(root, n.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) fail(n.path + ": create: " + std::strerror(errno));
  FdWriter w(fd);
  auto bytes = fs.content(n);
  const Action* a = plan ? plan->find(n.path) : nullptr;
  bool done = false;
  const GpuLibrary* gpu = plan ? plan->gpu_prune(n.path) : nullptr;
  if (a && a->fate == Fate::Strip) {
    std::string error, why;
    if (auto info = parse_elf(bytes, &error))
      if (auto result = plan_strip(bytes, *info, strip, &why)) {
        if (gpu)
          write_stripped_patched(bytes, &*result, gpu->prune.patches, w);
        else
          write_stripped(bytes, *result, w);
        done = true;
      }
  }
  if (!done && gpu) {
    write_stripped_patched(bytes, nullptr, gpu->prune.patches, w);
    done = true;
  }
  if (!done && !bytes.empty()) w.write(bytes.data(), bytes.size());
  ::close(fd);
}

// Runs `command` in a chroot of `root` — under /bin/sh if the root has one,
// else split on blanks and run directly (distroless images) — and returns
// its status and output.
int run_in_root(const std::string& root, const std::string& command, bool have_shell,
                std::string* output) {
  std::vector<std::string> argv = {"chroot", root};
  if (have_shell) {
    argv.insert(argv.end(), {"/bin/sh", "-c", command});
  } else {
    for (auto& word : split_any(command, " \t")) argv.push_back(word);
  }
  if (::access("/usr/bin/unshare", X_OK) == 0) {
    // In a private mount namespace: /proc (glibc needs it for the
    // executable's $ORIGIN) and the few device nodes programs expect; all
    // unmounted when the namespace ends.
    static const char* kSetup =
        "r=\"$1\"; shift; mkdir -p \"$r/proc\" \"$r/dev\" && mount -t proc proc \"$r/proc\" || exit 125; "
        "for d in null zero random urandom; do [ -e \"$r/dev/$d\" ] || : > \"$r/dev/$d\"; "
        "mount --bind /dev/$d \"$r/dev/$d\" || exit 125; done; exec chroot \"$r\" \"$@\"";
    argv.erase(argv.begin());  // "chroot": the script runs it
    argv.insert(argv.begin(), {"/usr/bin/unshare", "--mount", "--fork", "--propagation", "private",
                               "/bin/sh", "-c", kSetup, "slimage-test"});
  }
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) fail(std::string("pipe: ") + std::strerror(errno));
  pid_t pid = ::fork();
  if (pid < 0) fail(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    sigset_t all;
    sigemptyset(&all);
    pthread_sigmask(SIG_SETMASK, &all, nullptr);
    ::dup2(pipefd[1], 1);
    ::dup2(pipefd[1], 2);
    ::execvp(args[0], args.data());
    _exit(127);
  }
  ::close(pipefd[1]);
  char buf[4096];
  ssize_t k;
  while ((k = ::read(pipefd[0], buf, sizeof buf)) > 0)
    if (output->size() < (1 << 20)) output->append(buf, static_cast<size_t>(k));
  ::close(pipefd[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

void materialize(const FsView& fs, const std::string& dir, const Plan* plan, StripMode strip) {
  int root = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) fail(dir + ": " + std::strerror(errno));
  std::map<std::pair<uint32_t, uint64_t>, std::string> first_link;
  std::vector<const Node*> dirs;
  fs.for_each([&](const Node& n) {
    if (n.path.empty()) return;
    const char* p = n.path.c_str();
    switch (n.type) {
      case FileType::Directory:
        if (::mkdirat(root, p, 0700) != 0) fail(n.path + ": mkdir: " + std::strerror(errno));
        dirs.push_back(&n);
        return;
      case FileType::Symlink:
        if (::symlinkat(n.link_target.c_str(), root, p) != 0)
          fail(n.path + ": symlink: " + std::strerror(errno));
        ::fchownat(root, p, n.uid, n.gid, AT_SYMLINK_NOFOLLOW);
        return;
      case FileType::Regular:
      case FileType::Hardlink: {
        auto [it, first] = first_link.emplace(std::make_pair(n.data_layer, n.data_offset), n.path);
        if (!first && ::linkat(root, it->second.c_str(), root, p, 0) == 0) return;
        write_file(root, fs, n, plan, strip);
        break;
      }
      case FileType::Fifo:
        if (::mkfifoat(root, p, 0600) != 0) fail(n.path + ": mkfifo: " + std::strerror(errno));
        break;
      default:
        return;  // device nodes: a chroot needs none for a smoke test
    }
    ::fchownat(root, p, n.uid, n.gid, AT_SYMLINK_NOFOLLOW);
    ::fchmodat(root, p, n.mode & 07777, 0);
  });
  for (const Node* d : dirs) {  // modes last, so a 0555 dir could be filled first
    ::fchownat(root, d->path.c_str(), d->uid, d->gid, AT_SYMLINK_NOFOLLOW);
    ::fchmodat(root, d->path.c_str(), d->mode & 07777, 0);
  }
  ::close(root);
}

SmokeResult smoke_test(const FsView& before, const FsView& after, const Plan& plan, StripMode strip,
                       const std::string& command) {
  SmokeResult r;
  auto shell = [](const FsView& fs) {
    const Node* n = fs.resolve("bin/sh");
    return n && n->is_file();
  };
  {
    TempDir dir(scratch_parent(), "slimage-test-before-");
    materialize(before, dir.path(), nullptr, strip);
    r.before_status = run_in_root(dir.path(), command, shell(before), &r.before_output);
  }
  {
    TempDir dir(scratch_parent(), "slimage-test-after-");
    materialize(after, dir.path(), &plan, strip);
    r.after_status = run_in_root(dir.path(), command, shell(after), &r.after_output);
  }
  return r;
}

}  // namespace slimage
