// Smoke test in a chroot (see include/slimage/slim/smoke.h). Every path is created with
// *at() calls relative to the root's descriptor, O_NOFOLLOW|O_EXCL, in sorted
// order: a merged view never has children under a symlink, so nothing is
// ever written through one.
#include "slimage/slim/smoke.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>

#include "root_runner.h"
#include "slimage/slim/test_command.h"
#include "slimage/util/error.h"
#include "slimage/util/file.h"
#include "slimage/util/io.h"
#include "slimage/util/scratch_meter.h"
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

std::string file_text(const FsView& fs, const char* path) {
  const Node* n = fs.resolve(path);
  if (!n || !n->is_file()) return "";
  auto bytes = fs.content(*n);
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

// What runs in one root, decided before anything runs. Throws Error when it
// cannot run there (a user missing from the image, shell syntax without a shell).
RootRun prepare_run(const FsView& fs, const SmokeOptions& o) {
  RootRun run;
  run.user = resolve_image_user(o.user, file_text(fs, "etc/passwd"), file_text(fs, "etc/group"));
  run.env = container_env(o.runtime.env, run.user);
  run.working_dir = o.runtime.working_dir;
  run.timeout_seconds = o.timeout_seconds;
  if (o.command.empty()) {
    run.argv = o.runtime.entrypoint;
    run.argv.insert(run.argv.end(), o.runtime.cmd.begin(), o.runtime.cmd.end());
    if (run.argv.empty()) fail("--test with no command: the image has no Entrypoint or Cmd to run");
    return run;
  }
  SplitCommand split = split_command(o.command);
  const Node* sh = fs.resolve("bin/sh");
  if (sh && sh->is_file()) {
    run.argv = {"/bin/sh", "-c", o.command};  // the shell splits and expands, as always
  } else if (!split.shell_syntax.empty()) {
    fail("--test '" + o.command + "': '" + split.shell_syntax +
         "' is shell syntax and the image has no /bin/sh; give the command as plain words "
         "(quotes and backslashes work without a shell)");
  } else if (split.argv.empty()) {
    fail("--test '" + o.command + "': no command");
  } else {
    run.argv = split.argv;
  }
  return run;
}

// A materialized root is scratch: its regular files are charged once written
// (the TempDir credits them back when it goes).
void charge_tree(const std::string& dir) {
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
    if (it->is_regular_file(ec) && !it->is_symlink(ec)) {
      uintmax_t size = it->file_size(ec);
      if (!ec) scratch_charge(it->path().string(), size);
      ec.clear();
    }
}

}  // namespace

void materialize(const FsView& fs, const std::string& dir, const Plan* plan, StripMode strip) {
  int root = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) fail(dir + ": " + std::strerror(errno));
  std::map<std::pair<uint32_t, uint64_t>, std::string> first_link;
  std::vector<const Node*> dirs;
  // The root itself: the scratch dir is 0700, which would lock a non-root
  // image user out of "/".
  uint32_t root_mode = 0755, root_uid = 0, root_gid = 0;
  fs.for_each([&](const Node& n) {
    if (n.path.empty()) {
      if (n.type == FileType::Directory) root_mode = n.mode & 07777, root_uid = n.uid, root_gid = n.gid;
      return;
    }
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
  if (::fchown(root, root_uid, root_gid) != 0 || ::fchmod(root, root_mode | 0111) != 0)
    fail(dir + ": chmod: " + std::strerror(errno));
  ::close(root);
}

SmokeResult smoke_test(const FsView& before, const FsView& after, const Plan& plan, StripMode strip,
                       const SmokeOptions& options) {
  SmokeResult r;
  // Both runs are decided first: a command the original cannot run stops
  // here, before anything is materialized; one the slimmed root cannot run
  // is that root's failure.
  RootRun before_run = prepare_run(before, options), after_run;
  std::string after_error;
  try {
    after_run = prepare_run(after, options);
  } catch (const Error& e) {
    after_error = std::string(e.what()) + "\n";
  }
  r.argv = before_run.argv;
  {
    TempDir dir(scratch_parent(), "slimage-test-before-");
    materialize(before, dir.path(), nullptr, strip);
    charge_tree(dir.path());
    RootRunResult run = run_in_root(dir.path(), before_run);
    r.before_status = run.status, r.before_output = std::move(run.output);
  }
  if (r.before_status != 0) return r;  // it guards nothing: the slimmed root is not tried
  if (!after_error.empty()) {
    r.after_status = 127, r.after_output = after_error;
    return r;
  }
  {
    TempDir dir(scratch_parent(), "slimage-test-after-");
    materialize(after, dir.path(), &plan, strip);
    charge_tree(dir.path());
    RootRunResult run = run_in_root(dir.path(), after_run);
    r.after_status = run.status, r.after_output = std::move(run.output);
  }
  return r;
}

}  // namespace slimage
