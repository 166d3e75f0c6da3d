// The `--test` runner (see root_runner.h). Everything the child needs —
// paths, argv, envp, the PATH candidates — is built before fork(): the
// child of a threaded process may only make plain system calls. The mount
// points (proc, dev/null, …) are created beforehand with *at() calls that
// never follow a symlink, so a hostile root cannot aim a mount outside
// itself; the mounts live in the child's own namespace and vanish with it.
// What runc does, for comparison: https://github.com/opencontainers/runc
// (libcontainer/init_linux.go: setupUser, finalizeNamespace).
#include "root_runner.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <set>
#include <thread>

#include "slimage/util/error.h"
#include "slimage/util/strings.h"

namespace slimage {

namespace {

// Makes `dir/name` (a directory, or an empty file to bind a device over)
// unless it exists; true if it is now a directory/file and not a symlink.
bool make_mount_point(int dir, const char* name, bool directory) {
  if (directory) {
    ::mkdirat(dir, name, 0555);
  } else {
    int fd = ::openat(dir, name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd >= 0) ::close(fd);
  }
  struct stat st;
  if (::fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return false;
  return directory ? S_ISDIR(st.st_mode) : (S_ISREG(st.st_mode) || S_ISCHR(st.st_mode));
}

// Mount targets below `root`: proc, then the device nodes programs expect.
std::vector<std::pair<std::string, std::string>> prepare_mounts(const std::string& root) {
  std::vector<std::pair<std::string, std::string>> mounts;  // {source, target}; source "" = proc
  int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail(root + ": " + std::strerror(errno));
  if (make_mount_point(fd, "proc", true)) mounts.push_back({"", root + "/proc"});
  if (make_mount_point(fd, "dev", true)) {
    int dev = ::openat(fd, "dev", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    for (const char* d : {"null", "zero", "random", "urandom"})
      if (dev >= 0 && make_mount_point(dev, d, false))
        mounts.push_back({std::string("/dev/") + d, root + "/dev/" + d});
    if (dev >= 0) ::close(dev);
  }
  ::close(fd);
  return mounts;
}

std::string env_value(const std::vector<std::string>& env, const std::string& name) {
  for (auto& e : env)
    if (e.size() > name.size() && e.compare(0, name.size(), name) == 0 && e[name.size()] == '=')
      return e.substr(name.size() + 1);
  return "";
}

// In the forked child, before exec: fd 2 is the pipe the test's output is
// captured from, so this reaches the result, not slimage's stderr.
void say(const char* a, const char* b = "", const char* c = "") {
  for (const char* s : {"slimage --test: ", a, b, c, "\n"}) {
    ssize_t ignored = ::write(2, s, std::strlen(s));  // prints: into the captured output
    (void)ignored;
  }
}

// Keeps the first and the last bytes of a stream; counts what it cut.
class Capture {
 public:
  void add(const char* p, size_t n) {
    total_ += n;
    size_t to_head = std::min(n, kHead - std::min(kHead, head_.size()));
    head_.append(p, to_head);
    tail_.append(p + to_head, n - to_head);
    if (tail_.size() > 2 * kTail) tail_.erase(0, tail_.size() - kTail);
  }
  std::string text() const {
    uint64_t kept = head_.size() + tail_.size();
    if (kept == total_) return head_ + tail_;
    return head_ + "\n[… " + std::to_string(total_ - kept) + " bytes not kept …]\n" + tail_;
  }

 private:
  static constexpr size_t kHead = 64 << 10, kTail = 512 << 10;
  std::string head_, tail_;
  uint64_t total_ = 0;
};

// Process groups of the runs in progress, for kill_running_tests().
std::mutex g_running_mu;
std::set<pid_t> g_running;

}  // namespace

void kill_running_tests() {
  std::lock_guard lock(g_running_mu);
  for (pid_t group : g_running) ::kill(-group, SIGKILL);
}

RootRunResult run_in_root(const std::string& root, const RootRun& run) {
  if (run.argv.empty()) fail("--test: nothing to run");
  auto mounts = prepare_mounts(root);
  std::string cwd = run.working_dir.empty() ? "/" : run.working_dir;
  // argv[0] as execvp(3) would find it, but in the image's PATH, not ours.
  std::vector<std::string> candidates;
  if (run.argv[0].find('/') != std::string::npos) {
    candidates.push_back(run.argv[0]);
  } else {
    for (auto& dir : split_any(env_value(run.env, "PATH"), ":"))
      candidates.push_back((dir.empty() ? std::string(".") : dir) + "/" + run.argv[0]);
  }
  std::vector<char*> argv, envp;
  for (auto& a : run.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (auto& e : run.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  std::vector<gid_t> groups(run.user.groups.begin(), run.user.groups.end());

  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) fail(std::string("pipe: ") + std::strerror(errno));
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) fail(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    pthread_sigmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    if (null_fd >= 0) ::dup2(null_fd, 0);
    ::dup2(pipefd[1], 1);
    ::dup2(pipefd[1], 2);
    // Without a mount namespace (no privilege for one), the root runs without /proc.
    if (::unshare(CLONE_NEWNS) == 0 && ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0) {
      for (auto& [source, target] : mounts) {
        int rc = source.empty() ? ::mount("proc", target.c_str(), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr)
                                : ::mount(source.c_str(), target.c_str(), nullptr, MS_BIND, nullptr);
        if (rc != 0) say("mount ", target.c_str(), std::strerror(errno));
      }
    }
    if (::chroot(root.c_str()) != 0 || ::chdir("/") != 0) say("chroot: ", std::strerror(errno)), _exit(125);
    if (::chdir(cwd.c_str()) != 0) say("WorkingDir ", cwd.c_str(), ": no such directory in the image"), _exit(126);
    if (::setgroups(groups.size(), groups.data()) != 0 || ::setgid(run.user.gid) != 0 ||
        ::setuid(run.user.uid) != 0)
      say("cannot become the image user: ", std::strerror(errno)), _exit(126);
    // If slimage dies (SIGKILL, an interrupt's _Exit), so does the test. Set
    // after setuid, which clears it; the getppid check closes the race.
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) _exit(125);
    int error = ENOENT;
    for (auto& path : candidates) {
      ::execve(path.c_str(), argv.data(), envp.data());
      if (errno != ENOENT && errno != ENOTDIR) error = errno;
    }
    if (error == ENOENT) say(run.argv[0].c_str(), ": not found in the image's PATH");
    else say(run.argv[0].c_str(), ": ", std::strerror(error));
    _exit(error == ENOENT ? 127 : 126);
  }
  ::setpgid(pid, pid);  // as the child does: no race with the kill below
  {
    std::lock_guard lock(g_running_mu);
    g_running.insert(pid);
  }
  ::close(pipefd[1]);
  if (null_fd >= 0) ::close(null_fd);

  RootRunResult result;
  Capture capture;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(run.timeout_seconds);
  bool open = true, exited = false;
  int status = 0;
  char buf[65536];
  while (!exited) {
    if (open) {
      struct pollfd p = {pipefd[0], POLLIN, 0};
      if (::poll(&p, 1, 100) > 0) {
        ssize_t k = ::read(pipefd[0], buf, sizeof buf);
        if (k > 0) capture.add(buf, static_cast<size_t>(k));
        else if (k == 0 || errno != EINTR) open = false;
      }
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    exited = ::waitpid(pid, &status, WNOHANG) == pid;
    if (!exited && std::chrono::steady_clock::now() >= deadline) {
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      exited = result.timed_out = true;
    }
  }
  // The container ends with its first process: so do whatever it left behind.
  ::kill(-pid, SIGKILL);
  {
    std::lock_guard lock(g_running_mu);
    g_running.erase(pid);
  }
  ::fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
  for (ssize_t k; open && (k = ::read(pipefd[0], buf, sizeof buf)) > 0;) capture.add(buf, static_cast<size_t>(k));
  ::close(pipefd[0]);
  result.output = capture.text();
  if (result.timed_out) {
    result.status = 124;
    result.output += "[slimage: --test timed out after " + std::to_string(run.timeout_seconds) +
                     " s; its process group was killed]\n";
  } else {
    result.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  return result;
}

}  // namespace slimage
