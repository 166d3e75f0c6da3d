// The checking stages of the pipeline: verify (the slimmed closure against
// the input's, beside the write when there is no --test) and test (--test in
// a chroot of both roots). Each ends in a verdict: nothing, or a Refusal.
#include <chrono>

#include "slim_stages.h"

namespace slimage {

void VerifyStage::run() {
  result_ = verify_slimmed(*loaded_.fs, *planned_.after, planned_.runtime, planned_.profile,
                           loaded_.diagnostics, planned_.facts);
}

std::string VerifyStage::detail() const {
  return result_.broken.empty() ? std::string("closure complete")
                                : std::to_string(result_.broken.size()) + " libraries would be missing";
}

// With no --test, verify runs beside the write (its CPU is mostly one core;
// the write's leaves room): staged layers are only output once committed,
// and a failed verify discards them. Then, as only kept content is read
// from there on, the dropped files' scratch blocks are freed beside the
// rest of the write, not by the final cleanup, which otherwise waits for
// the disk to discard them.
void VerifyStage::start(Stages& stages, bool beside) {
  beside_ = beside;
  if (!beside) {
    stages.begin("verify");
    run();
    stages.end(detail());
    return;
  }
  std::promise<void> verified;
  done_ = verified.get_future();
  thread_ = std::jthread([this, verified = std::move(verified)]() mutable {
    try {
      run();
      verified.set_value();
    } catch (...) {
      verified.set_exception(std::current_exception());
      return;
    }
    discard_dropped();
  });
}

std::optional<Refusal> VerifyStage::verdict(Stages& stages, bool force) {
  if (beside_) {  // before the sink sees a byte
    done_.get();
    stages.record("verify", result_.seconds, detail() + " (beside the write)");
  }
  if (result_.broken.empty()) return std::nullopt;
  stages.events().missing(result_.broken);
  if (force) return std::nullopt;
  Refusal r;
  r.kind = Refusal::Kind::Missing;
  r.missing = result_.broken;
  r.diagnostics = loaded_.diagnostics.items();
  return r;
}

void VerifyStage::discard_dropped_beside() {
  thread_ = std::jthread([this] { discard_dropped(); });
}

void VerifyStage::discard_dropped() {
  if (shared_layers_ || (!result_.broken.empty() && !options_.force)) return;
  try {
    loaded_.fs->discard([&](const Node& n) {
      const Action* a = planned_.plan.find(n.path);
      return a && a->fate == Fate::Drop;
    });
  } catch (const std::exception&) {  // best effort: the cleanup frees them anyway
  }
}

std::optional<Refusal> test_image(const LoadedImage& loaded, const Planned& planned,
                                  const SlimOptions& o, Stages& stages) {
  stages.begin("test");
  SmokeOptions test{o.test_command, planned.runtime, runtime_user(loaded.image), o.test_timeout};
  SmokeResult smoke = smoke_test(*loaded.fs, *planned.after, planned.plan, planned.strip, test);
  stages.end("before: exit " + std::to_string(smoke.before_status) + ", after: " +
             (smoke.after_status < 0 ? "not run" : "exit " + std::to_string(smoke.after_status)));
  // A test that fails on the original guards nothing; one that passes there
  // and fails on the slimmed image is what --test is for.
  if (smoke.before_status == 0 && smoke.after_status == 0) return std::nullopt;
  Refusal r;
  r.kind = smoke.before_status != 0 ? Refusal::Kind::TestFailsOnOriginal : Refusal::Kind::TestFailsOnSlimmed;
  r.test = std::move(smoke);
  return r;
}

}  // namespace slimage

namespace slimage {

std::optional<Refusal> check_gate(const LoadedImage& loaded, const Planned& planned, const Written& written,
                                  const SlimOptions& o, Stages& stages, SlimResult& result) {
  auto start = std::chrono::steady_clock::now();
  std::vector<GateOutputLayer> layers;
  for (auto& l : written.layers)
    layers.push_back({l.reused, l.source_index, static_cast<uint64_t>(l.descriptor.size)});
  Summary summary = summarize(planned.plan);
  GateReport gate;
  gate.platform = loaded.image.platform.to_string();
  gate.rules = gate_rules(o.gate.config, o.gate.flags);
  gate.metrics = measure_slimmed(*loaded.fs, planned.plan, layers, written.options.layers == LayerMode::Squash,
                                 summary.before.bytes, summary.after.bytes);
  gate.result = evaluate_gate(gate.rules, gate.metrics);
  size_t failed = 0;
  for (auto& v : gate.result.verdicts) failed += v.status == GateVerdict::Status::Fail;
  stages.record("check", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
                failed ? std::to_string(failed) + " rules failed" : std::string("passed"));
  result.gates.push_back(std::move(gate));
  if (!failed) return std::nullopt;
  Refusal r;
  r.kind = Refusal::Kind::GateFailed;
  r.gates = std::move(result.gates);
  return r;
}

}  // namespace slimage
