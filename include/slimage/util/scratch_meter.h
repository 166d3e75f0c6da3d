// Scratch bytes, measured: every byte slimage writes outside the destination
// (decoded layer tars, staged output layers, --test roots, copies of reused
// blobs) is charged to the file it went to as it is written, and credited
// back when it is freed (a hole punched over dropped content, a staged blob
// renamed into the destination, a scratch dir removed). The meter keeps the
// bytes in use now and the peak since the last reset, process-wide: the
// numbers the report and the summary print. Logical bytes, not blocks: a
// filesystem's block rounding and metadata are not counted.
// A budget (slim --scratch-budget SIZE) turns the meter into a limit:
// writers charge before they write, and a charge that would bring the bytes
// in use past it throws, so the bytes are never written.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace slimage {

// `bytes` more are written to `path` (a file under a scratch dir): called
// before writing them. Over the budget (if one is set) it throws Error and
// charges nothing.
void scratch_charge(const std::string& path, uint64_t bytes);
// `bytes` of `path` were freed (a hole punched); never below zero.
void scratch_credit(const std::string& path, uint64_t bytes);
// `path` left scratch (removed, or renamed into the destination): whatever
// it was charged is credited back.
void scratch_forget(const std::string& path);
// Every file charged under `dir` (a scratch dir being removed).
void scratch_forget_tree(const std::string& dir);

uint64_t scratch_in_use();
uint64_t scratch_peak();
// Starts a new peak from what is in use now (each slim run, and tests).
void scratch_reset_peak();

// The limit scratch_charge enforces, process-wide (nullopt: none, the
// default). Its error reads "NAME exceeded: …; ADVICE".
struct ScratchBudget {
  uint64_t bytes = 0;
  std::string name;    // "--scratch-budget 20.0 MiB"
  std::string advice;  // what to do about it
};
void scratch_set_budget(std::optional<ScratchBudget> budget);
std::optional<ScratchBudget> scratch_budget();

}  // namespace slimage
