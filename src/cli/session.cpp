// Shared command plumbing (see src/cli/session.h).
#include "session.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "gate_output.h"
#include "slimage/slim/test_command.h"
#include "slimage/util/file.h"
#include "slimage/util/progress.h"

namespace slimage {

namespace {

double seconds_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The live lines on stderr. On a terminal: one line per running Progress,
// redrawn in place as one block below everything else printed; a permanent
// line is printed above the block. Elsewhere: a live line is printed as a
// line of its own each time it changes.
class LiveLines {
 public:
  static LiveLines& get() {
    static LiveLines lines;
    return lines;
  }
  bool tty() const { return tty_; }
  // A line equal to the owner's last one (bytes moved, but less than it
  // shows) is not drawn again.
  void set(const void* owner, const std::string& text) {
    std::lock_guard lock(mu_);
    auto it = std::find_if(lines_.begin(), lines_.end(), [&](auto& l) { return l.first == owner; });
    if (it != lines_.end() && it->second == text) return;
    if (it == lines_.end()) lines_.push_back({owner, text});
    else it->second = text;
    if (tty_) redraw();
    else std::fprintf(stderr, "%s\n", text.c_str());
  }
  void remove(const void* owner) {
    std::lock_guard lock(mu_);
    auto it = std::find_if(lines_.begin(), lines_.end(), [&](auto& l) { return l.first == owner; });
    if (it == lines_.end()) return;
    lines_.erase(it);
    if (tty_) redraw();
  }
  void print(const std::string& text) {
    std::lock_guard lock(mu_);
    if (tty_) clear();
    std::fputs(text.c_str(), stderr);
    if (tty_) draw();
  }

 private:
  LiveLines() {
    const char* mode = std::getenv("SLIMAGE_PROGRESS");
    std::string m = mode ? mode : "";
    tty_ = m == "tty" || (m != "plain" && ::isatty(2));
  }
  void clear() {
    if (drawn_ > 0) std::fprintf(stderr, "\033[%zuA\r\033[J", drawn_);
    drawn_ = 0;
  }
  void draw() {
    for (auto& [owner, text] : lines_) std::fprintf(stderr, "%s\n", text.c_str());
    drawn_ = lines_.size();
    std::fflush(stderr);
  }
  void redraw() { clear(), draw(); }
  std::mutex mu_;
  bool tty_ = false;
  std::vector<std::pair<const void*, std::string>> lines_;
  size_t drawn_ = 0;  // lines of the block on screen, the cursor below them
};

std::chrono::milliseconds tick_period(bool tty) {
  if (const char* ms = std::getenv("SLIMAGE_PROGRESS_INTERVAL_MS"); ms && std::atoi(ms) > 0)
    return std::chrono::milliseconds(std::atoi(ms));
  return std::chrono::milliseconds(tty ? 250 : 5000);
}

}  // namespace

void print_stderr(const std::string& text) { LiveLines::get().print(text); }

Progress::~Progress() { stop_ticker(); }

void Progress::stage_begin(const std::string& stage, uint64_t total_bytes) {
  stop_ticker();
  stage_ = stage;
  counter_.reset();
  meter_.reset();
  if (quiet_ || total_bytes == 0) return;
  meter_.emplace(total_bytes, seconds_now());
  stopping_ = false;
  ticker_ = std::thread([this] {
    auto period = tick_period(LiveLines::get().tty());
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, period, [this] { return stopping_; })) tick();
  });
}

void Progress::tick() {
  auto reading = meter_->sample(counter_.done, counter_.skipped, seconds_now());
  if (!reading) return;  // nothing moved: nothing redrawn
  char stage[16];
  std::snprintf(stage, sizeof stage, "%-8s", stage_.c_str());
  LiveLines::get().set(this, "slimage: " + prefix_ + stage + " " + progress_text(*reading));
}

