// Shared command plumbing (see src/cli/session.h).
#include "session.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "gate_output.h"
#include "slimage/slim/test_command.h"
#include "slimage/util/file.h"
#include "slimage/util/progress.h"

namespace slimage {

Progress::~Progress() { stop_ticker(); }

void Progress::stage_begin(const std::string& stage, uint64_t total_bytes) {
  stop_ticker();
  stage_ = stage;
  total_ = total_bytes;
  start_ = std::chrono::steady_clock::now();
  progress_reset();
  if (quiet_ || total_ == 0) return;
  bool tty = ::isatty(2);
  stopping_ = false;
  ticker_ = std::thread([this, tty] {
    auto period = tty ? std::chrono::milliseconds(250) : std::chrono::milliseconds(5000);
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, period, [this] { return stopping_; })) tick(tty);
  });
}

void Progress::tick(bool tty) {
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  uint64_t done = std::min(progress_done(), total_);
  double rate = s > 0 ? done / s : 0;
  char eta[32] = "";
  if (rate > 0 && done < total_) std::snprintf(eta, sizeof eta, "  ETA %.0f s", (total_ - done) / rate);
  std::fprintf(stderr, "%sslimage: %s%-8s %s / %s  %s/s%s%s", tty ? "\r\033[K" : "", prefix_.c_str(),
               stage_.c_str(), human_bytes(done).c_str(), human_bytes(total_).c_str(),
               human_bytes(static_cast<uint64_t>(rate)).c_str(), eta, tty ? "" : "\n");
}

void Progress::stop_ticker() {
  if (!ticker_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  ticker_.join();
  if (::isatty(2)) std::fprintf(stderr, "\r\033[K");
}

// A stage that ran beside the current one (verify beside the write) ends
// while the current one's live line goes on.
void Progress::stage_end(const std::string& stage, double seconds, const std::string& detail) {
  if (stage == stage_) stop_ticker();
  if (quiet_) return;
  std::lock_guard lock(mu_);  // not in the middle of the ticker's line
  std::fprintf(stderr, "%sslimage: %s%-8s %7.2f s%s%s\n", ::isatty(2) ? "\r\033[K" : "",
               prefix_.c_str(), stage.c_str(), seconds, detail.empty() ? "" : "  ", detail.c_str());
}

void Progress::missing(const std::vector<Missing>& missing) {
  for (auto& m : missing)
    std::fprintf(stderr, "slimage: missing after slimming: %s needs %s\n", m.from.c_str(),
                 m.needed.c_str());
}

void Progress::diagnostics(const std::vector<Diagnostic>& items) { print_diagnostics(items, false); }

std::optional<Platform> platform_option(const CommonOptions& c) {
  if (c.platform.empty()) return std::nullopt;
  return Platform::parse(c.platform);
}

SlimContext slim_context(const CommonOptions& common) {
  SlimContext context;
  context.transport = common.transport;
  context.destination_transport = common.destination_transport;
  context.platform = platform_option(common);
  context.jobs = common.jobs;
  return context;
}

static std::string joined(const std::vector<std::string>& argv) {
  std::string out;
  for (auto& a : argv) out += (out.empty() ? "" : " ") + a;
  return out;
}

int print_refusal(const Refusal& r, bool quiet) {
  const SmokeResult& t = r.test;
  switch (r.kind) {
    case Refusal::Kind::TestFailsOnOriginal:
      std::fprintf(stderr, "--- original image: %s (exit %d) ---\n%s", joined(t.argv).c_str(),
                   t.before_status, clip_output(t.before_output).c_str());
      std::fprintf(stderr, "slimage: error: --test fails on the original image (exit %d), so it cannot "
                           "guard the slimmed one; nothing written\n", t.before_status);
      return kExitError;
    case Refusal::Kind::TestFailsOnSlimmed:
      std::fprintf(stderr, "--- slimmed image: %s (exit %d) ---\n%s", joined(t.argv).c_str(),
                   t.after_status, clip_output(t.after_output).c_str());
      std::fprintf(stderr, "slimage: error: --test passes on the original and fails on the "
                           "slimmed image; nothing written\n");
      return kExitSmokeFailed;
    case Refusal::Kind::Missing:
      print_diagnostics(r.diagnostics, false);
      std::fprintf(stderr, "slimage: error: the slimmed image would not load (%zu missing); "
                           "nothing written (use --force to write anyway)\n", r.missing.size());
      return kExitVerifyFailed;
    case Refusal::Kind::GateFailed: {
      // The gate's lines are the run's output: stdout, as `check` prints them.
      size_t failed = 0;
      for (auto& g : r.gates) {
        std::fputs(gate_report_text(g, "output").c_str(), stdout);
        for (auto& v : g.result.verdicts) failed += v.status == GateVerdict::Status::Fail;
      }
      std::fputs(gate_verdict_text(r.gates).c_str(), stdout);
      std::fflush(stdout);
      std::fprintf(stderr, "slimage: error: the slimmed image fails the gate (%zu rules); nothing written\n",
                   failed);
      return kExitGateFailed;
    }
  }
  return kExitError;
}

void print_diagnostics(const std::vector<Diagnostic>& items, bool quiet) {
  size_t shown = 0;
  for (auto& item : items) {
    if (quiet && item.level == Diagnostic::Level::Warning) continue;
    if (++shown > 50) {
      std::fprintf(stderr, "slimage: … %zu more diagnostics (see --report)\n", items.size() - 50);
      break;
    }
    std::fprintf(stderr, "slimage: %s: %s\n",
                 item.level == Diagnostic::Level::Error ? "error" : "warning",
                 item.to_string().c_str());
  }
}

}  // namespace slimage
