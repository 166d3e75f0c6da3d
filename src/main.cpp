// slimage: parse the command line, run it, print the one error line.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "slimage/cli/app.h"
#include "slimage/cli/exit_codes.h"
#include "slimage/slim/test_command.h"
#include "slimage/cli/validate.h"
#include "slimage/util/error.h"
#include "slimage/util/file.h"

namespace {

std::atomic<bool> g_interrupted{false};

// SIGINT/SIGTERM: a watcher thread removes every scratch dir and staged
// output (all are TempDirs or registered temp files), then exits; nothing
// half-written stays behind. Workers still running may re-create a path
// (create_directories) while the first sweep runs, hence the second one.
void watch_signals() {
  static sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread([] {
    int sig = 0;
    sigwait(&set, &sig);
    g_interrupted = true;
    slimage::kill_running_tests();
    slimage::remove_all_registered_temp_dirs();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    slimage::remove_all_registered_temp_dirs();
    std::string written;
    for (auto& name : slimage::committed_outputs()) written += (written.empty() ? "" : ", ") + name;
    std::fprintf(stderr, "slimage: interrupted (%s); %s\n", sig == SIGINT ? "SIGINT" : "SIGTERM",
                 written.empty() ? "no output written"
                                 : ("written before it: " + written + "; nothing else").c_str());
    std::_Exit(slimage::kExitInterrupted);
  }).detach();
}

// The run failed or finished because the watcher is removing its files under
// it: let the watcher report the interrupt and choose the exit code.
int unless_interrupted(int code) {
  while (g_interrupted) ::pause();
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  watch_signals();
  try {
    return unless_interrupted(slimage::run_cli(argc, argv));
  } catch (const slimage::UsageError& e) {
    unless_interrupted(0);
    std::fprintf(stderr, "slimage: error: %s\n", e.what());
    return slimage::kExitUsage;
  } catch (const slimage::Error& e) {
    unless_interrupted(0);
    std::fprintf(stderr, "slimage: error: %s\n", e.what());
    return slimage::kExitError;
  } catch (const std::exception& e) {
    unless_interrupted(0);
    std::fprintf(stderr, "slimage: error: %s\n", e.what());
    return slimage::kExitError;
  }
}