void Progress::stop_ticker() {
  if (!ticker_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  ticker_.join();
  LiveLines::get().remove(this);
}

// A stage that ran beside the current one (verify beside the write) ends
// while the current one's live line goes on.
void Progress::stage_end(const std::string& stage, double seconds, const std::string& detail) {
  if (stage == stage_) stop_ticker();
  if (quiet_) return;
  char line[64];
  std::snprintf(line, sizeof line, "%-8s %7.2f s", stage.c_str(), seconds);
  print_stderr("slimage: " + prefix_ + line + (detail.empty() ? "" : "  ") + detail + "\n");
}

void Progress::missing(const std::vector<Missing>& missing) {
  std::string text;
  for (auto& m : missing) text += "slimage: missing after slimming: " + m.from + " needs " + m.needed + "\n";
  print_stderr(text);
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

// The gate rules that failed, over every platform checked.
static size_t failed_rules(const std::vector<GateReport>& gates) {
  size_t failed = 0;
  for (auto& g : gates)
    for (auto& v : g.result.verdicts) failed += v.status == GateVerdict::Status::Fail;
  return failed;
}

int print_refusal(const Refusal& r, bool quiet) {
  const SmokeResult& t = r.test;
  switch (r.kind) {
    case Refusal::Kind::TestFailsOnOriginal:
      print_stderr("--- original image: " + joined(t.argv) + " (exit " + std::to_string(t.before_status) +
                   ") ---\n" + clip_output(t.before_output) +
                   "slimage: error: --test fails on the original image (exit " +
                   std::to_string(t.before_status) + "), so it cannot guard the slimmed one; nothing written\n");
      return kExitError;
    case Refusal::Kind::TestFailsOnSlimmed:
      print_stderr("--- slimmed image: " + joined(t.argv) + " (exit " + std::to_string(t.after_status) +
                   ") ---\n" + clip_output(t.after_output) +
                   "slimage: error: --test passes on the original and fails on the slimmed image; "
                   "nothing written\n");
      return kExitSmokeFailed;
    case Refusal::Kind::Missing:
      print_diagnostics(r.diagnostics, false);
      print_stderr("slimage: error: the slimmed image would not load (" + std::to_string(r.missing.size()) +
                   " missing); nothing written (use --force to write anyway)\n");
      return kExitVerifyFailed;
    case Refusal::Kind::GateFailed: {
      // The gate's lines are the run's output: stdout, as `check` prints them.
      const size_t failed = failed_rules(r.gates);
      for (auto& g : r.gates) std::fputs(gate_report_text(g, "output").c_str(), stdout);
      std::fputs(gate_verdict_text(r.gates).c_str(), stdout);
      std::fflush(stdout);
      std::fprintf(stderr, "slimage: error: the slimmed image fails the gate (%zu %s); nothing written\n",
                   failed, failed == 1 ? "rule" : "rules");
      return kExitGateFailed;
    }
  }
  return kExitError;
}

std::string refusal_cause(const Refusal& r) {
  switch (r.kind) {
    case Refusal::Kind::TestFailsOnOriginal:
      return "--test fails on the original image (exit " + std::to_string(r.test.before_status) + ")";
    case Refusal::Kind::TestFailsOnSlimmed:
      return "--test fails on the slimmed image (exit " + std::to_string(r.test.after_status) +
             "), passes on the original";
    case Refusal::Kind::Missing:
      if (r.missing.empty()) break;
      return std::to_string(r.missing.size()) + " libraries would be missing: /" + r.missing[0].from +
             " needs " + r.missing[0].needed + (r.missing.size() > 1 ? ", …" : "");
    case Refusal::Kind::GateFailed: {
      const size_t failed = failed_rules(r.gates);
      return "fails the gate (" + std::to_string(failed) + (failed == 1 ? " rule)" : " rules)");
    }
  }
  return "nothing written";
}

std::string shorten_line(std::string text, size_t max) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  if (text.size() <= max) return text;
  size_t cut = max - 3;  // room for "…" (3 bytes)
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) cut--;
  return text.substr(0, cut) + "…";
}

void print_diagnostics(const std::vector<Diagnostic>& items, bool quiet) {
  size_t shown = 0;
  std::string text;
  for (auto& item : items) {
    if (quiet && item.level == Diagnostic::Level::Warning) continue;
    if (++shown > 50) {
      text += "slimage: … " + std::to_string(items.size() - 50) + " more diagnostics (see --report)\n";
      break;
    }
    text += std::string("slimage: ") + (item.level == Diagnostic::Level::Error ? "error" : "warning") +
            ": " + item.to_string() + "\n";
  }
  if (!text.empty()) print_stderr(text);
}

}  // namespace slimage
