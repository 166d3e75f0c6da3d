// slimage: parse the command line, run it, print the one error line.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "slimage/cli/app.h"
#include "slimage/util/error.h"
#include "slimage/util/file.h"

namespace {

// SIGINT/SIGTERM: a watcher thread removes every scratch dir and staged
// output (all are TempDirs), then exits; nothing half-written stays behind.
void watch_signals() {
  static sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread([] {
    int sig = 0;
    sigwait(&set, &sig);
    slimage::remove_all_registered_temp_dirs();
    std::fprintf(stderr, "slimage: interrupted (%s); no output written\n",
                 sig == SIGINT ? "SIGINT" : "SIGTERM");
    std::_Exit(slimage::kExitInterrupted);
  }).detach();
}

}  // namespace

int main(int argc, char** argv) {
  watch_signals();
  try {
    return slimage::run_cli(argc, argv);
  } catch (const slimage::Error& e) {
    std::fprintf(stderr, "slimage: error: %s\n", e.what());
    return slimage::kExitError;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "slimage: error: %s\n", e.what());
    return slimage::kExitError;
  }
}
